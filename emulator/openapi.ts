/**
 * Checks HTTP requests and replies against Twilio's published OpenAPI specs
 * (`@twilio-alpha/mcp/twilio-oai/spec/json`: Sync v1, Api 2010-04-01, Studio v2, Serverless v1).
 *
 * Small API, reused by the emulator, the tests and the flow-deploy tool:
 *   checkRequest({method, path, query, form, headers}) -> string[]   (empty = conforms)
 *   checkResponse({method, path, status, body})        -> string[]
 *   findOperation(method, path)                         -> the matched operation, if any
 *
 * `path` is either the emulator's form `/sync/v1/Services/...` (Twilio domain as first segment)
 * or a full Twilio URL `https://sync.twilio.com/v1/Services/...`; a `?query` part is merged into
 * `query`. Form and query values are the raw strings a client sends; they are converted to the
 * parameter's type (integer, boolean, JSON object, array of repeated keys) before validation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isObject } from './json-values';
import { addTwilioFormats } from './openapi-formats';
import { SchemaConverter, type JsonSchema } from './openapi-schema';

export type ParamBag = Record<string, string | string[] | undefined>;
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface RequestShape {
  method: string;
  path: string;
  query?: ParamBag;
  form?: ParamBag;
  headers?: HeaderBag;
}

export interface ResponseShape {
  method: string;
  path: string;
  status: number;
  /** Parsed JSON body; `undefined` for an empty body. */
  body?: unknown;
}

/** Twilio domains served by the three specs, keyed by the emulator's first path segment. */
export const SPEC_FILES: Record<string, string> = {
  sync: 'twilio_sync_v1.json',
  api: 'twilio_api_v2010.json',
  studio: 'twilio_studio_v2.json',
  serverless: 'twilio_serverless_v1.json',
};

export interface OperationMatch {
  /** `sync`, `api` or `studio`. */
  domain: string;
  operationId: string;
  method: string;
  /** The spec's path template, e.g. `/v1/Services/{ServiceSid}/Documents/{Sid}`. */
  template: string;
  pathParams: Record<string, string>;
}

interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

interface OperationSpec {
  operationId: string;
  /** Unique across the specs (operationIds are not): prefix for compiled-schema cache keys. */
  key: string;
  parameters: ParameterSpec[];
  /** Form-body schema (properties + required), when the operation takes a body. */
  form?: { properties: Record<string, JsonSchema>; required: string[] };
  /** status -> JSON schema of the reply, or null when the reply has no body. */
  responses: Record<string, JsonSchema | null>;
}

interface PathEntry {
  domain: string;
  template: string;
  pattern: RegExp;
  paramNames: string[];
  /** Number of literal characters: the most specific template wins (`Flows/Validate` over `Flows/{Sid}`). */
  specificity: number;
  methods: Record<string, OperationSpec>;
}

/** Headers with a meaning for Twilio: sending one an operation does not declare is a mistake. */
const TWILIO_CONDITIONAL_HEADERS = ['if-match', 'if-none-match', 'x-twilio-webhook-enabled'];

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Shape of every Twilio error reply (not described in the specs, but stable across the API). */
const TWILIO_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    code: { type: 'integer' },
    message: { type: 'string' },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer' },
    details: { type: 'object' },
  },
  required: ['code', 'message', 'more_info', 'status'],
  additionalProperties: false,
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function valuesOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Finds the spec folder inside the installed `@twilio-alpha/mcp` package. */
export function defaultSpecDir(): string {
  const pkg = require.resolve('@twilio-alpha/mcp/package.json');
  return path.join(path.dirname(pkg), 'twilio-oai', 'spec', 'json');
}

export class OpenApiChecker {
  private readonly ajv: Ajv;
  private readonly entries: PathEntry[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly errorValidator: ValidateFunction;

  constructor(specDir: string = defaultSpecDir()) {
    this.ajv = addTwilioFormats(new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true }));
    for (const [domain, file] of Object.entries(SPEC_FILES)) {
      const document = JSON.parse(fs.readFileSync(path.join(specDir, file), 'utf8')) as Record<string, unknown>;
      this.index(domain, document);
    }
    this.errorValidator = this.ajv.compile(TWILIO_ERROR_SCHEMA);
  }

  /** Every operation of the specs, for coverage reports and tests. */
  operations(): Array<{ domain: string; method: string; template: string; operationId: string }> {
    return this.entries.flatMap((entry) =>
      Object.entries(entry.methods).map(([method, op]) => ({
        domain: entry.domain,
        method,
        template: entry.template,
        operationId: op.operationId,
      })),
    );
  }

  findOperation(method: string, requestPath: string): OperationMatch | undefined {
    const located = this.locate(method, requestPath);
    return 'match' in located ? located.match : undefined;
  }

  checkRequest(request: RequestShape): string[] {
    const located = this.locate(request.method, request.path);
    if (!('match' in located)) return [located.problem];
    const { match, entry, queryFromPath } = located;
    const op = entry.methods[match.method];
    const problems: string[] = [];
    const where = `${op.operationId}:`;

    for (const param of op.parameters.filter((p) => p.in === 'path')) {
      const value = match.pathParams[param.name];
      problems.push(
        ...this.checkValue(`${where} path ${param.name}`, param.schema, [value], `${op.key}:path:${param.name}`),
      );
    }

    const query: ParamBag = { ...queryFromPath, ...(request.query ?? {}) };
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    for (const [name, raw] of Object.entries(query)) {
      if (raw === undefined) continue;
      const param = queryParams.find((p) => p.name === name);
      if (!param) {
        problems.push(`${where} unknown query parameter "${name}"`);
        continue;
      }
      problems.push(
        ...this.checkValue(`${where} query ${name}`, param.schema, valuesOf(raw), `${op.key}:query:${name}`),
      );
    }
    for (const param of queryParams) {
      if (param.required && valuesOf(query[param.name]).length === 0) {
        problems.push(`${where} missing required query parameter "${param.name}"`);
      }
    }

    problems.push(...this.checkHeaders(where, op, request.headers ?? {}));
    problems.push(...this.checkForm(where, op, request.form ?? {}));
    return problems;
  }

  checkResponse(response: ResponseShape): string[] {
    const located = this.locate(response.method, response.path);
    if (!('match' in located)) return [located.problem];
    const op = located.entry.methods[located.match.method];
    const where = `${op.operationId} reply ${response.status}:`;
    const status = String(response.status);

    if (!(status in op.responses)) {
      if (response.status >= 400) return this.report(where, this.errorValidator, response.body, 'body');
      return [`${where} status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    }
    const schema = op.responses[status];
    if (schema === null) {
      return response.body === undefined ? [] : [`${where} must have an empty body`];
    }
    if (response.body === undefined) return [`${where} must have a JSON body`];
    const validate = this.compile(`${op.key}:reply:${status}`, schema);
    return this.report(where, validate, response.body, 'body');
  }

  // ---- indexing -------------------------------------------------------------------------------

  private index(domain: string, document: Record<string, unknown>): void {
    const converter = new SchemaConverter(document);
    const paths = isObject(document.paths) ? document.paths : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const paramNames: string[] = [];
      const regexBody = template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const param = /^\{([^}]+)\}$/.exec(part);
          if (!param) return escapeRegExp(part);
          paramNames.push(param[1]);
          return '([^/]+)';
        })
        .join('');
      const methods: Record<string, OperationSpec> = {};
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (isObject(operation)) {
          methods[method.toUpperCase()] = this.operationSpec(
            converter,
            operation,
            `${domain} ${method.toUpperCase()} ${template}`,
          );
        }
      }
      this.entries.push({
        domain,
        template,
        pattern: new RegExp(`^${regexBody}$`),
        paramNames,
        specificity: template.replace(/\{[^}]+\}/g, '').length,
        methods,
      });
    }
  }

  private operationSpec(converter: SchemaConverter, operation: Record<string, unknown>, key: string): OperationSpec {
    const requestOptions = { closeObjects: true, nullableEnumRefs: false };
    const replyOptions = { closeObjects: true, nullableEnumRefs: true };
    const parameters: ParameterSpec[] = [];
    for (const raw of Array.isArray(operation.parameters) ? operation.parameters : []) {
      const param = isObject(raw) && typeof raw.$ref === 'string' ? converter.resolveRef(raw.$ref) : raw;
      if (!isObject(param) || typeof param.name !== 'string') continue;
      if (param.in !== 'path' && param.in !== 'query' && param.in !== 'header') continue;
      parameters.push({
        name: param.name,
        in: param.in,
        required: param.required === true,
        schema: converter.convert(param.schema, requestOptions),
      });
    }

    let form: OperationSpec['form'];
    const body = isObject(operation.requestBody) ? operation.requestBody : undefined;
    const content = body && isObject(body.content) ? body.content : undefined;
    const formContent = content?.['application/x-www-form-urlencoded'];
    if (isObject(formContent)) {
      const schema = converter.convert(formContent.schema, requestOptions);
      form = {
        properties: (isObject(schema.properties) ? schema.properties : {}) as Record<string, JsonSchema>,
        required: Array.isArray(schema.required) ? (schema.required as string[]) : [],
      };
    }

    const responses: Record<string, JsonSchema | null> = {};
    for (const [status, reply] of Object.entries(isObject(operation.responses) ? operation.responses : {})) {
      const replyContent = isObject(reply) && isObject(reply.content) ? reply.content : undefined;
      const json = replyContent?.['application/json'];
      responses[status] = isObject(json) ? converter.convert(json.schema, replyOptions) : null;
    }
    return { operationId: String(operation.operationId), key, parameters, form, responses };
  }

  // ---- matching -------------------------------------------------------------------------------

  private locate(
    method: string,
    requestPath: string,
  ): { match: OperationMatch; entry: PathEntry; queryFromPath: ParamBag } | { problem: string } {
    const parsed = splitTwilioPath(requestPath);
    if (!parsed) return { problem: `not a Twilio API path: ${requestPath}` };
    const candidates = this.entries
      .filter((entry) => entry.domain === parsed.domain && entry.pattern.test(parsed.specPath))
      .sort((a, b) => b.specificity - a.specificity);
    const entry = candidates[0];
    if (!entry) return { problem: `no operation in the ${parsed.domain} spec matches ${parsed.specPath}` };
    const upper = method.toUpperCase();
    if (!entry.methods[upper]) {
      return {
        problem: `${upper} is not an operation of ${entry.template} (allowed: ${Object.keys(entry.methods).join(', ')})`,
      };
    }
    const groups = entry.pattern.exec(parsed.specPath) ?? [];
    const pathParams: Record<string, string> = {};
    entry.paramNames.forEach((name, i) => {
      pathParams[name] = safeDecode(groups[i + 1] ?? '');
    });
    return {
      match: {
        domain: entry.domain,
        operationId: entry.methods[upper].operationId,
        method: upper,
        template: entry.template,
        pathParams,
      },
      entry,
      queryFromPath: parsed.query,
    };
  }

  // ---- value checks ---------------------------------------------------------------------------

  private checkHeaders(where: string, op: OperationSpec, headers: HeaderBag): string[] {
    const problems: string[] = [];
    const lower: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = valuesOf(value);
    const declared = op.parameters.filter((p) => p.in === 'header');
    for (const param of declared) {
      const values = lower[param.name.toLowerCase()] ?? [];
      if (values.length === 0) {
        if (param.required) problems.push(`${where} missing required header "${param.name}"`);
        continue;
      }
      problems.push(
        ...this.checkValue(`${where} header ${param.name}`, param.schema, values, `${op.key}:header:${param.name}`),
      );
    }
    for (const name of TWILIO_CONDITIONAL_HEADERS) {
      if (lower[name] && !declared.some((p) => p.name.toLowerCase() === name)) {
        problems.push(`${where} header "${name}" is not accepted by this operation`);
      }
    }
    return problems;
  }

  private checkForm(where: string, op: OperationSpec, form: ParamBag): string[] {
    const sent = Object.entries(form).filter(([, v]) => v !== undefined);
    if (!op.form) {
      return sent.length === 0
        ? []
        : [`${where} takes no body parameters, got ${sent.map(([k]) => `"${k}"`).join(', ')}`];
    }
    const problems: string[] = [];
    for (const [name, raw] of sent) {
      const schema = op.form.properties[name];
      if (!schema) {
        problems.push(`${where} unknown form parameter "${name}"`);
        continue;
      }
      problems.push(...this.checkValue(`${where} form ${name}`, schema, valuesOf(raw), `${op.key}:form:${name}`));
    }
    for (const name of op.form.required) {
      if (valuesOf(form[name]).length === 0) problems.push(`${where} missing required form parameter "${name}"`);
    }
    return problems;
  }

  /** Converts raw string values to the schema's type, then validates them. */
  private checkValue(label: string, schema: JsonSchema, raw: string[], cacheKey: string): string[] {
    const converted = coerce(schema, raw);
    if ('problem' in converted) return [`${label} ${converted.problem}`];
    const validate = this.compile(cacheKey, schema);
    return this.report(label, validate, converted.value, '', raw);
  }

  private compile(key: string, schema: JsonSchema): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private report(label: string, validate: ValidateFunction, value: unknown, root: string, raw?: string[]): string[] {
    if (validate(value)) return [];
    const got = raw ? `; got ${JSON.stringify(raw.length === 1 ? raw[0] : raw)}` : '';
    return (validate.errors ?? []).map((error) => `${label} ${describeError(error, root)}${got}`.replace(/\s+/g, ' '));
  }
}

function describeError(error: ErrorObject, root: string): string {
  const at = `${root}${error.instancePath}`;
  const prefix = at ? `${at} ` : '';
  if (error.keyword === 'additionalProperties') {
    return `${prefix}has unknown property "${String(error.params.additionalProperty)}"`;
  }
  if (error.keyword === 'enum') {
    return `${prefix}must be one of [${(error.params.allowedValues as unknown[]).map(String).join(', ')}]`;
  }
  return `${prefix}${error.message ?? error.keyword}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `/sync/v1/...` or `https://sync.twilio.com/v1/...` -> domain, path inside the spec, query. */
export function splitTwilioPath(
  requestPath: string,
): { domain: string; specPath: string; query: ParamBag } | undefined {
  let domain: string;
  let rest: string;
  let search: string;
  const absolute = /^https?:\/\/([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com(\/[^?#]*)?(\?[^#]*)?/i.exec(requestPath);
  if (absolute) {
    domain = absolute[1].toLowerCase();
    rest = absolute[2] ?? '/';
    search = absolute[3] ?? '';
  } else {
    const local = /^\/([a-z]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(requestPath);
    if (!local) return undefined;
    domain = local[1];
    rest = local[2] ?? '/';
    search = local[3] ?? '';
  }
  if (!(domain in SPEC_FILES)) return undefined;
  return { domain, specPath: rest, query: paramBagFromSearch(search) };
}

/** `?a=1&a=2&b=x` -> `{a: ['1', '2'], b: 'x'}`. */
export function paramBagFromSearch(search: string): ParamBag {
  const bag: ParamBag = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const existing = bag[key];
    if (existing === undefined) bag[key] = value;
    else bag[key] = [...valuesOf(existing), value];
  }
  return bag;
}

function schemaTypes(schema: JsonSchema): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === 'string');
  return [];
}

/** Raw form/query strings -> typed value for validation, as Twilio's servers read them. */
function coerce(schema: JsonSchema, raw: string[]): { value: unknown } | { problem: string } {
  const types = schemaTypes(schema);
  if (types.includes('array')) {
    const items = (typeof schema.items === 'object' && schema.items !== null ? schema.items : {}) as JsonSchema;
    const values: unknown[] = [];
    for (const one of raw) {
      const converted = coerceScalar(items, one);
      if ('problem' in converted) return converted;
      values.push(converted.value);
    }
    return { value: values };
  }
  if (raw.length !== 1) return { problem: `must be given once, got ${raw.length} values` };
  return coerceScalar(schema, raw[0]);
}

function coerceScalar(schema: JsonSchema, raw: string): { value: unknown } | { problem: string } {
  const types = schemaTypes(schema);
  if (types.includes('integer')) {
    if (!/^-?\d+$/.test(raw.trim())) return { problem: `must be an integer; got ${JSON.stringify(raw)}` };
    return { value: Number(raw.trim()) };
  }
  if (types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) return { problem: `must be a number; got ${JSON.stringify(raw)}` };
    return { value: n };
  }
  if (types.includes('boolean')) {
    const lower = raw.toLowerCase();
    if (lower !== 'true' && lower !== 'false') return { problem: `must be true or false; got ${JSON.stringify(raw)}` };
    return { value: lower === 'true' };
  }
  if (types.includes('object')) {
    // Object parameters travel as JSON text (Sync's Data, for example).
    try {
      return { value: JSON.parse(raw) as unknown };
    } catch {
      return { problem: `must be JSON text; got ${JSON.stringify(raw.slice(0, 80))}` };
    }
  }
  return { value: raw };
}

let shared: OpenApiChecker | undefined;

/** The checker for the installed specs, loaded on first use. */
export function defaultChecker(): OpenApiChecker {
  shared ??= new OpenApiChecker();
  return shared;
}

export function checkRequest(request: RequestShape): string[] {
  return defaultChecker().checkRequest(request);
}

export function checkResponse(response: ResponseShape): string[] {
  return defaultChecker().checkResponse(response);
}

export function findOperation(method: string, requestPath: string): OperationMatch | undefined {
  return defaultChecker().findOperation(method, requestPath);
}
