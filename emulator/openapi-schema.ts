/**
 * Turns an OpenAPI 3.0 schema from Twilio's specs into a plain JSON Schema that Ajv can compile.
 *
 * - `$ref`s to `#/components/schemas/...` are inlined (the specs have no recursive schemas).
 * - `nullable: true` becomes a `null` type (and a `null` enum member).
 * - Object schemas that list properties get `additionalProperties: false` (when `closeObjects`),
 *   so an invented field in a reply is reported instead of silently accepted.
 * - Object formats such as `uri-map` become "every value is a URI string".
 * - Documentation keywords (`description`, `example`, `x-twilio`, ...) are dropped.
 */
import { isObject } from './json-values';
import { OBJECT_FORMATS, isKnownFormat } from './openapi-formats';

export type JsonSchema = { [keyword: string]: unknown };

export interface SchemaConversionOptions {
  /** Add `additionalProperties: false` to object schemas that list their properties. */
  closeObjects: boolean;
  /**
   * Let a property that `$ref`s an enum also be null. Twilio's spec generator cannot mark a `$ref`
   * nullable, yet the API (and the specs' own examples) send e.g. `reason_conference_ended: null`.
   */
  nullableEnumRefs: boolean;
}

/** Keywords copied as they are. */
const PLAIN_KEYWORDS = [
  'type',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'required',
] as const;

export class SchemaConverter {
  constructor(private readonly document: Record<string, unknown>) {}

  /** Look up `#/components/schemas/name` (or any local JSON pointer). */
  resolveRef(ref: string): Record<string, unknown> {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = this.document;
    for (const part of ref.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      node = isObject(node) ? node[key] : undefined;
    }
    if (!isObject(node)) throw new Error(`unresolvable $ref ${ref}`);
    return node;
  }

  convert(schema: unknown, options: SchemaConversionOptions, seen: string[] = []): JsonSchema {
    if (!isObject(schema)) return {};
    if (typeof schema.$ref === 'string') {
      if (seen.includes(schema.$ref)) throw new Error(`recursive $ref ${schema.$ref}`);
      return this.convert(this.resolveRef(schema.$ref), options, [...seen, schema.$ref]);
    }

    const out: JsonSchema = {};
    for (const keyword of PLAIN_KEYWORDS) {
      if (schema[keyword] !== undefined) out[keyword] = schema[keyword];
    }
    // OpenAPI 3.0 boolean exclusive bounds -> JSON Schema numeric ones.
    if (schema.exclusiveMinimum === true && typeof schema.minimum === 'number') {
      out.exclusiveMinimum = schema.minimum;
      delete out.minimum;
    }
    if (schema.exclusiveMaximum === true && typeof schema.maximum === 'number') {
      out.exclusiveMaximum = schema.maximum;
      delete out.maximum;
    }

    this.convertFormat(schema, out);

    if (schema.items !== undefined) out.items = this.convert(schema.items, options, seen);
    for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = schema[combinator];
      if (Array.isArray(list)) out[combinator] = list.map((s) => this.convert(s, options, seen));
    }

    if (isObject(schema.properties)) {
      const properties: Record<string, JsonSchema> = {};
      for (const [name, propertySchema] of Object.entries(schema.properties)) {
        properties[name] = this.convertProperty(propertySchema, options, seen);
      }
      out.properties = properties;
      if (out.type === undefined) out.type = 'object';
    }
    if (schema.additionalProperties !== undefined) {
      out.additionalProperties =
        typeof schema.additionalProperties === 'boolean'
          ? schema.additionalProperties
          : this.convert(schema.additionalProperties, options, seen);
    } else if (options.closeObjects && isObject(schema.properties)) {
      out.additionalProperties = false;
    }

    if (schema.nullable === true) makeNullable(out);
    return out;
  }

  private convertProperty(schema: unknown, options: SchemaConversionOptions, seen: string[]): JsonSchema {
    const converted = this.convert(schema, options, seen);
    if (
      options.nullableEnumRefs &&
      isObject(schema) &&
      typeof schema.$ref === 'string' &&
      Array.isArray(converted.enum)
    ) {
      makeNullable(converted);
    }
    return converted;
  }

  private convertFormat(schema: Record<string, unknown>, out: JsonSchema): void {
    const format = schema.format;
    if (typeof format !== 'string') return;
    if (OBJECT_FORMATS.has(format) || schema.type === 'object') {
      // `uri-map`: an object whose values are links.
      if (format === 'uri-map' && schema.properties === undefined) {
        out.additionalProperties = { type: 'string', format: 'uri' };
      }
      return;
    }
    if (!isKnownFormat(format)) throw new Error(`spec uses unregistered format "${format}"`);
    out.format = format;
  }
}

function makeNullable(schema: JsonSchema): void {
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (Array.isArray(schema.type) && !schema.type.includes('null')) schema.type = [...schema.type, 'null'];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
}
