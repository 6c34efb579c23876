/**
 * The relay's HTTP server (fastify): `POST /dispatch` takes studio-async's signed dispatch and
 * answers 202 at once, the job runs in the background (job.ts); `GET /health` says it is up.
 *
 * It keeps no state beyond the jobs running in this process, so more copies behind a load
 * balancer scale it. A dispatch repeated while its job runs here is answered 202 again without a
 * second call to the API; a copy cannot see another copy's jobs.
 */
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { RelayConfig, TaskConfig } from './config';
import { callbackForLogs, runJob, type Dispatch, type JobReport } from './job';

export interface RelayOptions {
  config: RelayConfig;
  /** WEBHOOK_SECRET (`whsec_…`), and the previous one during a rotation. */
  secret: string;
  previousSecret?: string;
  /** fastify's logger option (pino); default: JSON lines on stdout at `info`. */
  logger?: FastifyServerOptions['logger'];
  /** Time kept free before the deadline for the completion (default 1500 ms). */
  completionReserveMs?: number;
  /** Called when a job has ended (its completion delivered or given up); for tests. */
  onJobEnd?: (jobId: string, report: JobReport) => void;
}

export interface Relay {
  app: FastifyInstance;
  /** Jobs running now. */
  running(): number;
  /**
   * Stops taking dispatches and closes the server. With `wait`, running jobs first end on their own
   * (each by its deadline at the latest); without, they are abandoned (no completion is sent).
   */
  close(options?: { wait?: boolean }): Promise<void>;
}

function reply(code: string, message: string) {
  return { error: { code, message } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the dispatch's shape; returns a problem or the dispatch. */
function readDispatch(body: unknown): Dispatch | string {
  if (!isObject(body)) return 'the body must be a JSON object';
  const { jobId, input, callbackUrl, deadline } = body;
  if (typeof jobId !== 'string' || jobId === '') return '"jobId" must be a non-empty string';
  if (!isObject(input)) return '"input" must be an object';
  if (typeof callbackUrl !== 'string' || !/^https?:\/\//i.test(callbackUrl))
    return '"callbackUrl" must be an http(s) URL';
  try {
    new URL(callbackUrl);
  } catch {
    return '"callbackUrl" must be an http(s) URL';
  }
  if (typeof deadline !== 'string' || Number.isNaN(Date.parse(deadline))) return '"deadline" must be an ISO 8601 time';
  return { jobId, input, callbackUrl, deadline };
}

/** What the /dispatch route works with: the config, the signature check and the jobs running here. */
interface RelayState {
  options: RelayOptions;
  verifiers: Webhook[];
  app: FastifyInstance;
  jobs: Map<string, Promise<void>>;
  /** Per running job: aborted when the service says the job was cancelled. */
  cancels: Map<string, AbortController>;
  /** Aborted when the relay closes without waiting: every job stops. */
  stop: AbortController;
}

/** True when a (current or previous) secret verifies the exact body with its Standard Webhooks headers. */
function isSigned(state: RelayState, raw: string, headers: Record<string, string>): boolean {
  return state.verifiers.some((webhook) => {
    try {
      webhook.verify(raw, headers);
      return true;
    } catch {
      return false;
    }
  });
}

function signatureHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** The service's cancel event (the caller hung up, or the deadline passed): stop the job if it runs here. */
function takeCancel(state: RelayState, request: FastifyRequest, res: FastifyReply, jobId: string): FastifyReply {
  const running = state.cancels.get(jobId);
  running?.abort();
  request.log.info({ jobId, runningHere: Boolean(running) }, 'job cancelled by the service');
  return res.code(202).send({ accepted: true, cancelled: Boolean(running) });
}

/** Starts the job in the background; it is forgotten when it ends. */
function startJob(state: RelayState, task: TaskConfig, dispatch: Dispatch): void {
  const { options, app, jobs, cancels, stop } = state;
  const log = app.log.child({ jobId: dispatch.jobId });
  const cancel = new AbortController();
  cancels.set(dispatch.jobId, cancel);
  const job = runJob(task, options.config, dispatch, {
    log,
    signal: AbortSignal.any([stop.signal, cancel.signal]),
    completionReserveMs: options.completionReserveMs,
  })
    .then((report) => options.onJobEnd?.(dispatch.jobId, report))
    .catch((err: Error) => log.error({ err: err.message }, 'job crashed'))
    .finally(() => {
      jobs.delete(dispatch.jobId);
      cancels.delete(dispatch.jobId);
    });
  jobs.set(dispatch.jobId, job);
}

/** A checked dispatch: refused (unknown task, deadline passed), repeated (already running here) or started. */
function takeDispatch(state: RelayState, request: FastifyRequest, res: FastifyReply, dispatch: Dispatch): FastifyReply {
  const { config } = state.options;
  const taskName = dispatch.input.task;
  const task = typeof taskName === 'string' ? config.tasks.get(taskName) : undefined;
  const fields = {
    jobId: dispatch.jobId,
    task: taskName,
    callback: callbackForLogs(dispatch.callbackUrl),
    deadline: dispatch.deadline,
  };
  if (!task) {
    request.log.warn(fields, 'dispatch refused: unknown task');
    const known = [...config.tasks.keys()].map((n) => `"${n}"`).join(', ');
    return res
      .code(422)
      .send(
        reply(
          'UNKNOWN_TASK',
          `input.task ${typeof taskName === 'string' ? `"${taskName}"` : 'is missing and'} is not a task of this relay (${known})`,
        ),
      );
  }
  if (Date.parse(dispatch.deadline) <= Date.now()) {
    request.log.warn(fields, 'dispatch refused: deadline passed');
    return res.code(422).send(reply('DEADLINE_PASSED', "the job's deadline has passed"));
  }
  if (state.jobs.has(dispatch.jobId)) {
    request.log.info(fields, 'dispatch repeated: job already running here');
    return res.code(202).send({ accepted: true, duplicate: true });
  }
  startJob(state, task, dispatch);
  request.log.info(fields, 'dispatch accepted');
  return res.code(202).send({ accepted: true });
}

/** `POST /dispatch`: a signed dispatch or cancel event, answered at once. */
function dispatchRoute(state: RelayState, request: FastifyRequest, res: FastifyReply): FastifyReply {
  const raw = typeof request.body === 'string' ? request.body : '';
  const headers = signatureHeaders(request);
  if (!isSigned(state, raw, headers)) {
    request.log.warn({ webhookId: headers['webhook-id'] }, 'dispatch refused: bad or missing signature');
    return res
      .code(401)
      .send(reply('INVALID_SIGNATURE', 'the dispatch is not signed with WEBHOOK_SECRET (Standard Webhooks)'));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return res.code(400).send(reply('INVALID_DISPATCH', 'the body is not JSON'));
  }
  const event = parsed as { type?: unknown; jobId?: unknown } | null;
  if (event && typeof event === 'object' && event.type === 'job.cancelled' && typeof event.jobId === 'string')
    return takeCancel(state, request, res, event.jobId);
  const dispatch = readDispatch(parsed);
  if (typeof dispatch === 'string') return res.code(400).send(reply('INVALID_DISPATCH', dispatch));
  return takeDispatch(state, request, res, dispatch);
}

export function buildRelay(options: RelayOptions): Relay {
  const app = Fastify({
    // Request logs carry method, path and status only: no headers, no bodies.
    logger: options.logger ?? { level: process.env.LOG_LEVEL ?? 'info' },
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
  });
  const state: RelayState = {
    options,
    verifiers: [options.secret, options.previousSecret].filter((s): s is string => !!s).map((s) => new Webhook(s)),
    app,
    jobs: new Map(),
    cancels: new Map(),
    stop: new AbortController(),
  };
  const { jobs, stop } = state;

  // Keep the exact bytes: the signature is over them.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get('/health', { logLevel: 'warn' }, async () => ({
    status: 'ok',
    tasks: [...options.config.tasks.keys()],
    running: jobs.size,
  }));
  app.post('/dispatch', async (request, res) => dispatchRoute(state, request, res));

  let waitOnClose = false;
  app.addHook('onClose', async () => {
    if (!waitOnClose) stop.abort();
    while (jobs.size > 0) await Promise.allSettled([...jobs.values()]);
  });

  return {
    app,
    running: () => jobs.size,
    close: async ({ wait = false } = {}) => {
      waitOnClose = wait;
      if (!wait) stop.abort();
      await app.close();
    },
  };
}
