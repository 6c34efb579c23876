/**
 * A backend that speaks the dispatch/completion contract, for local runs, tests, the chaos run
 * and (configured by bench/lib/backend.ts) the benchmarks. How it treats a job is chosen by the
 * job's input (job-plan.ts; the words are in backends/README.md); faults by input or option
 * (faults.ts).
 *
 * Like a well-behaved backend it treats a repeated dispatch of a job it already has as the same
 * job (one piece of work, one completion, the first answer repeated), retries a completion that
 * got no answer, a 429 or a 5xx (completions.ts), and takes the service's signed cancel events at
 * its dispatch URL and at the cancelUrls it gave out: that job's work stops, no heartbeat or
 * completion follows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CANCEL_EVENT_TYPE,
  type CancelEvent,
  type CompletionRequest,
  type DispatchRequest,
  type HeartbeatRequest,
} from '../src/lib/contracts';
import { sendCompletion, sendOnce, type CallbackReply } from './completions';
import { BackendFaults, type BackendFault, type BackendFaultOptions } from './faults';
import { heartbeatSchedule, planFromInput, type JobPlan } from './job-plan';
import { defaultResult, paddedResult } from './results';
import { readSignedBody, signatureHeaders } from './signed-requests';
import { BackendTimers } from './timers';

export { BACKEND_FAULT_KINDS, type BackendFaultKind, type BackendFaultPlan } from './faults';
export type { JobPlan } from './job-plan';

export interface ExampleBackendOptions {
  secret: string;
  /** Result for a job (before padding to `resultBytes`); defaults to a small object naming the job. */
  resultFor?: (dispatch: DispatchRequest) => Record<string, unknown>;
  /** Faults on every dispatch / status request at a seeded rate (on top of the per-job input). */
  faults?: BackendFaultOptions;
  /** How long a completion is retried after no answer or a 5xx/429 (default 20 s; 0 = once). */
  completionRetryMs?: number;
  /** How a job's input is read (default planFromInput: `behaviour`, `delayMs`, ...). */
  planFor?: (input: Record<string, unknown>) => JobPlan;
  /** How long every answer to a dispatch, status poll or cancel event takes (default 0). */
  answerDelayMs?: number;
  /** A poll-mode job's status before it is done (default `{status: 'PENDING', progress: 50}`). */
  pendingStatus?: Record<string, unknown>;
  /** What `resultBytes` pads a result with (default `ü`, two bytes in UTF-8). */
  paddingFill?: string;
}

export type CancelReceived = CancelEvent & {
  via: 'cancelUrl' | 'dispatchUrl';
  headers: Record<string, string>;
  rawBody: string;
};

export interface ExampleBackend {
  url: string;
  /** Every dispatch received (a repeated dispatch of one job appears again). */
  dispatches: DispatchRequest[];
  /** The last dispatch received for each job. */
  dispatchByJob: Map<string, DispatchRequest>;
  /** Completions sent, with the HTTP status /jobs/complete finally answered (0: no answer). */
  completions: Array<{ jobId: string; status: number; body: unknown; attempts: number }>;
  /** Heartbeats sent (behaviour `progress`), with the HTTP status and body of the answer. */
  heartbeats: Array<{ jobId: string; sent: HeartbeatRequest; status: number; body: unknown }>;
  /** Cancel events received, where they came in, and their raw headers and body (to verify the signature again). */
  cancels: CancelReceived[];
  /** Results handed out, by job id, exactly as sent. */
  results: Map<string, Record<string, unknown>>;
  /** performance.now() at which a poll-mode job's status turned final. */
  readyAt: Map<string, number>;
  rejectedSignatures: number;
  /** Faults this backend injected, by kind and where (`dispatch:drop`, `status:error`, ...). */
  faultsInjected: Record<string, number>;
  /** Sends a completion now (retried like the backend's own); for tests that drive timing. */
  complete(callbackUrl: string, completion: CompletionRequest): Promise<CallbackReply>;
  /** Sends a job's own outcome to its callbackUrl now (a job whose work is done when the test says). */
  completeJob(jobId: string): Promise<CallbackReply>;
  /** A poll-mode job's status turns final now. */
  markReady(jobId: string): void;
  close(): Promise<void>;
}

/** An answer to a dispatch, kept to be repeated for a repeated dispatch. */
interface DispatchReply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const DEFAULT_PENDING_STATUS = { status: 'PENDING', progress: 50 };
const DUPLICATE_SPACING_MS = 100;

function outcomeOf(dispatch: DispatchRequest, plan: JobPlan, result: Record<string, unknown>): CompletionRequest {
  return plan.outcome === 'FAILED'
    ? { jobId: dispatch.jobId, status: 'FAILED', error: { code: 'CRM_DOWN', message: 'The CRM did not answer' } }
    : { jobId: dispatch.jobId, status: 'COMPLETED', result };
}

/** The answer a plan gives a dispatch the first time; undefined for no answer (`hang`) or a bare 500 (`error`). */
function firstReply(dispatch: DispatchRequest, plan: JobPlan, outcome: CompletionRequest): DispatchReply | undefined {
  const cancelUrl = plan.offerCancelUrl ? { cancelUrl: `/cancel/${dispatch.jobId}` } : {};
  switch (plan.answer) {
    case 'hang':
    case 'error':
      return undefined;
    case 'reject':
      return { status: 400, headers: JSON_TYPE, body: '{"error":{"code":"BAD_INPUT","message":"no such task"}}' };
    case 'inline':
      return { status: 200, headers: JSON_TYPE, body: JSON.stringify(outcome) };
    case 'poll':
      return {
        status: 202,
        headers: { ...JSON_TYPE, 'retry-after': '1' },
        body: JSON.stringify({ statusUrl: `/status/${dispatch.jobId}`, ...cancelUrl }),
      };
    case 'push':
      return { status: 202, headers: JSON_TYPE, body: JSON.stringify({ accepted: true, ...cancelUrl }) };
  }
}

class ExampleBackendServer implements ExampleBackend {
  url = '';
  readonly dispatches: DispatchRequest[] = [];
  readonly dispatchByJob = new Map<string, DispatchRequest>();
  readonly completions: ExampleBackend['completions'] = [];
  readonly heartbeats: ExampleBackend['heartbeats'] = [];
  readonly cancels: CancelReceived[] = [];
  readonly results = new Map<string, Record<string, unknown>>();
  readonly readyAt = new Map<string, number>();
  rejectedSignatures = 0;
  /** Poll-mode jobs' outcomes, by job id. */
  private readonly polls = new Map<string, CompletionRequest>();
  /** Every job's outcome and where it goes, by job id. */
  private readonly outcomes = new Map<string, { callbackUrl: string; outcome: CompletionRequest }>();
  private readonly known = new Map<string, DispatchReply>();
  private readonly attempts = new Map<string, { dispatch: number; status: number }>();
  private readonly timers = new BackendTimers();
  private readonly faults: BackendFaults;
  private readonly server = http.createServer((request, response) => void this.handle(request, response));
  private readonly planFor: (input: Record<string, unknown>) => JobPlan;
  private closed = false;

  constructor(private readonly options: ExampleBackendOptions) {
    this.faults = new BackendFaults(options.faults);
    this.planFor = options.planFor ?? planFromInput;
  }

  get faultsInjected(): Record<string, number> {
    return this.faults.injected;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jobs`;
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timers.clearAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async complete(callbackUrl: string, completion: CompletionRequest): Promise<CallbackReply> {
    const reply = await sendCompletion(
      callbackUrl,
      completion,
      this.options.completionRetryMs ?? 20_000,
      () => this.closed,
    );
    this.completions.push({
      jobId: completion.jobId,
      status: reply.status,
      body: reply.body,
      attempts: reply.attempts,
    });
    return reply;
  }

  completeJob(jobId: string): Promise<CallbackReply> {
    const job = this.outcomes.get(jobId);
    if (!job) return Promise.reject(new Error(`no dispatch for ${jobId}`));
    return this.complete(job.callbackUrl, job.outcome);
  }

  markReady(jobId: string): void {
    if (!this.readyAt.has(jobId)) this.readyAt.set(jobId, performance.now());
  }

  /** Every request is signed; then it is a status poll, a cancel event or a dispatch. */
  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      const body = await readSignedBody(request, this.options.secret);
      if (body === undefined) {
        this.rejectedSignatures++;
        response.writeHead(401, JSON_TYPE).end('{"error":"bad signature"}');
        return;
      }
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (request.method === 'GET' && url.pathname.startsWith('/status/'))
        return await this.answerStatus(request, response, url.pathname.slice('/status/'.length));
      if (request.method === 'POST' && url.pathname.startsWith('/cancel/'))
        return await this.takeCancel(request, response, body, 'cancelUrl');
      if ((JSON.parse(body) as { type?: unknown }).type === CANCEL_EVENT_TYPE)
        return await this.takeCancel(request, response, body, 'dispatchUrl');
      await this.takeDispatch(request, response, JSON.parse(body) as DispatchRequest);
    } catch (error) {
      if (!response.headersSent)
        response.writeHead(400, JSON_TYPE).end(JSON.stringify({ error: String((error as Error).message) }));
    }
  }

  /** The backend's own latency (answerDelayMs) before an answer. */
  private async answerDelay(): Promise<void> {
    if (this.options.answerDelayMs) await this.timers.wait(this.options.answerDelayMs);
  }

  private async answerStatus(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    jobId: string,
  ): Promise<void> {
    const outcome = this.polls.get(jobId);
    if (!outcome) return void response.writeHead(404).end();
    const attempts = this.attempts.get(jobId)!;
    attempts.status += 1;
    const input = this.dispatchByJob.get(jobId)?.input;
    if (await this.faults.strikeBefore('status', this.faults.pick('status', input, attempts.status), request, response))
      return;
    await this.answerDelay();
    const report = this.readyAt.has(jobId) ? outcome : (this.options.pendingStatus ?? DEFAULT_PENDING_STATUS);
    response.writeHead(200, { ...JSON_TYPE, 'retry-after': '1' }).end(JSON.stringify(report));
  }

  /** A signed cancel event: count it, stop the job's work, answer 202. */
  private async takeCancel(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    body: string,
    via: CancelReceived['via'],
  ): Promise<void> {
    const event = JSON.parse(body) as CancelEvent;
    this.cancels.push({ ...event, via, headers: signatureHeaders(request), rawBody: body });
    this.timers.cancelJob(event.jobId);
    await this.answerDelay();
    response.writeHead(202, JSON_TYPE).end('{"accepted":true}');
  }

  private async takeDispatch(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    dispatch: DispatchRequest,
  ): Promise<void> {
    this.dispatches.push(dispatch);
    this.dispatchByJob.set(dispatch.jobId, dispatch);
    const attempts = this.attempts.get(dispatch.jobId) ?? { dispatch: 0, status: 0 };
    this.attempts.set(dispatch.jobId, attempts);
    attempts.dispatch += 1;
    const fault = this.faults.pick('dispatch', dispatch.input, attempts.dispatch);
    if (await this.faults.strikeBefore('dispatch', fault, request, response)) return;

    const repeated = this.known.get(dispatch.jobId);
    if (repeated) {
      await this.answerDelay();
      return void response.writeHead(repeated.status, repeated.headers).end(repeated.body);
    }
    const plan = this.planFor(dispatch.input);
    const outcome = this.takeJob(dispatch, plan);
    const reply = firstReply(dispatch, plan, outcome);
    if (!reply) {
      if (plan.answer === 'hang') return; // never answers; the service's dispatch timeout must cope
      await this.answerDelay();
      return void response.writeHead(500).end();
    }
    this.known.set(dispatch.jobId, reply);
    await this.answerDelay();
    this.startWork(dispatch, plan, outcome);
    this.answerDispatch(request, response, reply, fault);
  }

  /** The job's result and outcome, kept for its completion, status polls and the tests. */
  private takeJob(dispatch: DispatchRequest, plan: JobPlan): CompletionRequest {
    const base = this.options.resultFor?.(dispatch) ?? defaultResult(dispatch);
    const result = paddedResult(base, plan.resultBytes, this.options.paddingFill);
    const outcome = outcomeOf(dispatch, plan, result);
    if (outcome.status === 'COMPLETED') this.results.set(dispatch.jobId, result);
    this.outcomes.set(dispatch.jobId, { callbackUrl: dispatch.callbackUrl, outcome });
    if (plan.answer === 'poll') this.polls.set(dispatch.jobId, outcome);
    return outcome;
  }

  /** `drop-after`: the work is taken, then the connection is closed, so the service never hears the answer. */
  private answerDispatch(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    reply: DispatchReply,
    fault: BackendFault | undefined,
  ): void {
    if (fault?.kind === 'drop-after') {
      this.faults.count('dispatch', 'drop-after');
      request.socket.destroy();
      return;
    }
    response.writeHead(reply.status, reply.headers).end(reply.body);
  }

  /** Schedules what the job does by itself: a poll job turning final, a push job's heartbeats and completion. */
  private startWork(dispatch: DispatchRequest, plan: JobPlan, outcome: CompletionRequest): void {
    const { jobId, callbackUrl } = dispatch;
    const doneAfterMs = plan.doneAfterMs;
    if (doneAfterMs === undefined) return;
    if (plan.answer === 'poll') {
      // Not the job's own work: a cancel event does not stop its status from turning final.
      if (!Number.isNaN(doneAfterMs)) this.timers.later(doneAfterMs, () => this.markReady(jobId));
      return;
    }
    if (plan.answer !== 'push') return;
    for (let i = 0; i < (plan.sendTwice ? 2 : 1); i++) {
      this.timers.later(
        doneAfterMs + i * DUPLICATE_SPACING_MS,
        () => void this.complete(callbackUrl, outcome).catch(() => undefined),
        jobId,
      );
    }
    for (const { at, sent } of plan.heartbeats ? heartbeatSchedule(doneAfterMs, plan.heartbeats) : []) {
      this.timers.later(at, () => void this.heartbeat(callbackUrl, jobId, sent), jobId);
    }
  }

  private async heartbeat(callbackUrl: string, jobId: string, sent: HeartbeatRequest): Promise<void> {
    const reply = await sendOnce(callbackUrl, sent);
    this.heartbeats.push({ jobId, sent, ...reply });
  }
}

export function startExampleBackend(options: ExampleBackendOptions): Promise<ExampleBackend> {
  return new ExampleBackendServer(options).listen();
}
