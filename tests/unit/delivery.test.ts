/**
 * Delivery bookkeeping of a messaging job (START_NOTIFY_PARAMS): the job service in process,
 * Sync in the emulator (real revisions), and Studio as a fake port that counts executions, or
 * the real port against the emulator's Executions API. Exactly one execution per job, whatever
 * races or fails; the outcome is never lost; the flow sends what the start reply carries itself.
 */
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import { startEmulator, type EmulatorHandle } from '../../emulator/server';
import { createEmulatorTwilioClient } from '../../dev/emulator-client';
import { loadConfig, type ServiceConfig } from '../../src/lib/config';
import type { FlowDeliveryData } from '../../src/lib/contracts';
import { httpBackend } from '../../src/lib/backend/http-backend';
import { HttpError, httpErrorOf } from '../../src/lib/http/errors';
import type { NotifyTarget, VersionedJob } from '../../src/lib/jobs/job';
import { jobIdForKey } from '../../src/lib/jobs/job-id';
import { JobService } from '../../src/lib/jobs/job-service';
import type { ExecutionAttempt, FlowDelivery, HoldVoice } from '../../src/lib/jobs/ports';
import { twilioFlowDelivery } from '../../src/lib/messaging/flow-delivery';
import { systemClock } from '../../src/lib/runtime/clock';
import { SyncJobStore } from '../../src/lib/store/job-store';
import { SyncDocuments } from '../../src/lib/store/sync-documents';
import { DELIVERY_CLAIM_MS } from '../../src/lib/timing';
import { createTwilioClient } from '../../src/lib/twilio/client';

const SECRET = `whsec_${Buffer.from('delivery-test-secret-0123456789').toString('base64')}`;
const ACCOUNT_SID = `AC${'0'.repeat(32)}`;
const NO_CALLER: HoldVoice = { release: async () => 'failed', callEnded: async () => undefined };

/** Studio as the job service sees it: each answer planned, each execution counted. */
class FakeStudio implements FlowDelivery {
  readonly started: Array<{ target: NotifyTarget; data: FlowDeliveryData }> = [];
  readonly plan: Array<Extract<ExecutionAttempt, { ok: false }>> = [];
  /** Executions a lost answer created, by job: what findExecution finds. */
  readonly lost = new Map<string, string>();
  lookups = 0;

  async startExecution(target: NotifyTarget, data: FlowDeliveryData): Promise<ExecutionAttempt> {
    await sleep(30); // Studio takes a moment: racing requests see the claim meanwhile
    const failure = this.plan.shift();
    if (failure) return failure;
    this.started.push({ target, data });
    return { ok: true, executionSid: `FN${crypto.randomBytes(16).toString('hex')}` };
  }

  async findExecution(_target: NotifyTarget, jobId: string): Promise<string | undefined> {
    this.lookups += 1;
    return this.lost.get(jobId);
  }
}

let emulator: EmulatorHandle;
let backend: ExampleBackend;
let config: ServiceConfig;
let flowSid: string;

beforeAll(async () => {
  // The service logs each attempt; the assertions say what happened.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  emulator = await startEmulator();
  backend = await startExampleBackend({ secret: SECRET });
  config = loadConfig({
    ACCOUNT_SID,
    AUTH_TOKEN: 'token',
    TWILIO_API_BASE_URL: emulator.url,
    BACKEND_URL: backend.url,
    WEBHOOK_SECRET: SECRET,
  });
  const client = createEmulatorTwilioClient(emulator.url);
  const definition = {
    description: 'test',
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
    states: [{ name: 'Trigger', type: 'trigger', transitions: [], properties: { offset: { x: 0, y: 0 } } }],
  };
  flowSid = (await client.studio.v2.flows.create({ friendlyName: 'messaging', status: 'published', definition })).sid;
});
afterAll(async () => {
  await backend?.close();
  await emulator?.close();
});
afterEach(() => expect(emulator.violations()).toEqual([]));

const notify = (): NotifyTarget => ({ flowSid, to: '+15005550006', from: '+15005550001' });
const store = () =>
  new SyncJobStore(new SyncDocuments(createTwilioClient(config), config.syncServiceSid), config.jobTtlSeconds);
/** One request's job service (each request builds its own, as servicesFor does). */
const service = (studio: FlowDelivery, now: () => number = Date.now) =>
  new JobService(config, {
    store: store(),
    voice: NO_CALLER,
    backend: httpBackend(config),
    delivery: studio,
    clock: { ...systemClock, now },
  });

async function start(
  studio: FlowDelivery,
  input: Record<string, unknown>,
  options: { waitSeconds?: number; maxHoldSeconds?: number; withNotify?: boolean } = {},
) {
  return service(studio).start({
    idempotencyKey: crypto.randomUUID(),
    input: { task: 'delivery-test', ...input },
    maxHoldSeconds: options.maxHoldSeconds ?? 60,
    waitSeconds: options.waitSeconds ?? 0,
    callbackUrl: (jobId) => `http://127.0.0.1:9/jobs/complete?jobId=${jobId}`,
    ...(options.withNotify === false ? {} : { notify: notify() }),
  });
}

/** A push-mode start with this idempotency key (Studio's retry of a start carries the same one). */
const startKeyed = (studio: FlowDelivery, key: string, task: string, waitSeconds: number) =>
  service(studio).start({
    idempotencyKey: key,
    input: { task, behaviour: 'manual' },
    maxHoldSeconds: 60,
    waitSeconds,
    callbackUrl: () => 'http://127.0.0.1:9/',
    notify: notify(),
  });

const job = async (jobId: string): Promise<VersionedJob> => (await store().get(jobId))!;
const complete = (studio: FlowDelivery, jobId: string, result: Record<string, unknown>) =>
  service(studio).complete({ jobId, status: 'COMPLETED', result });

/** The refusal as the HTTP edge answers it (the domain's refusals become HttpErrors there). */
async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  const error = httpErrorOf(thrown);
  if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(thrown)}`);
  return error;
}

describe('who delivers: /jobs/start decides, once', () => {
  it('a pending push-mode job gets the target and the reply says execution', async () => {
    const studio = new FakeStudio();
    const { current, delivery } = await start(studio, { behaviour: 'manual' });
    expect(delivery).toBe('execution');
    expect((await job(current.job.jobId)).job.notify).toEqual(notify());
    expect(studio.started).toEqual([]);
  });

  it('a job finished within the wait goes back in the reply, and no execution follows', async () => {
    const studio = new FakeStudio();
    const { current, delivery } = await start(studio, { behaviour: 'inline' }, { waitSeconds: 2 });
    expect(current.job.status).toBe('COMPLETED');
    expect(delivery).toBeUndefined();
    expect((await job(current.job.jobId)).job).not.toHaveProperty('notify');
    expect(studio.started).toEqual([]);
  });

  it('a completion that lands while /jobs/start waits: the reply carries it, the completion starts nothing', async () => {
    const studio = new FakeStudio();
    const key = crypto.randomUUID();
    const jobId = jobIdForKey(config.jobIdSecret, key);
    const starting = startKeyed(studio, key, 'early', 3);
    // Complete it as soon as it exists, while the start still waits for a fast finish.
    while (!(await store().get(jobId))) await sleep(20);
    expect(await complete(studio, jobId, { message: 'early' })).toMatchObject({ duplicate: false });
    const { current, delivery } = await starting;
    expect(current.job).toMatchObject({ jobId, status: 'COMPLETED', result: { message: 'early' } });
    expect(delivery).toBeUndefined();
    expect(current.job).not.toHaveProperty('notify');
    expect(studio.started).toEqual([]);
  });

  it('poll mode: the flow waits (delivery wait); the job gets no target', async () => {
    const studio = new FakeStudio();
    const { current, delivery } = await start(studio, { behaviour: 'poll', delayMs: '60000' });
    expect(current.job.mode).toBe('poll');
    expect(delivery).toBe('wait');
    expect((await job(current.job.jobId)).job).not.toHaveProperty('notify');
  });

  it('without notify parameters nothing changes: no delivery field, no target', async () => {
    const studio = new FakeStudio();
    const { current, delivery } = await start(studio, { behaviour: 'manual' }, { withNotify: false });
    expect(delivery).toBeUndefined();
    expect((await job(current.job.jobId)).job).not.toHaveProperty('notify');
  });

  it('a repeated start of a job an execution delivered says execution again (the flow sends nothing more)', async () => {
    const studio = new FakeStudio();
    const key = crypto.randomUUID();
    const first = await startKeyed(studio, key, 'again', 0);
    await complete(studio, first.current.job.jobId, { message: 'done' });
    const again = await startKeyed(studio, key, 'again', 0);
    expect(again).toMatchObject({ created: false, delivery: 'execution', current: { job: { status: 'COMPLETED' } } });
    expect(studio.started).toHaveLength(1);
  });
});

describe('the execution: started once, by the request that made the job final', () => {
  it('a completion starts one execution with the outcome as flow.data and records it', async () => {
    const studio = new FakeStudio();
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    const result = { message: 'Your order ships tomorrow.', items: [1, 2] };
    expect(await complete(studio, jobId, result)).toMatchObject({ duplicate: false });
    expect(studio.started).toEqual([{ target: notify(), data: { jobId, status: 'COMPLETED', result } }]);
    const stored = (await job(jobId)).job;
    expect(stored.delivery).toEqual({
      state: 'delivered',
      attempts: 1,
      executionSid: expect.stringMatching(/^FN[0-9a-f]{32}$/),
    });
    expect(stored.result).toEqual(result);
    // The same completion again: acknowledged, nothing started.
    expect(await complete(studio, jobId, result)).toMatchObject({ duplicate: true });
    expect(studio.started).toHaveLength(1);
  });

  it('a FAILED completion is delivered with its error', async () => {
    const studio = new FakeStudio();
    const { current } = await start(studio, { behaviour: 'manual' });
    await service(studio).complete({
      jobId: current.job.jobId,
      status: 'FAILED',
      error: { code: 'CRM_DOWN', message: 'The CRM did not answer' },
    });
    expect(studio.started.map((s) => s.data)).toEqual([
      { jobId: current.job.jobId, status: 'FAILED', error: { code: 'CRM_DOWN', message: 'The CRM did not answer' } },
    ]);
  });

  it('concurrent completions of one job start exactly one execution', async () => {
    const studio = new FakeStudio();
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        complete(studio, jobId, { message: 'same' }).then(
          (r) => (r.duplicate ? 'duplicate' : 'applied'),
          (e: unknown) => httpErrorOf(e)?.code ?? String(e),
        ),
      ),
    );
    expect(studio.started).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    // The rest saw the outcome already there: acknowledged, or told to come back while the claim holds.
    for (const outcome of outcomes.filter((o) => o !== 'applied'))
      expect(['duplicate', 'DELIVERY_PENDING']).toContain(outcome);
    // Once the winner has recorded it, a repeat is a plain duplicate.
    expect(await complete(studio, jobId, { message: 'same' })).toMatchObject({ duplicate: true });
    expect(studio.started).toHaveLength(1);
    expect((await job(jobId)).job.delivery).toMatchObject({ state: 'delivered', attempts: 1 });
  });

  it('a contact mid-conversation: 503 DELIVERY_PENDING, the outcome kept; the repeat delivers it, once', async () => {
    const studio = new FakeStudio();
    studio.plan.push({
      ok: false,
      error: { code: 'CONTACT_ACTIVE', message: 'Execution FN… is already active for this contact' },
      retryAfterSeconds: 5,
    });
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    const refused = await refusal(complete(studio, jobId, { message: 'kept' }));
    expect(refused).toMatchObject({ code: 'DELIVERY_PENDING', status: 503, retryAfterSeconds: 5 });
    expect(refused.message).toMatch(/COMPLETED, but its outcome has not reached Studio yet \(CONTACT_ACTIVE/);
    const pending = (await job(jobId)).job;
    expect(pending).toMatchObject({
      status: 'COMPLETED',
      result: { message: 'kept' },
      delivery: { state: 'pending', attempts: 1, lastError: { code: 'CONTACT_ACTIVE' } },
    });
    expect(pending.delivery).not.toHaveProperty('claimedUntil');
    expect(studio.started).toEqual([]);
    // The backend sends the same body again: now Studio takes it.
    expect(await complete(studio, jobId, { message: 'kept' })).toMatchObject({ duplicate: true });
    expect(studio.started.map((s) => s.data.result)).toEqual([{ message: 'kept' }]);
    expect((await job(jobId)).job.delivery).toMatchObject({ state: 'delivered', attempts: 2 });
    // A conflicting completion is still refused as before, once delivered.
    expect(await refusal(complete(studio, jobId, { message: 'other' }))).toMatchObject({ code: 'JOB_ALREADY_FINAL' });
    expect(studio.started).toHaveLength(1);
  });

  it('an attempt whose answer was lost is looked for before another is started', async () => {
    const studio = new FakeStudio();
    studio.plan.push({
      ok: false,
      error: { code: 'STUDIO_UNAVAILABLE', message: 'socket hang up', unsure: true },
      retryAfterSeconds: 2,
    });
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    expect(await refusal(complete(studio, jobId, { message: 'once' }))).toMatchObject({ code: 'DELIVERY_PENDING' });
    expect(studio.lookups).toBe(0);
    // Studio had started it after all: the retry finds it and starts no second one.
    studio.lost.set(jobId, `FN${'a'.repeat(32)}`);
    expect(await complete(studio, jobId, { message: 'once' })).toMatchObject({ duplicate: true });
    expect(studio.lookups).toBe(1);
    expect(studio.started).toEqual([]);
    expect((await job(jobId)).job.delivery).toEqual({
      state: 'delivered',
      attempts: 2,
      executionSid: `FN${'a'.repeat(32)}`,
    });
  });

  it('a claim whose request vanished is taken over after it lapses, looking first', async () => {
    const studio = new FakeStudio();
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    // A request wrote the final status with its claim and died before Studio answered.
    const pending = await job(jobId);
    const now = Date.now();
    const final = {
      ...pending.job,
      status: 'COMPLETED' as const,
      result: { message: 'orphan' },
      finishedAt: now,
      finishedBy: 'callback' as const,
      delivery: { state: 'pending' as const, attempts: 1, claimedUntil: now + DELIVERY_CLAIM_MS, attemptedAt: now },
    };
    await store().replace(pending, final);
    // While the claim holds, nobody else starts one.
    expect(await service(studio).settleDelivery(await job(jobId))).toMatchObject({
      kind: 'pending',
      retryAfterSeconds: 1,
    });
    expect(studio.started).toEqual([]);
    const later = () => Date.now() + DELIVERY_CLAIM_MS + 1000;
    expect(await service(studio, later).settleDelivery(await job(jobId))).toMatchObject({ kind: 'delivered' });
    expect(studio.lookups).toBe(1);
    expect(studio.started.map((s) => s.data.result)).toEqual([{ message: 'orphan' }]);
  });

  it('the deadline seen by a heartbeat starts the TIMED_OUT execution', async () => {
    const studio = new FakeStudio();
    const { current } = await start(studio, { behaviour: 'manual' }, { maxHoldSeconds: 10 });
    const { jobId } = current.job;
    const afterDeadline = () => Date.now() + 11_000;
    const late = await refusal(service(studio, afterDeadline).heartbeat({ jobId, status: 'PENDING', progress: 50 }));
    expect(late.code).toBe('JOB_ALREADY_FINAL');
    expect(studio.started.map((s) => s.data)).toEqual([
      {
        jobId,
        status: 'TIMED_OUT',
        error: { code: 'TIMED_OUT', message: 'The work did not finish before the deadline' },
      },
    ]);
  });
});

describe('the real port against the emulator', () => {
  it("a create whose reply is lost (HTTP 500 after it happened) is found in the flow's executions: one execution", async () => {
    const studio = twilioFlowDelivery(createTwilioClient(config));
    const { current } = await start(studio, { behaviour: 'manual' });
    const { jobId } = current.job;
    emulator.faults.configure({
      rules: [{ kind: 'server-error', operation: 'studio.executions.create', nth: 1, when: 'after' }],
    });
    try {
      const refused = await refusal(complete(studio, jobId, { message: 'exactly once' }));
      expect(refused).toMatchObject({ code: 'DELIVERY_PENDING' });
      expect((await job(jobId)).job.delivery).toMatchObject({
        state: 'pending',
        lastError: { code: 'STUDIO_UNAVAILABLE', unsure: true },
      });
      expect(await complete(studio, jobId, { message: 'exactly once' })).toMatchObject({ duplicate: true });
    } finally {
      emulator.faults.clear();
    }
    const mine = emulator.state().executions.filter((e) => e.data.jobId === jobId);
    expect(mine).toEqual([
      expect.objectContaining({
        flowSid,
        contact: '+15005550006',
        startedBy: 'rest',
        status: 'active',
        data: { jobId, status: 'COMPLETED', result: { message: 'exactly once' } },
      }),
    ]);
    expect((await job(jobId)).job.delivery).toMatchObject({
      state: 'delivered',
      attempts: 2,
      executionSid: mine[0]!.sid,
    });
  });
});
