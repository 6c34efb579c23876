/**
 * Runs the BUILT functions (dist/functions/**.js) in this process, the way twilio-run does with
 * `--no-fork-process`: the globals Twilio's runtime provides (`Twilio` with `Response`,
 * `Runtime`), a context made of the environment, and an event made of the query string (parsed
 * like Express does), the body (form or JSON) and `request.headers`.
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
import { listFiles } from '../dev/list-files';
import { FUNCTIONS_DIST_DIR, PROJECT_ROOT } from '../dev/paths';
import { FUNCTION_TIME_LIMIT_MS } from '../studio/platform';

/** The Response class of Twilio's own local runtime. */
const RUNTIME_RESPONSE_MODULE = path.join(
  PROJECT_ROOT,
  'node_modules/@twilio/runtime-handler/dist/dev-runtime/internal/response.js',
);

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

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body === undefined || body === null) return '';
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
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

/**
 * Loads every built function. `env` is the functions' environment (what `.env` holds); the
 * context adds DOMAIN_NAME (http://localhost:<port>-style, so service URLs point back here).
 */
export function startFunctionHost(env: Record<string, string>, options: FunctionHostOptions = {}): FunctionHost {
  if (!fs.existsSync(FUNCTIONS_DIST_DIR)) throw new Error('dist/functions is missing: run `npm run build` first');
  const { Response } = require(RUNTIME_RESPONSE_MODULE) as {
    Response: new () => { statusCode: number; headers: Record<string, unknown>; body: unknown };
  };
  const globals = globalThis as Record<string, unknown>;
  globals.Twilio = Object.assign({}, twilio, { Response });
  globals.Runtime = {
    getAssets: () => ({}),
    getFunctions: () => ({}),
    getSync: () => {
      throw new Error('Runtime.getSync() is not available here');
    },
  };

  const handlers = new Map<string, Handler>();
  const functions: FunctionHost['functions'] = [];
  for (const file of listFiles(FUNCTIONS_DIST_DIR).filter((f) => f.endsWith('.js'))) {
    const relative = path.relative(FUNCTIONS_DIST_DIR, file).split(path.sep).join('/');
    const access = /\.protected\.js$/.test(relative)
      ? 'protected'
      : /\.private\.js$/.test(relative)
        ? 'private'
        : 'public';
    const urlPath = '/' + relative.replace(/(\.protected|\.private)?\.js$/, '');
    const loaded = require(file) as { handler?: Handler };
    if (typeof loaded.handler !== 'function') throw new Error(`${relative} has no handler`);
    handlers.set(urlPath, loaded.handler);
    functions.push({ path: urlPath, access });
  }

  // The functions log through the console; keep what they say (and keep the test output quiet).
  const logs: string[] = [];
  captureConsole(logs);

  let domain = options.domain ?? 'localhost:3000';
  const counter = new ConcurrencyCounter(options.concurrencyCap);
  const call = async (urlPath: string, request: HostRequest = {}): Promise<HostReply> => {
    const handler = handlers.get(urlPath);
    if (!handler) {
      return {
        kind: 'response',
        status: 404,
        headers: {},
        body: 'Could not find requested resource',
        text: 'Could not find requested resource',
        ms: 0,
      };
    }
    const search =
      typeof request.query === 'string' ? request.query : new URLSearchParams(request.query ?? {}).toString();
    const finish = counter.start(urlPath, jobIdOfQuery(search));
    if (!finish) {
      const body = refusalBody(counter.cap ?? 0);
      return { kind: 'refused', status: 429, headers: { ...REFUSAL_HEADERS }, body, text: JSON.stringify(body), ms: 0 };
    }
    const reply = await execute(handler, urlPath, request);
    finish(reply.status);
    return reply;
  };
  const execute = (handler: Handler, urlPath: string, request: HostRequest): Promise<HostReply> => {
    const began = Date.now();
    const query = typeof request.query === 'string' ? qs.parse(request.query) : (request.query ?? {});
    let body: unknown = {};
    if (request.json !== undefined) {
      // body-parser's strict JSON: only an object or an array gets through, anything else is a 400.
      try {
        body = typeof request.json === 'string' ? JSON.parse(request.json) : JSON.parse(JSON.stringify(request.json));
      } catch {
        body = undefined;
      }
      if (typeof body !== 'object' || body === null) {
        return Promise.resolve({
          kind: 'response',
          status: 400,
          headers: {},
          body: 'Bad Request',
          text: 'Bad Request',
          ms: 0,
        });
      }
    } else if (typeof request.form === 'string') body = { ...parseQueryString(request.form) };
    else if (request.form) body = { ...request.form };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
    // body-parser hands over only objects as the body; a top-level JSON array or scalar merges like one.
    const event = Object.assign({ request: { headers, cookies: {} } }, query, body as object);
    const context = {
      PATH: urlPath,
      DOMAIN_NAME: domain,
      SERVICE_SID: undefined,
      ENVIRONMENT_SID: undefined,
      ...env,
      getTwilioClient: () => twilio(env.ACCOUNT_SID, env.AUTH_TOKEN),
    };
    return new Promise<HostReply>((resolve) => {
      let done = false;
      const finish = (reply: Omit<HostReply, 'ms'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...reply, ms: Date.now() - began });
      };
      const timer = setTimeout(
        () =>
          finish({
            kind: 'timeout',
            status: 504,
            headers: {},
            body: undefined,
            text: '',
            error: `no answer within ${FUNCTION_TIME_LIMIT_MS} ms`,
          }),
        FUNCTION_TIME_LIMIT_MS,
      );
      const callback = (error: unknown, payload?: unknown) => {
        if (error) {
          finish({
            kind: 'threw',
            status: 500,
            headers: {},
            body: undefined,
            text: '',
            error: String((error as Error)?.stack ?? error),
          });
          return;
        }
        if (payload instanceof Response) {
          finish({
            kind: 'response',
            status: payload.statusCode,
            headers: payload.headers,
            body: payload.body,
            text: bodyText(payload.body),
          });
          return;
        }
        finish({ kind: 'response', status: 200, headers: {}, body: payload, text: bodyText(payload) });
      };
      try {
        const returned = handler(context, event, callback) as Promise<unknown> | undefined;
        if (returned && typeof returned.then === 'function') {
          returned.then(undefined, (error: unknown) =>
            finish({
              kind: 'threw',
              status: 500,
              headers: {},
              body: undefined,
              text: '',
              error: String((error as Error)?.stack ?? error),
            }),
          );
        }
      } catch (error) {
        finish({
          kind: 'threw',
          status: 500,
          headers: {},
          body: undefined,
          text: '',
          error: String((error as Error)?.stack ?? error),
        });
      }
    });
  };

  let server: http.Server | undefined;
  const listen = async (): Promise<string> => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://host.local');
        const text = Buffer.concat(chunks).toString('utf8');
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        );
        const request: HostRequest = { query: url.search.slice(1), headers };
        if (type === 'application/json' && text !== '') request.json = text;
        else if (text !== '') request.form = text;
        void call(url.pathname, request).then((reply) => {
          if (reply.kind === 'timeout') return void res.writeHead(504).end();
          const contentType = typeof reply.body === 'string' ? 'text/xml' : 'application/json';
          const replyHeaders: Record<string, string> = { 'content-type': contentType };
          for (const [name, value] of Object.entries(reply.headers)) {
            if (typeof value === 'string') replyHeaders[name.toLowerCase()] = value;
          }
          res.writeHead(reply.status, replyHeaders).end(reply.text);
        });
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    domain = `127.0.0.1:${port}`;
    return `http://${domain}`;
  };

  return {
    functions,
    call,
    logs,
    stats: () => counter.stats(),
    listen,
    close: async () => {
      releaseConsole(logs);
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
