/**
 * The bad-input battery: generated requests (fast-check) against every endpoint's parameters,
 * completion bodies and capability tokens. For every one:
 *  - the function answers (no crash, no time-out) and never with a 5xx;
 *  - a refusal is `{error: {code, message}}` with the code's own HTTP status, and the message
 *    names the problem (the parameter, the token, the size...), with no stack trace;
 *  - a refused request changes nothing (Sync documents and conferences are compared before/after);
 *  - no phone number reaches the function logs.
 * It runs against the built functions in-process (volume) or over HTTP through twilio-run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { completionToken } from '../src/lib/backend/completion-token';
import { ERROR_CODES, type ErrorCode } from '../src/lib/contracts';
import type { EmulatorHandle } from '../emulator/server';
import { fixedSid, sidPattern } from '../emulator/sids';
import type { FunctionHost, HostRequest } from './function-host';
import { E164 } from './harness';

export const BATTERY_SECRET = 'whsec_' + Buffer.from('battery-secret-0000000001').toString('base64');
const OTHER_SECRET = 'whsec_' + Buffer.from('somebody-else-000000000001').toString('base64');

/** Something that sends one request to a function path and hands back the reply. */
export type Send = (
  path: string,
  request: HostRequest,
) => Promise<{ kind: string; status: number; body: unknown; text: string; contentType: string }>;

export interface BatteryTarget {
  send: Send;
  emulator: EmulatorHandle;
  /** What the functions logged (scanned for phone numbers). */
  logs(): string[];
}

export interface BatteryProblem {
  endpoint: string;
  request: HostRequest;
  status: number;
  problem: string;
  reply: string;
}

export interface BatteryReport {
  tried: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  serverErrors: number;
  problems: BatteryProblem[];
}

interface Generated {
  endpoint: string;
  request: HostRequest;
}

/** Known jobs the generators aim at, re-made after every reset. */
interface Fixtures {
  pending: string[];
  final: string[];
}

const UNKNOWN_JOB = fixedSid('JB', 'e');

// ---- value generators -----------------------------------------------------------------------

const nasty = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '../etc/passwd',
  '%00',
  '\u0000',
  '<Response><Hangup/></Response>',
  "'; DROP TABLE jobs;--",
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '\ud800',
  '🎵'.repeat(3),
  '+14155550123',
  fixedSid('JB', 'F'),
  fixedSid('JB').slice(0, -1),
  fixedSid('FW', '1'),
  'x'.repeat(300),
  'x'.repeat(70_000),
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: nasty },
  { weight: 2, arbitrary: fc.integer({ min: -1e6, max: 1e9 }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);
const paramNames = fc.constantFrom(
  'jobId',
  'wait',
  'maxHoldSeconds',
  'idempotencyKey',
  'CallSid',
  'flowSid',
  'AccountSid',
  'turn',
  'pollAt',
  'attempt',
  'StatusCallbackEvent',
  'status',
  'result',
  'error',
  'task',
  'From',
  'To',
  'Caller',
  'request',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'a'.repeat(101),
  '',
);
const formValue = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.array(text, { minLength: 2, maxLength: 3 }) },
);

function jobIdArb(fixtures: Fixtures) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fixtures.pending, ...fixtures.final, UNKNOWN_JOB) },
    { weight: 1, arbitrary: fc.stringMatching(sidPattern('JB')) },
    { weight: 2, arbitrary: text },
  );
}

/** Extra parameters around the ones an endpoint reads. */
const extras = fc.dictionary(fc.oneof(paramNames, fc.string({ maxLength: 12 })), formValue, { maxKeys: 4 });

/** A query string, sometimes with Express-style nesting (`jobId[x]=1`, `a[]=1&a[]=2`). */
function queryArb(core: fc.Arbitrary<Record<string, unknown>>) {
  return fc
    .tuple(
      core,
      fc.constantFrom('', 'jobId[x]=1', 'jobId[]=a&jobId[]=b', 'turn[$gt]=1', '__proto__[polluted]=1', 'wait=1&wait=2'),
    )
    .map(([params, raw]) => {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        if (Array.isArray(value)) for (const v of value) search.append(key, String(v));
        else if (value !== undefined) search.append(key, String(value));
      }
      return [search.toString(), raw].filter(Boolean).join('&');
    });
}

function formOf(params: Record<string, unknown>): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    form[key] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return form;
}

/** One endpoint's parameters, sent as a form, as a query string, or as JSON. */
function paramsRequest(endpoint: string, core: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Generated> {
  const withExtras = fc.tuple(core, extras).map(([params, more]) => ({ ...more, ...params }));
  return fc.oneof(
    { weight: 4, arbitrary: withExtras.map((params) => ({ endpoint, request: { form: formOf(params) } })) },
    { weight: 2, arbitrary: queryArb(withExtras).map((query) => ({ endpoint, request: { query } })) },
    {
      weight: 1,
      arbitrary: fc.tuple(withExtras, fc.jsonValue({ maxDepth: 2 })).map(([params, junk]) => ({
        endpoint,
        request: {
          json: JSON.stringify(
            typeof junk === 'object' && junk !== null && !Array.isArray(junk) ? { ...junk, ...params } : params,
          ),
          headers: { 'content-type': 'application/json' },
        },
      })),
    },
  );
}

const numberish = fc.oneof(fc.integer({ min: -5, max: 20_000 }).map(String), text, fc.constant(undefined));

function endpointArbs(fixtures: Fixtures): fc.Arbitrary<Generated> {
  const jobId = fc.oneof(
    { weight: 5, arbitrary: jobIdArb(fixtures) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const start = paramsRequest(
    '/jobs/start',
    fc.record(
      {
        task: text,
        wait: numberish,
        maxHoldSeconds: numberish,
        idempotencyKey: fc.oneof(text, fc.constant('battery-key')),
        CallSid: text,
        From: fc.constant('+14155550123'),
      },
      { requiredKeys: [] },
    ),
  );
  const status = paramsRequest(
    '/jobs/status',
    fc.record({ jobId, wait: fc.oneof(fc.constantFrom('0', '0.1'), numberish) }, { requiredKeys: [] }),
  );
  const result = paramsRequest('/jobs/result', fc.record({ jobId }, { requiredKeys: [] }));
  const hold = paramsRequest(
    '/hold',
    fc.record(
      {
        jobId,
        flowSid: fc.oneof(fc.constant(fixedSid('FW', 'a')), text),
        AccountSid: text,
        attempt: numberish,
        CallSid: text,
        From: fc.constant('+14155550123'),
      },
      { requiredKeys: [] },
    ),
  );
  const wait = paramsRequest(
    '/hold/wait',
    fc.record({ jobId, turn: numberish, pollAt: numberish }, { requiredKeys: [] }),
  );
  const events = paramsRequest(
    '/hold/events',
    fc.record(
      {
        jobId,
        StatusCallbackEvent: fc.oneof(fc.constantFrom('participant-leave', 'participant-join', 'conference-end'), text),
        CallSid: text,
        FriendlyName: text,
      },
      { requiredKeys: [] },
    ),
  );
  return fc.oneof(start, status, result, hold, wait, events, completeArb(fixtures));
}

/** A completion body: mostly shaped like one (status, result, error, each maybe wrong), sometimes any JSON. */
const completionBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        status: fc.oneof(fc.constantFrom('COMPLETED', 'FAILED'), text),
        result: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant({ blob: 'x'.repeat(70_000) })),
        error: fc.oneof(fc.jsonValue({ maxDepth: 2 }), text, fc.record({ code: text, message: text })),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** How a completion carries its capability token (valid three times out of ten). */
const tokenCase = fc.constantFrom(
  'valid',
  'valid',
  'valid',
  'none',
  'other-secret',
  'other-job',
  'truncated',
  'forged',
  'in-body',
  'nested',
);
type TokenCase = typeof tokenCase extends fc.Arbitrary<infer T> ? T : never;

/** The completion URL's query for a token case other than `in-body`: the job and the token, right or wrong. */
function completionQuery(
  how: Exclude<TokenCase, 'in-body'>,
  jobId: string,
  valid: string,
  noise: string,
): Record<string, string> | string {
  switch (how) {
    case 'valid':
      return { jobId, token: valid };
    case 'none':
      return { jobId };
    case 'other-secret':
      return { jobId, token: completionToken(OTHER_SECRET, jobId) };
    case 'other-job':
      return { jobId, token: completionToken(BATTERY_SECRET, UNKNOWN_JOB) };
    case 'truncated':
      return { jobId, token: valid.slice(0, -1) };
    case 'forged':
      return { jobId, token: noise };
    case 'nested':
      return `${new URLSearchParams({ 'jobId[x]': jobId }).toString()}&${new URLSearchParams({ 'token[]': valid }).toString()}`;
  }
}

/** One completion request: the body as JSON, the token in the query (or, for `in-body`, in the body). */
function completionRequest(jobId: unknown, value: unknown, how: TokenCase, noise: string): Generated {
  const valid = typeof jobId === 'string' ? completionToken(BATTERY_SECRET, jobId) : noise;
  const headers = { 'content-type': 'application/json' };
  if (how === 'in-body') {
    const fields = typeof value === 'object' && value && !Array.isArray(value) ? value : {};
    return {
      endpoint: '/jobs/complete',
      request: { json: JSON.stringify({ jobId, token: valid, ...fields }), headers },
    };
  }
  const query = completionQuery(how, String(jobId), valid, noise);
  return { endpoint: '/jobs/complete', request: { query, json: JSON.stringify(value) ?? 'null', headers } };
}

/** Completion bodies and capability tokens, good and bad in every combination. */
function completeArb(fixtures: Fixtures): fc.Arbitrary<Generated> {
  return fc
    .tuple(jobIdArb(fixtures), completionBody, tokenCase, text)
    .map(([jobId, value, how, noise]) => completionRequest(jobId, value, how, noise));
}

// ---- checks -----------------------------------------------------------------------------------

/** Words a refusal's message must contain, by code: it names what was wrong. */
const MESSAGE_NAMES: Record<ErrorCode, RegExp> = {
  INVALID_PARAMETER:
    /jobId|wait|maxHoldSeconds|idempotencyKey|CallSid|flowSid|turn|pollAt|attempt|status|error|result|parameter/,
  INVALID_TOKEN: /token|callbackUrl/,
  JOB_NOT_FOUND: /no job JB[0-9a-f]{32}/,
  JOB_ALREADY_FINAL: /already (COMPLETED|FAILED|TIMED_OUT|CANCELLED)/,
  PAYLOAD_TOO_LARGE: /\d+ bytes/,
  IDEMPOTENCY_CONFLICT: /idempotencyKey/,
  TWILIO_UNAVAILABLE: /Twilio/,
  DELIVERY_PENDING: /Studio/,
  MISCONFIGURED: /.+/,
  INTERNAL: /.+/,
};

/** Sync documents and conferences, reduced to what a change would show. */
function fingerprint(emulator: EmulatorHandle): string {
  const state = emulator.state();
  return JSON.stringify([
    state.documents.map((doc) => `${doc.uniqueName}@${doc.revision}`).sort(),
    state.conferences
      .map((conference) => `${conference.sid}:${conference.status}:${conference.participants.length}`)
      .sort(),
  ]);
}

/** A JSON body that is not an object or array: the server's JSON parser refuses it before any function runs. */
function refusedByParser(request: HostRequest): boolean {
  if (typeof request.json !== 'string') return false;
  try {
    const value: unknown = JSON.parse(request.json);
    return typeof value !== 'object' || value === null;
  } catch {
    return true;
  }
}

function checkReply(generated: Generated, reply: Awaited<ReturnType<Send>>, changed: boolean): string | undefined {
  if (reply.kind !== 'response') return `no answer (${reply.kind})`;
  if (reply.status >= 500) return `server error ${reply.status}`;
  if (refusedByParser(generated.request)) {
    // Not the service's answer (twilio-run's body parser; the platform has its own): only "refused, nothing changed".
    if (reply.status !== 400) return `a body that is not a JSON object got ${reply.status}`;
    return changed ? 'a body the parser refused changed Sync or a conference' : undefined;
  }
  if (reply.status === 431 || reply.status === 414) {
    // A URL over the HTTP server's header limit (16 KB in Node): refused before any function ran.
    return changed ? 'an over-long URL changed Sync or a conference' : undefined;
  }
  if (/\bat .+\.(js|ts):\d+/.test(reply.text) || /"stack"/.test(reply.text)) return 'a stack trace in the reply';
  if (reply.status >= 400) {
    const body = reply.body as { error?: { code?: unknown; message?: unknown } } | undefined;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    const error = body?.error;
    if (
      !error ||
      keys.length !== 1 ||
      typeof error.code !== 'string' ||
      typeof error.message !== 'string' ||
      Object.keys(error).length !== 2
    ) {
      return `refusal is not {error: {code, message}}: ${reply.text.slice(0, 200)}`;
    }
    if (!/json/.test(reply.contentType)) return `refusal is ${reply.contentType}, not JSON`;
    if (!(error.code in ERROR_CODES)) return `unknown error code ${error.code}`;
    if (ERROR_CODES[error.code as ErrorCode] !== reply.status)
      return `code ${error.code} came with HTTP ${reply.status}`;
    if (error.message.length === 0 || error.message.length > 600)
      return `message of ${error.message.length} characters`;
    if (!MESSAGE_NAMES[error.code as ErrorCode].test(error.message))
      return `message does not name the problem: "${error.message}"`;
    if (changed) return `refused with ${reply.status} ${error.code} but Sync or a conference changed`;
  }
  return undefined;
}

/** Sets up the jobs the generators aim at: a few pending ones and a few final ones. */
async function seedJobs(target: BatteryTarget): Promise<Fixtures> {
  const fixtures: Fixtures = { pending: [], final: [] };
  for (let i = 0; i < 3; i++) {
    const reply = await target.send('/jobs/start', { form: { task: `pending-${i}` } });
    fixtures.pending.push((reply.body as { jobId: string }).jobId);
  }
  for (let i = 0; i < 2; i++) {
    const reply = await target.send('/jobs/start', { form: { task: `final-${i}`, simulateSeconds: '0', wait: '1' } });
    fixtures.final.push((reply.body as { jobId: string }).jobId);
  }
  return fixtures;
}

export interface BatteryOptions {
  inputs: number;
  seed: number;
  /** Reset the emulator and make new fixtures after this many inputs (keeps comparisons cheap). */
  resetEvery?: number;
  log?: (line: string) => void;
}

/**
 * Runs `inputs` generated requests. The functions must run with SIMULATED_WORK_SECONDS far in the
 * future (so no start waits) and WEBHOOK_SECRET = BATTERY_SECRET.
 */
export async function runBattery(target: BatteryTarget, options: BatteryOptions): Promise<BatteryReport> {
  const report: BatteryReport = { tried: 0, byEndpoint: {}, byStatus: {}, serverErrors: 0, problems: [] };
  const resetEvery = options.resetEvery ?? 250;
  let remaining = options.inputs;
  let round = 0;
  while (remaining > 0) {
    const batch = Math.min(resetEvery, remaining);
    target.emulator.reset();
    await sleep(10);
    const fixtures = await seedJobs(target);
    await fc.assert(
      fc.asyncProperty(endpointArbs(fixtures), async (generated) => {
        const before = fingerprint(target.emulator);
        const reply = await target.send(generated.endpoint, generated.request);
        const changed = fingerprint(target.emulator) !== before;
        report.tried += 1;
        report.byEndpoint[generated.endpoint] = (report.byEndpoint[generated.endpoint] ?? 0) + 1;
        report.byStatus[String(reply.status)] = (report.byStatus[String(reply.status)] ?? 0) + 1;
        if (reply.status >= 500) report.serverErrors += 1;
        const problem = checkReply(generated, reply, changed);
        if (problem && report.problems.length < 50) {
          report.problems.push({
            endpoint: generated.endpoint,
            request: shorten(generated.request),
            status: reply.status,
            problem,
            reply: reply.text.slice(0, 300),
          });
        }
        return true; // problems are collected, not thrown: one run reports all of them
      }),
      { numRuns: batch, seed: options.seed + round, endOnFailure: true },
    );
    remaining -= batch;
    round += 1;
    if (options.log && (report.tried % 2000 < batch || remaining === 0))
      options.log(`battery: ${report.tried}/${options.inputs} inputs, ${report.problems.length} problems`);
  }
  const phone = target.logs().find((line) => E164.test(line));
  if (phone)
    report.problems.push({
      endpoint: '(logs)',
      request: {},
      status: 0,
      problem: 'a phone number in the function logs',
      reply: phone.slice(0, 200),
    });
  const violations = target.emulator.violations();
  for (const violation of violations.slice(0, 10)) {
    report.problems.push({
      endpoint: '(emulator)',
      request: {},
      status: 0,
      problem: `request Twilio would refuse: ${violation.method} ${violation.path}: ${violation.problems.join('; ')}`,
      reply: '',
    });
  }
  return report;
}

function shorten(request: HostRequest): HostRequest {
  const cut = (value: string) => (value.length > 300 ? `${value.slice(0, 300)}…(${value.length} chars)` : value);
  return JSON.parse(
    JSON.stringify(request, (_key, value: unknown) => (typeof value === 'string' ? cut(value) : value)),
  ) as HostRequest;
}

/** A target for the built functions in this process. */
export function hostTarget(host: FunctionHost, emulator: EmulatorHandle): BatteryTarget {
  return {
    emulator,
    logs: () => host.logs,
    send: async (path, request) => {
      const reply = await host.call(path, request);
      const type = reply.headers['Content-Type'] ?? reply.headers['content-type'];
      return {
        kind: reply.kind,
        status: reply.status,
        body: reply.body,
        text: reply.text,
        contentType: typeof type === 'string' ? type : typeof reply.body === 'object' ? 'application/json' : '',
      };
    },
  };
}

/** A target over HTTP (twilio-run). */
export function httpTarget(baseUrl: string, emulator: EmulatorHandle, logs: () => string[]): BatteryTarget {
  return {
    emulator,
    logs,
    send: async (path, request) => {
      const query =
        typeof request.query === 'string' ? request.query : new URLSearchParams(request.query ?? {}).toString();
      const headers: Record<string, string> = { ...(request.headers ?? {}) };
      let body: string | undefined;
      if (request.json !== undefined)
        body = typeof request.json === 'string' ? request.json : JSON.stringify(request.json);
      else if (request.form !== undefined) {
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(
          typeof request.form === 'string' ? Object.fromEntries(new URLSearchParams(request.form)) : request.form,
        )) {
          for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
        }
        body = form.toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      try {
        const response = await fetch(`${baseUrl}${path}${query ? `?${query}` : ''}`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(12_000),
        });
        const text = await response.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        return {
          kind: 'response',
          status: response.status,
          body: parsed,
          text,
          contentType: response.headers.get('content-type') ?? '',
        };
      } catch (error) {
        return { kind: 'threw', status: 0, body: undefined, text: String(error), contentType: '' };
      }
    },
  };
}

// ---- ready-made runs --------------------------------------------------------------------------

/** The functions' environment for the battery: simulated backend far in the future, known secret. */
export function batteryEnv(): Record<string, string> {
  return { WEBHOOK_SECRET: BATTERY_SECRET, SIMULATED_WORK_SECONDS: '600' };
}

/** The battery against the built functions in this process (volume). */
export async function runBatteryInProcess(options: BatteryOptions): Promise<BatteryReport> {
  const { startEmulator } = await import('../emulator/server');
  const { startFunctionHost } = await import('./function-host');
  const { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } = await import('../dev/credentials');
  const emulator = await startEmulator({});
  const host = startFunctionHost({
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: LOCAL_AUTH_TOKEN,
    TWILIO_API_BASE_URL: emulator.url,
    SYNC_SERVICE_SID: 'default',
    ...batteryEnv(),
  });
  try {
    return await runBattery(hostTarget(host, emulator), options);
  } finally {
    await host.close();
    await emulator.close();
  }
}

/** The battery over HTTP through twilio-run (functions in its process) and the emulator. */
export async function runBatteryOverHttp(options: BatteryOptions): Promise<BatteryReport> {
  const { startLocalStack } = await import('../dev/local-stack');
  const { privateDistCopy } = await import('./harness');
  const dist = privateDistCopy();
  const stack = await startLocalStack({
    env: batteryEnv(),
    forkProcess: false,
    live: false,
    distDir: dist.relative,
    output: 'pipe',
  }).catch((error: unknown) => {
    dist.remove();
    throw error;
  });
  // twilio-run keeps its last 200 lines; they are collected as the battery goes.
  const seen = new Set<string>();
  const collect = () => {
    for (const line of stack.recentOutput().split('\n')) seen.add(line);
    return [...seen];
  };
  const timer = setInterval(collect, 200);
  try {
    return await runBattery(httpTarget(stack.baseUrl, stack.emulator, collect), options);
  } finally {
    clearInterval(timer);
    await stack.stop();
    dist.remove();
  }
}
