/**
 * One job, start to end, kept only in memory while it runs: render the request from the task's
 * templates, call the API (its own timeout, cut to the job's deadline; retries on 5xx, 429, no
 * answer and timeouts, with backoff), map the answer with the task's JSONata expression, and POST
 * the completion to the job's callbackUrl exactly as given, retried until the deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  METHODS,
  isJsonContentType,
  jsonLiquid,
  textLiquid,
  urlLiquid,
  type RelayConfig,
  type TaskConfig,
} from './config';

export interface Dispatch {
  jobId: string;
  input: Record<string, unknown>;
  callbackUrl: string;
  deadline: string;
}

export interface JobError {
  code: string;
  message: string;
}

export type Outcome = { status: 'COMPLETED'; result: unknown } | { status: 'FAILED'; error: JobError };

/** The part of pino's logger the relay uses. */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JobOptions {
  log: Log;
  /** Aborted when the relay shuts down without waiting. */
  signal?: AbortSignal;
  /** Time kept free before the deadline for the completion (default 1500 ms). */
  completionReserveMs?: number;
}

export interface JobReport {
  outcome: Outcome;
  apiAttempts: number;
  /** The HTTP status the callback finally answered (0: no answer), and how many tries it took. */
  callbackStatus: number;
  callbackAttempts: number;
}

export interface RenderedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** The largest result the service takes (its /jobs/complete limit). */
export const MAX_RESULT_BYTES = 60 * 1024;
const CALLBACK_ATTEMPT_TIMEOUT_MS = 10_000;

class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the templates see. */
function templateScope(dispatch: Dispatch): Record<string, unknown> {
  return { input: dispatch.input, jobId: dispatch.jobId, deadline: dispatch.deadline };
}

export async function renderRequest(
  task: TaskConfig,
  config: RelayConfig,
  dispatch: Dispatch,
): Promise<RenderedRequest> {
  const scope = templateScope(dispatch);
  const render = async (what: string, engine: typeof textLiquid, template: TaskConfig['url']) => {
    try {
      return await engine.render(template, scope);
    } catch (err) {
      throw new JobFailure(
        'TEMPLATE_FAILED',
        `task "${task.name}": the request ${what} could not be rendered: ${(err as Error).message}`,
      );
    }
  };
  const method = (await render('method', textLiquid, task.method)).trim().toUpperCase();
  if (!(METHODS as readonly string[]).includes(method)) {
    throw new JobFailure(
      'TEMPLATE_FAILED',
      `task "${task.name}": the request method rendered as "${method}", not one of ${METHODS.join(', ')}`,
    );
  }
  const url = (await render('url', urlLiquid, task.url)).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new JobFailure('TEMPLATE_FAILED', `task "${task.name}": the request url did not render to a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new JobFailure('TEMPLATE_FAILED', `task "${task.name}": the request url must be http or https`);
  }
  const json = isJsonContentType(task.contentType);
  const body = task.body ? await render('body', json ? jsonLiquid : textLiquid, task.body) : undefined;
  if (body !== undefined && json) {
    try {
      JSON.parse(body);
    } catch (err) {
      throw new JobFailure(
        'TEMPLATE_FAILED',
        `task "${task.name}": the request body is not valid JSON once rendered (${(err as Error).message})`,
      );
    }
  }
  const headers: Record<string, string> = { accept: 'application/json, */*;q=0.5' };
  if (body !== undefined) headers['content-type'] = task.contentType;
  for (const [name, source] of Object.entries(task.headers))
    headers[name.toLowerCase()] = source.prefix + (config.headerValues.get(source.env) ?? '');
  return { method, url: parsed.toString(), headers, body };
}

/** Backoff before retry `attempt` (1 = the first retry): doubling from delayMs, capped, ±20 %. */
export function backoffMs(retry: TaskConfig['retry'], attempt: number, random: () => number = Math.random): number {
  const base = Math.min(retry.maxDelayMs, retry.delayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What one API call needs besides the attempt. */
interface ApiCall {
  task: TaskConfig;
  request: RenderedRequest;
  host: string;
  options: JobOptions;
  jobId: string;
}

/** An attempt that got no usable answer but may be tried again: why, and how long the API asked to wait. */
interface ApiMiss {
  problem: string;
  code: string;
  retryAfter?: number;
}

const relayStopped = () => new JobFailure('RELAY_STOPPED', 'the relay stopped before the job ended');

/** Calls the API, retrying what may succeed later; throws JobFailure when it gives up. */
async function callApi(
  task: TaskConfig,
  request: RenderedRequest,
  giveUpAt: number,
  options: JobOptions,
  jobId: string,
): Promise<{ answer: ApiAnswer; attempts: number }> {
  const call: ApiCall = { task, request, host: new URL(request.url).host, options, jobId };
  let lastProblem = '';
  for (let attempt = 1; ; attempt++) {
    const left = giveUpAt - Date.now();
    if (left <= 0) {
      throw new JobFailure(
        'DEADLINE',
        `task "${task.name}": no usable answer from ${call.host} before the job's deadline (${attempt - 1} attempt${attempt === 2 ? '' : 's'}${lastProblem ? `; last: ${lastProblem}` : ''})`,
      );
    }
    const tried = await attemptApi(call, attempt, Math.min(task.timeoutMs, left));
    if ('answer' in tried) return { answer: tried.answer, attempts: attempt };
    lastProblem = tried.problem;
    const pause = Math.max(backoffMs(task.retry, attempt), Math.min(tried.retryAfter ?? 0, task.retry.maxDelayMs));
    if (attempt >= task.retry.attempts || Date.now() + pause >= giveUpAt) {
      throw new JobFailure(
        tried.code,
        `task "${task.name}": ${call.host} ${tried.problem} (attempt ${attempt} of ${task.retry.attempts}${attempt < task.retry.attempts ? ', no time left before the deadline' : ''})`,
      );
    }
    await sleep(pause, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) throw relayStopped();
  }
}

/** One try within `timeoutMs`: the answer, or a miss worth retrying; throws JobFailure on a refusal retrying cannot change. */
async function attemptApi(call: ApiCall, attempt: number, timeoutMs: number): Promise<{ answer: ApiAnswer } | ApiMiss> {
  const { task, request, host, options, jobId } = call;
  const started = Date.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal,
      redirect: 'follow',
    });
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted) throw relayStopped();
    const timedOut = timeout.aborted;
    options.log.warn(
      { jobId, task: task.name, api: host, attempt, ms: Date.now() - started, timedOut },
      'api gave no answer',
    );
    return {
      problem: timedOut
        ? `no answer within ${timeoutMs} ms`
        : `unreachable (${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message})`,
      code: timedOut ? 'API_TIMEOUT' : 'API_UNREACHABLE',
    };
  }
  const ms = Date.now() - started;
  const fields = { jobId, task: task.name, api: host, attempt, status: response.status, ms };
  if (response.ok) {
    options.log.info(fields, 'api answered');
    const body = parseBody(text, response.headers.get('content-type'));
    return { answer: { status: response.status, headers: Object.fromEntries(response.headers), body } };
  }
  const retryable = response.status >= 500 || response.status === 429;
  options.log.warn({ ...fields, retry: retryable }, 'api refused');
  if (!retryable) throw new JobFailure('API_ERROR', `task "${task.name}": ${host} answered HTTP ${response.status}`);
  return {
    problem: `answered HTTP ${response.status}`,
    code: 'API_ERROR',
    retryAfter: retryAfterMs(response.headers.get('retry-after')),
  };
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType === null || isJsonContentType(contentType) || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: the mapping sees the text
    }
  }
  return text;
}

/** Applies the task's JSONata expression; throws JobFailure with the reason. */
export async function mapResult(task: TaskConfig, answer: ApiAnswer, dispatch: Dispatch): Promise<unknown> {
  let result: unknown;
  try {
    result = await task.result.evaluate(answer.body, {
      input: dispatch.input,
      status: answer.status,
      headers: answer.headers,
      jobId: dispatch.jobId,
    });
  } catch (err) {
    const e = err as { message?: string; code?: string; position?: number };
    throw new JobFailure(
      'MAPPING_FAILED',
      `task "${task.name}": the result mapping failed: ${e.message ?? String(err)}${e.code ? ` (JSONata ${e.code}${e.position !== undefined ? ` at position ${e.position}` : ''})` : ''}`,
    );
  }
  if (result === undefined) {
    throw new JobFailure(
      'MAPPING_FAILED',
      `task "${task.name}": the result mapping produced nothing (no field of the API's answer matched ${JSON.stringify(task.resultSource)})`,
    );
  }
  // JSONata sequences are arrays with extra flags; a plain JSON round trip gives what will be sent.
  const json = JSON.stringify(result);
  if (json === undefined)
    throw new JobFailure('MAPPING_FAILED', `task "${task.name}": the result mapping produced a function, not JSON`);
  if (Buffer.byteLength(json) > MAX_RESULT_BYTES) {
    throw new JobFailure(
      'RESULT_TOO_LARGE',
      `task "${task.name}": the mapped result is ${Buffer.byteLength(json)} bytes, over the ${MAX_RESULT_BYTES} the service accepts`,
    );
  }
  return JSON.parse(json);
}

/**
 * The service's answer when the job is final but its outcome has not reached the Studio execution
 * that delivers it (a messaging flow that did not wait): the same body must come again.
 */
const DELIVERY_PENDING = 'DELIVERY_PENDING';
/** How long a DELIVERY_PENDING completion is repeated, past the deadline if need be. */
export const DELIVERY_RETRY_MS = 120_000;

/** The service's error code in a JSON answer, if it has one. */
async function errorCode(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } };
    return typeof body?.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** What one POST of the completion got: the status (0: no whole answer), the service's error code on a 5xx, its Retry-After. */
interface CallbackAnswer {
  status: number;
  code?: string;
  retryAfter?: number;
}

/** One POST of the completion, its timeout cut to the deadline (1 s at the least). */
async function sendCompletion(
  callbackUrl: string,
  body: string,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<CallbackAnswer> {
  const timeout = AbortSignal.timeout(Math.max(1000, Math.min(CALLBACK_ATTEMPT_TIMEOUT_MS, deadline - Date.now())));
  const answer: CallbackAnswer = { status: 0 };
  try {
    const response = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    answer.retryAfter = retryAfterMs(response.headers.get('retry-after'));
    if (response.status >= 500) answer.code = await errorCode(response);
    else await response.body?.cancel();
    answer.status = response.status;
  } catch {
    // no (whole) answer: status stays 0
  }
  return answer;
}

/**
 * POSTs the completion, retrying on no answer, 429 and 5xx (at least once) with backoff until the
 * deadline. A 503 DELIVERY_PENDING (the job took the outcome; Studio has not yet) is repeated for
 * up to DELIVERY_RETRY_MS however the deadline stands, honouring its Retry-After.
 */
export async function postCompletion(
  dispatch: Dispatch,
  outcome: Outcome,
  options: JobOptions,
  retry = { delayMs: 250, maxDelayMs: 4000 },
  deliveryRetryMs = DELIVERY_RETRY_MS,
): Promise<{ status: number; attempts: number }> {
  const deadline = Date.parse(dispatch.deadline);
  const body = JSON.stringify({ jobId: dispatch.jobId, ...outcome });
  const where = callbackForLogs(dispatch.callbackUrl);
  let deliveryGiveUpAt: number | undefined;
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const { status, code, retryAfter } = await sendCompletion(dispatch.callbackUrl, body, deadline, options.signal);
    const retryable = status === 0 || status === 429 || status >= 500;
    const fields = {
      jobId: dispatch.jobId,
      callback: where,
      outcome: outcome.status,
      attempt,
      status,
      ...(code ? { code } : {}),
      ms: Date.now() - started,
    };
    if (!retryable) {
      if (status >= 200 && status < 300) options.log.info(fields, 'completion delivered');
      else options.log.error(fields, 'completion refused by the service');
      return { status, attempts: attempt };
    }
    const pending = code === DELIVERY_PENDING;
    if (pending) deliveryGiveUpAt ??= Date.now() + deliveryRetryMs;
    const giveUpAt = Math.max(deadline, deliveryGiveUpAt ?? 0);
    const pause = Math.max(backoffMs({ attempts: 0, ...retry }, attempt), Math.min(retryAfter ?? 0, retry.maxDelayMs));
    if (options.signal?.aborted || Date.now() + pause >= giveUpAt) {
      options.log.error(
        fields,
        pending
          ? 'completion taken, but the service could not hand it to Studio in time'
          : 'completion not delivered before the deadline',
      );
      return { status, attempts: attempt };
    }
    options.log.warn(
      fields,
      pending
        ? 'completion taken; the service is still handing it to Studio, sending it again'
        : 'completion not acknowledged, retrying',
    );
    await sleep(pause, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** The callback URL without its query (which carries the capability token): safe to log. */
export function callbackForLogs(callbackUrl: string): string {
  try {
    const url = new URL(callbackUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export async function runJob(
  task: TaskConfig,
  config: RelayConfig,
  dispatch: Dispatch,
  options: JobOptions,
): Promise<JobReport> {
  const giveUpAt = Date.parse(dispatch.deadline) - (options.completionReserveMs ?? 1500);
  let outcome: Outcome;
  let apiAttempts = 0;
  try {
    const request = await renderRequest(task, config, dispatch);
    const { answer, attempts } = await callApi(task, request, giveUpAt, options, dispatch.jobId);
    apiAttempts = attempts;
    outcome = { status: 'COMPLETED', result: await mapResult(task, answer, dispatch) };
  } catch (err) {
    const failure =
      err instanceof JobFailure ? err : new JobFailure('RELAY_ERROR', `task "${task.name}": ${(err as Error).message}`);
    outcome = { status: 'FAILED', error: { code: failure.code, message: failure.message } };
    options.log.warn(
      { jobId: dispatch.jobId, task: task.name, code: failure.code, reason: failure.message },
      'job failed',
    );
  }
  const delivery = await postCompletion(dispatch, outcome, options);
  return { outcome, apiAttempts, callbackStatus: delivery.status, callbackAttempts: delivery.attempts };
}
