/**
 * Runs the BUILT functions (dist/functions/**.js) in this process, the way twilio-run does with
 * `--no-fork-process`: the globals Twilio's runtime provides (`Twilio` with `Response`,
 * `Runtime`), a context made of the environment, and an event made of the query string (parsed
 * like Express does), the body (form or JSON) and `request.headers`. The runtime itself (globals,
 * context, event, the handler's callback) is dev/function-runtime.cjs, shared with the runners
 * that load one function in a fresh process (the standalone test, the cold-start benchmark).
 *
 * For volume: the bad-input battery tries tens of thousands of inputs this way, against the
 * emulator, without paying for an HTTP hop and a process per request. The functions keep no
 * memory between requests (everything lives in Sync), so running them in one process is fair.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse as parseQueryString } from 'node:querystring';
import { format } from 'node:util';
import qs from 'qs';
import twilio from 'twilio';
import {
  ConcurrencyCounter,
  jobIdOfQuery,
  REFUSAL_HEADERS,
  refusalBody,
  type ConcurrencyStats,
} from '../dev/function-concurrency';
import { functionUrlPath, visibilityOf } from '../dev/function-paths';
import { listFiles } from '../dev/list-files';
import { FUNCTIONS_DIST_DIR } from '../dev/paths';
import { FUNCTION_TIME_LIMIT_MS } from '../studio/platform';

export interface HostRequest {
  /** Query string parameters (parsed like Express's "extended" parser: `a[b]=c` becomes an object). */
  query?: string | Record<string, string>;
  /** Form body (application/x-www-form-urlencoded); repeated keys become arrays, as in twilio-run. */
  form?: string | Record<string, string | string[]>;
  /** JSON body; sent as text when a string. */
  json?: unknown;
  headers?: Record<string, string>;
}

export interface HostReply {
  /**
   * `timeout` when the function did not call back within 10 s; `threw` when it crashed;
   * `refused` when the concurrency cap was reached (429, the function did not run).
   */
  kind: 'response' | 'timeout' | 'threw' | 'refused';
  status: number;
  headers: Record<string, unknown>;
  /** The body as the function set it (object for JSON, string for TwiML). */
  body: unknown;
  /** The body as text, the way it would go over the wire. */
  text: string;
  ms: number;
  error?: string;
}

export interface FunctionHost {
  /** URL paths of the loaded functions, e.g. `/jobs/start`, with their visibility. */
  functions: Array<{ path: string; access: 'public' | 'protected' | 'private' }>;
  call(urlPath: string, request?: HostRequest): Promise<HostReply>;
  /** Everything the functions wrote to the console (one entry per call). */
  logs: string[];
  /**
   * Every function invocation so far (path, job, duration, status, refused or not), the peak in
   * flight and the refusals: dev/function-concurrency.ts ConcurrencyStats.
   */
  stats(): ConcurrencyStats;
  /**
   * Serves the functions over HTTP on 127.0.0.1 (so a backend can POST completions and service
   * URLs point here); returns the base URL. Optional: calls work without it.
   */
  listen(): Promise<string>;
  /** Stops serving and restores the console. */
  close(): Promise<void>;
}

export interface FunctionHostOptions {
  domain?: string;
  /**
   * Function executions allowed in flight at once; one more is refused (429 CONCURRENCY_LIMIT)
   * without running, as Twilio's limit per service would. Default: no cap, since the batteries
   * call the host far more in parallel than a service would be called (they test inputs, not
   * capacity); invocations are counted either way.
   */
  concurrencyCap?: number;
}

const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
/** Hosts currently capturing the console (several may run at once: each line goes to all). */
const sinks = new Set<string[]>();
let savedConsole: Pick<Console, (typeof CONSOLE_LEVELS)[number]> | undefined;

function captureConsole(sink: string[]): void {
  if (sinks.size === 0) {
    savedConsole = {
      log: console.log,
      info: console.info,
      warn: console.warn,
      error: console.error,
      debug: console.debug,
    };
    for (const level of CONSOLE_LEVELS) {
      console[level] = (...args: unknown[]) => {
        const line = `${level}: ${format(...args)}`;
        for (const target of sinks) target.push(line);
      };
    }
  }
  sinks.add(sink);
}

function releaseConsole(sink: string[]): void {
  if (!sinks.delete(sink) || sinks.size > 0 || !savedConsole) return;
  Object.assign(console, savedConsole);
  savedConsole = undefined;
}

type Handler = (
  context: Record<string, unknown>,
  event: Record<string, unknown>,
  callback: (error: unknown, payload?: unknown) => void,
) => unknown;

type ResponseClass = new () => { statusCode: number; headers: Record<string, unknown>; body: unknown };

/** What one call of a handler came to (dev/function-runtime.cjs invoke). */
type RuntimeOutcome =
  | { kind: 'response'; statusCode: number; headers: Record<string, unknown>; body: unknown }
  | { kind: 'value'; value: unknown }
  | { kind: 'callback-error' | 'threw'; error: unknown }
  | { kind: 'timeout' };

/** dev/function-runtime.cjs, the one fake of Twilio's runtime (plain CommonJS: the runners start with node alone). */
interface FunctionRuntime {
  loadResponse(file?: string): ResponseClass;
  installGlobals(options: { Response: ResponseClass; twilio?: object }): void;
  functionContext(options: {
    env: Record<string, string>;
    path: string;
    domainName: string;
    serviceSid?: string;
    environmentSid?: string;
    twilio: () => typeof twilio;
  }): Record<string, unknown>;
  functionEvent(headers: Record<string, string>, ...parameters: object[]): Record<string, unknown>;
  invoke(
    handler: Handler,
    context: Record<string, unknown>,
    event: Record<string, unknown>,
    options: { Response: ResponseClass; timeoutMs: number; unref?: boolean },
  ): Promise<RuntimeOutcome>;
  describeError(error: unknown): string;
}

const runtime = require('../dev/function-runtime.cjs') as FunctionRuntime;

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body === undefined || body === null) return '';
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

/** A reply with a text body and no headers (404 for no function, 400 from the body parser). */
function textReply(status: number, text: string): HostReply {
  return { kind: 'response', status, headers: {}, body: text, text, ms: 0 };
}

/** The reply when the handler crashed: it threw, its promise rejected, or it called back with an error. */
function threwReply(error: unknown): Omit<HostReply, 'ms'> {
  return { kind: 'threw', status: 500, headers: {}, body: undefined, text: '', error: runtime.describeError(error) };
}

/** The reply for what the handler did. */
function replyOf(outcome: RuntimeOutcome): Omit<HostReply, 'ms'> {
  switch (outcome.kind) {
    case 'response':
      return {
        kind: 'response',
        status: outcome.statusCode,
        headers: outcome.headers,
        body: outcome.body,
        text: bodyText(outcome.body),
      };
    case 'value':
      return { kind: 'response', status: 200, headers: {}, body: outcome.value, text: bodyText(outcome.value) };
    case 'callback-error':
    case 'threw':
      return threwReply(outcome.error);
    case 'timeout':
      return {
        kind: 'timeout',
        status: 504,
        headers: {},
        body: undefined,
        text: '',
        error: `no answer within ${FUNCTION_TIME_LIMIT_MS} ms`,
      };
  }
}

/**
 * The request's body as the server's parsers hand it over: a form, or JSON (body-parser's
 * strict JSON: only an object or an array gets through; undefined for anything else, a 400).
 */
function bodyOf(request: HostRequest): object | undefined {
  if (request.json !== undefined) {
    let body: unknown;
    try {
      body = typeof request.json === 'string' ? JSON.parse(request.json) : JSON.parse(JSON.stringify(request.json));
    } catch {
      body = undefined;
    }
    return typeof body === 'object' && body !== null ? body : undefined;
  }
  if (typeof request.form === 'string') return { ...parseQueryString(request.form) };
  if (request.form) return { ...request.form };
  return {};
}

/** The event the function gets, or undefined when the body parser refuses the body. */
function eventOf(request: HostRequest): Record<string, unknown> | undefined {
  const query = typeof request.query === 'string' ? qs.parse(request.query) : (request.query ?? {});
  const body = bodyOf(request);
  if (body === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  // body-parser hands over only objects as the body; a top-level JSON array merges like one.
  return runtime.functionEvent(headers, query, body);
}

/** A function's URL path and visibility, from its file under dist/functions. */
function functionOf(relative: string): FunctionHost['functions'][number] {
  return { path: functionUrlPath(relative), access: visibilityOf(relative) };
}

/** An HTTP request as the host takes it: the query string, the headers, a JSON or form body. */
function hostRequestOf(req: http.IncomingMessage, text: string): HostRequest {
  const url = new URL(req.url ?? '/', 'http://host.local');
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
  );
  const request: HostRequest = { query: url.search.slice(1), headers };
  if (type === 'application/json' && text !== '') request.json = text;
  else if (text !== '') request.form = text;
  return request;
}

function writeReply(res: http.ServerResponse, reply: HostReply): void {
  if (reply.kind === 'timeout') return void res.writeHead(504).end();
  const contentType = typeof reply.body === 'string' ? 'text/xml' : 'application/json';
  const replyHeaders: Record<string, string> = { 'content-type': contentType };
  for (const [name, value] of Object.entries(reply.headers)) {
    if (typeof value === 'string') replyHeaders[name.toLowerCase()] = value;
  }
  res.writeHead(reply.status, replyHeaders).end(reply.text);
}

/** The host: every built function loaded, the runtime's globals set, the console captured. */
class InProcessFunctionHost implements FunctionHost {
  readonly functions: FunctionHost['functions'] = [];
  /** The functions log through the console; keep what they say (and keep the test output quiet). */
  readonly logs: string[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly Response: ResponseClass;
  private readonly counter: ConcurrencyCounter;
  private domain: string;
  private server: http.Server | undefined;

  constructor(
    private readonly env: Record<string, string>,
    options: FunctionHostOptions,
  ) {
    if (!fs.existsSync(FUNCTIONS_DIST_DIR)) throw new Error('dist/functions is missing: run `npm run build` first');
    this.Response = runtime.loadResponse();
    runtime.installGlobals({ Response: this.Response, twilio });
    this.loadFunctions();
    captureConsole(this.logs);
    this.domain = options.domain ?? 'localhost:3000';
    this.counter = new ConcurrencyCounter(options.concurrencyCap);
  }

  private loadFunctions(): void {
    for (const file of listFiles(FUNCTIONS_DIST_DIR).filter((f) => f.endsWith('.js'))) {
      const relative = path.relative(FUNCTIONS_DIST_DIR, file).split(path.sep).join('/');
      const loaded = require(file) as { handler?: Handler };
      if (typeof loaded.handler !== 'function') throw new Error(`${relative} has no handler`);
      const fn = functionOf(relative);
      this.handlers.set(fn.path, loaded.handler);
      this.functions.push(fn);
    }
  }

  async call(urlPath: string, request: HostRequest = {}): Promise<HostReply> {
    const handler = this.handlers.get(urlPath);
    if (!handler) return textReply(404, 'Could not find requested resource');
    const search =
      typeof request.query === 'string' ? request.query : new URLSearchParams(request.query ?? {}).toString();
    const finish = this.counter.start(urlPath, jobIdOfQuery(search));
    if (!finish) {
      const body = refusalBody(this.counter.cap ?? 0);
      return { kind: 'refused', status: 429, headers: { ...REFUSAL_HEADERS }, body, text: JSON.stringify(body), ms: 0 };
    }
    const reply = await this.execute(handler, urlPath, request);
    finish(reply.status);
    return reply;
  }

  private async execute(handler: Handler, urlPath: string, request: HostRequest): Promise<HostReply> {
    const began = Date.now();
    const event = eventOf(request);
    if (!event) return textReply(400, 'Bad Request');
    const context = runtime.functionContext({
      env: this.env,
      path: urlPath,
      domainName: this.domain,
      twilio: () => twilio,
    });
    const outcome = await runtime.invoke(handler, context, event, {
      Response: this.Response,
      timeoutMs: FUNCTION_TIME_LIMIT_MS,
    });
    return { ...replyOf(outcome), ms: Date.now() - began };
  }

  stats(): ConcurrencyStats {
    return this.counter.stats();
  }

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.domain = `127.0.0.1:${port}`;
    return `http://${this.domain}`;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = hostRequestOf(req, Buffer.concat(chunks).toString('utf8'));
      void this.call(new URL(req.url ?? '/', 'http://host.local').pathname, request).then((reply) =>
        writeReply(res, reply),
      );
    });
  }

  async close(): Promise<void> {
    releaseConsole(this.logs);
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/**
 * Loads every built function. `env` is the functions' environment (what `.env` holds); the
 * context adds DOMAIN_NAME (http://localhost:<port>-style, so service URLs point back here).
 */
export function startFunctionHost(env: Record<string, string>, options: FunctionHostOptions = {}): FunctionHost {
  return new InProcessFunctionHost(env, options);
}
