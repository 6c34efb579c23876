/**
 * The relay's config file: one entry per task (the job input's `task` picks it), each saying how
 * to call an HTTP API and how to turn its answer into the job's result. Format and example in
 * relay/README.md.
 *
 * Everything is checked at start: the shape, the Liquid templates (parsed), the JSONata mapping
 * (compiled) and the environment variables the headers name (they must be set). A problem is one
 * ConfigError whose message names the file and the field.
 */
import fs from 'node:fs';
import jsonata from 'jsonata';
import { Liquid, type Template } from 'liquidjs';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY = { attempts: 3, delayMs: 500, maxDelayMs: 5_000 };

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field === '' ? '' : `${field}: `}${problem}`);
    this.name = 'ConfigError';
  }
}

/** A header whose value comes from an environment variable (never from the file). */
export interface HeaderSource {
  env: string;
  prefix: string;
}

export interface TaskConfig {
  name: string;
  method: Template[];
  url: Template[];
  body: Template[] | undefined;
  /** Sent as Content-Type when there is a body. */
  contentType: string;
  headers: Record<string, HeaderSource>;
  /** Per attempt; always cut to what is left before the job's deadline. */
  timeoutMs: number;
  retry: { attempts: number; delayMs: number; maxDelayMs: number };
  /** The JSONata expression turning the API's answer into the result, and its source. */
  result: jsonata.Expression;
  resultSource: string;
}

export interface RelayConfig {
  file: string;
  tasks: Map<string, TaskConfig>;
  /** Every environment variable the headers read, with its value (kept out of logs). */
  headerValues: Map<string, string>;
}

/** Liquid for URLs: every `{{ }}` output is percent-encoded (`| raw` to insert as is). */
export const urlLiquid = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  outputEscape: encodeURIComponent,
});
/** Liquid for JSON bodies: every `{{ }}` output is a JSON value (`| raw` to insert as is). */
export const jsonLiquid = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  outputEscape: 'json',
});
/** Liquid for other bodies and the method: outputs as plain text. */
export const textLiquid = new Liquid({ strictVariables: true, strictFilters: true, ownPropertyOnly: true });

const TASK_KEYS = ['request', 'timeoutMs', 'retry', 'result'];
const REQUEST_KEYS = ['method', 'url', 'headers', 'body', 'contentType'];
const RETRY_KEYS = ['attempts', 'delayMs', 'maxDelayMs'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the relay sets itself. */
const RESERVED_HEADERS = ['content-length', 'host', 'transfer-encoding', 'connection'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isJsonContentType(contentType: string): boolean {
  return /^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType.trim());
}

/** Reads and checks the config file; throws ConfigError. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      '',
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '', `is not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(raw, file, env);
}

/** Throws the ConfigError for `field`. */
type Fail = (field: string, problem: string) => never;

function rejectUnknownKeys(object: Record<string, unknown>, keys: string[], at: string, fail: Fail): void {
  for (const key of Object.keys(object))
    if (!keys.includes(key)) fail(`${at}.${key}`, `is not a known field (expected one of ${keys.join(', ')})`);
}

function template(field: string, source: unknown, engine: Liquid, fail: Fail): Template[] {
  if (typeof source !== 'string' || source.trim() === '') fail(field, 'must be a non-empty string (a Liquid template)');
  try {
    return engine.parse(source as string);
  } catch (err) {
    return fail(field, `is not a valid Liquid template (${(err as Error).message})`);
  }
}

/** One header: the environment variable it reads (which must be set) and an optional prefix. */
function parseHeader(
  header: string,
  source: unknown,
  field: string,
  fail: Fail,
  env: NodeJS.ProcessEnv,
): HeaderSource & { value: string } {
  if (!HEADER_NAME.test(header)) fail(field, 'is not a valid header name');
  if (RESERVED_HEADERS.includes(header.toLowerCase())) fail(field, 'is set by the relay itself');
  let envName: unknown;
  let prefix: unknown = '';
  if (typeof source === 'string') envName = source;
  else if (isObject(source)) {
    for (const key of Object.keys(source))
      if (key !== 'env' && key !== 'prefix')
        fail(`${field}.${key}`, 'is not a known field (expected "env" and optionally "prefix")');
    envName = source.env;
    prefix = source.prefix ?? '';
    if (typeof prefix !== 'string' || /[\r\n]/.test(prefix))
      fail(`${field}.prefix`, 'must be a string such as "Bearer "');
  } else fail(field, 'must name an environment variable: "CRM_TOKEN" or {"env": "CRM_TOKEN", "prefix": "Bearer "}');
  if (typeof envName !== 'string' || !ENV_NAME.test(envName)) {
    fail(
      field,
      'must name an environment variable (letters, digits and _), not hold a value: secrets stay out of the config file',
    );
  }
  const envValue = env[envName as string];
  if (envValue === undefined || envValue === '')
    fail(field, `reads the environment variable ${envName as string}, which is not set`);
  if (/[\r\n]/.test(envValue as string))
    fail(field, `the environment variable ${envName as string} holds a line break`);
  return { env: envName as string, prefix: prefix as string, value: envValue as string };
}

/** `request.headers`: header name -> environment variable; each variable's value goes to `headerValues`. */
function parseHeaders(
  raw: unknown,
  at: string,
  fail: Fail,
  env: NodeJS.ProcessEnv,
  headerValues: Map<string, string>,
): Record<string, HeaderSource> {
  const headers: Record<string, HeaderSource> = {};
  if (raw === undefined) return headers;
  if (!isObject(raw)) fail(at, 'must be an object: header name -> environment variable name');
  for (const [header, source] of Object.entries(raw as Record<string, unknown>)) {
    const { value, ...from } = parseHeader(header, source, `${at}.${header}`, fail, env);
    headerValues.set(from.env, value);
    headers[header] = from;
  }
  return headers;
}

type RequestConfig = Pick<TaskConfig, 'method' | 'url' | 'body' | 'contentType' | 'headers'>;

/** A task's `request`: url, content type, body and method templates, headers. */
function parseRequest(
  raw: unknown,
  at: string,
  fail: Fail,
  env: NodeJS.ProcessEnv,
  headerValues: Map<string, string>,
): RequestConfig {
  if (!isObject(raw)) fail(at, 'must be an object with at least "url"');
  const request = raw as Record<string, unknown>;
  rejectUnknownKeys(request, REQUEST_KEYS, at, fail);

  if (request.url === undefined) fail(`${at}.url`, 'is required');
  const url = template(`${at}.url`, request.url, urlLiquid, fail);
  if (typeof request.url === 'string' && !/^https?:\/\//i.test(request.url.trim()))
    fail(`${at}.url`, 'must start with http:// or https://');

  if (
    request.contentType !== undefined &&
    (typeof request.contentType !== 'string' || request.contentType.trim() === '' || /[\r\n]/.test(request.contentType))
  ) {
    fail(`${at}.contentType`, 'must be a media type such as "application/json"');
  }
  const contentType = (request.contentType as string | undefined) ?? 'application/json';
  const body =
    request.body === undefined
      ? undefined
      : template(`${at}.body`, request.body, isJsonContentType(contentType) ? jsonLiquid : textLiquid, fail);

  const methodSource = request.method ?? (body ? 'POST' : 'GET');
  const method = template(`${at}.method`, methodSource, textLiquid, fail);
  if (
    typeof methodSource === 'string' &&
    !methodSource.includes('{') &&
    !(METHODS as readonly string[]).includes(methodSource.toUpperCase())
  ) {
    fail(`${at}.method`, `must be one of ${METHODS.join(', ')} (got "${methodSource}")`);
  }
  return {
    method,
    url,
    body,
    contentType,
    headers: parseHeaders(request.headers, `${at}.headers`, fail, env, headerValues),
  };
}

function parseTimeout(raw: unknown, field: string, fail: Fail): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(raw) || (raw as number) < 1 || (raw as number) > 3_600_000) {
    fail(field, 'must be a whole number of milliseconds between 1 and 3600000');
  }
  return raw as number;
}

function parseRetry(raw: unknown, at: string, fail: Fail): TaskConfig['retry'] {
  const retry = { ...DEFAULT_RETRY };
  if (raw === undefined) return retry;
  if (!isObject(raw)) fail(at, 'must be an object: {"attempts", "delayMs", "maxDelayMs"}');
  const given = raw as Record<string, unknown>;
  rejectUnknownKeys(given, RETRY_KEYS, at, fail);
  for (const key of RETRY_KEYS as Array<keyof typeof retry>) {
    if (given[key] === undefined) continue;
    const n = given[key];
    const min = key === 'attempts' ? 1 : 0;
    if (!Number.isInteger(n) || (n as number) < min || (n as number) > (key === 'attempts' ? 100 : 600_000)) {
      fail(
        `${at}.${key}`,
        key === 'attempts'
          ? 'must be a whole number from 1 (no retry) to 100'
          : 'must be a whole number of milliseconds from 0 to 600000',
      );
    }
    retry[key] = n as number;
  }
  return retry;
}

function parseResult(raw: unknown, field: string, fail: Fail): Pick<TaskConfig, 'result' | 'resultSource'> {
  if (typeof raw !== 'string' || raw.trim() === '')
    fail(field, 'is required: a JSONata expression over the API\'s answer, e.g. "{\\"name\\": customer.name}"');
  try {
    return { result: jsonata(raw as string), resultSource: raw as string };
  } catch (err) {
    const e = err as { message: string; position?: number };
    return fail(
      field,
      `is not a valid JSONata expression (${e.message}${e.position !== undefined ? ` at position ${e.position}` : ''})`,
    );
  }
}

function parseTask(
  name: string,
  value: unknown,
  fail: Fail,
  env: NodeJS.ProcessEnv,
  headerValues: Map<string, string>,
): TaskConfig {
  const at = `tasks.${name}`;
  if (!isObject(value)) fail(at, 'must be an object with "request" and "result"');
  const task = value as Record<string, unknown>;
  rejectUnknownKeys(task, TASK_KEYS, at, fail);
  const { method, url, body, contentType, headers } = parseRequest(
    task.request,
    `${at}.request`,
    fail,
    env,
    headerValues,
  );
  const timeoutMs = parseTimeout(task.timeoutMs, `${at}.timeoutMs`, fail);
  const retry = parseRetry(task.retry, `${at}.retry`, fail);
  const { result, resultSource } = parseResult(task.result, `${at}.result`, fail);
  return { name, method, url, body, contentType, headers, timeoutMs, retry, result, resultSource };
}

/** Checks an already parsed config; `file` names it in errors. */
export function parseConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const fail: Fail = (field, problem) => {
    throw new ConfigError(file, field, problem);
  };
  if (!isObject(raw)) fail('', 'must be a JSON object with a "tasks" object');
  const root = raw as Record<string, unknown>;
  for (const key of Object.keys(root))
    if (key !== 'tasks' && key !== '$schema') fail(key, 'is not a known field (expected "tasks")');
  if (!isObject(root.tasks)) fail('tasks', 'must be an object: task name -> how to call the API');
  const entries = Object.entries(root.tasks as Record<string, unknown>);
  if (entries.length === 0) fail('tasks', 'has no task');

  const tasks = new Map<string, TaskConfig>();
  const headerValues = new Map<string, string>();
  for (const [name, value] of entries) tasks.set(name, parseTask(name, value, fail, env, headerValues));
  return { file, tasks, headerValues };
}
