/**
 * The job service on in-memory ports: a store over a Map with revision-checked writes, fake
 * Voice, backend and Studio, and clocks the test sets. Every store, Voice, backend and Studio
 * call waits for a seeded scheduler to let it through, so requests racing one job interleave in
 * a different order under every seed; each request sees the time it arrived at, a millisecond
 * or two apart around the deadline. Whatever the order, a job ends in exactly one final status,
 * the caller is released once, the backend hears one cancel event when it is owed one, and a
 * messaging flow gets its outcome once.
 */
import {
  isFinalStatus,
  type CancelEvent,
  type FinalJobStatus,
  type FlowDeliveryData,
  type JobStatus,
} from '../../src/lib/contracts';
import { httpErrorOf } from '../../src/lib/http/errors';
import { DeliveryPending, IdempotencyConflict, JobAlreadyFinal, JobNotFound } from '../../src/lib/jobs/errors';
import type { HeldCall, JobRecord, NotifyTarget, ResultChunks, VersionedJob } from '../../src/lib/jobs/job';
import { JobService, type StartRequest } from '../../src/lib/jobs/job-service';
import type {
  Backend,
  CancelDelivery,
  Clock,
  CreateOutcome,
  DispatchResult,
  ExecutionAttempt,
  FlowDelivery,
  HoldVoice,
  JobStore,
  PollResult,
  ReleaseOutcome,
} from '../../src/lib/jobs/ports';
import { withRequestBudget } from '../../src/lib/runtime/budget';
import { WAIT_RESERVE_MS } from '../../src/lib/timing';
import { seededRandom } from '../../emulator/faults';

const T0 = 1_700_000_000_000;
const HOLD_SECONDS = 60;
const DEADLINE = T0 + HOLD_SECONDS * 1000;
const SETTINGS = { jobIdSecret: 'job-service-test', jobTtlSeconds: 86_400, simulatedWorkSeconds: { min: 5, max: 5 } };
const CALLER: HeldCall = { callSid: `CA${'1'.repeat(32)}`, flowSid: `FW${'2'.repeat(32)}` };
const NOTIFY: NotifyTarget = { flowSid: `FW${'3'.repeat(32)}`, to: '+15005550006', from: '+15005550001' };

/** Lets one waiting call through at a time, picked at random among all that wait. */
class Scheduler {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;
  constructor(private readonly random: () => number = () => 0) {}

  gate(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the I/O of this turn: every request that can run has reached its next call by then.
    setImmediate(() => {
      this.scheduled = false;
      const [next] = this.waiting.splice(Math.floor(this.random() * this.waiting.length), 1);
      next?.();
      if (this.waiting.length > 0) this.schedule();
    });
  }
}

const copy = <T>(value: T): T => structuredClone(value);

/** The store port over a Map: each write names the revision it replaces, like Sync's If-Match. */
class MemoryStore implements JobStore {
  private readonly documents = new Map<string, VersionedJob>();
  private readonly chunks = new Map<string, string>();
  private revisions = 0;
  /** Every write that landed: the status it replaced and the one it wrote. */
  readonly writes: Array<{ from?: JobStatus; to: JobStatus }> = [];

  constructor(private readonly scheduler: Scheduler) {}

  async create(job: JobRecord): Promise<CreateOutcome> {
    await this.scheduler.gate();
    const existing = this.documents.get(job.jobId);
    if (existing)
      return { created: job.createId !== undefined && existing.job.createId === job.createId, current: copy(existing) };
    const stored = { job: copy(job), revision: String(++this.revisions) };
    this.documents.set(job.jobId, stored);
    this.writes.push({ to: job.status });
    return { created: true, current: copy(stored) };
  }

  async get(jobId: string): Promise<VersionedJob | undefined> {
    await this.scheduler.gate();
    const stored = this.documents.get(jobId);
    return stored && copy(stored);
  }

  async replace(current: VersionedJob, next: JobRecord): Promise<VersionedJob | 'conflict'> {
    await this.scheduler.gate();
    const stored = this.documents.get(next.jobId);
    if (!stored || stored.revision !== current.revision) return 'conflict';
    const written = { job: copy(next), revision: String(++this.revisions) };
    this.documents.set(next.jobId, written);
    this.writes.push({ from: stored.job.status, to: next.status });
    return copy(written);
  }

  needsChunks(resultJson: string): boolean {
    return resultJson.length > 1024;
  }

  async writeResultChunks(jobId: string, resultJson: string, attempt: string): Promise<ResultChunks> {
    await this.scheduler.gate();
    const prefix = `job_${jobId}_r${attempt}`;
    this.chunks.set(`${prefix}_0`, resultJson);
    return { prefix, count: 1, bytes: resultJson.length };
  }

  async readResult(job: JobRecord): Promise<Record<string, unknown> | undefined> {
    if (job.result) return job.result;
    if (!job.resultChunks) return undefined;
    await this.scheduler.gate();
    return JSON.parse(this.chunks.get(`${job.resultChunks.prefix}_0`)!) as Record<string, unknown>;
  }

  /** The job as stored now (no scheduling: for the assertions). */
  peek(jobId: string): JobRecord {
    return copy(this.documents.get(jobId)!.job);
  }

  /** Status changes from PENDING to a final status, and changes of a final status: the first must happen once, the second never. */
  finalWrites(): { finalized: number; changedAfterFinal: number } {
    const finalized = this.writes.filter((w) => w.from === 'PENDING' && isFinalStatus(w.to)).length;
    const changedAfterFinal = this.writes.filter(
      (w) => w.from !== undefined && isFinalStatus(w.from) && w.to !== w.from,
    ).length;
    return { finalized, changedAfterFinal };
  }
}

/** Voice: the caller's call, which may hang up; every release recorded. */
class FakeVoice implements HoldVoice {
  readonly releases: Array<{ callSid: string; status: FinalJobStatus; outcome: ReleaseOutcome }> = [];
  hungUp = false;
  constructor(private readonly scheduler: Scheduler) {}

  async release(
    _jobId: string,
    call: Partial<HeldCall> & { callSid: string },
    status: FinalJobStatus,
  ): Promise<ReleaseOutcome> {
    await this.scheduler.gate();
    const outcome: ReleaseOutcome = this.hungUp ? 'gone' : 'moved';
    this.releases.push({ callSid: call.callSid, status, outcome });
    return outcome;
  }

  async callEnded(): Promise<boolean | undefined> {
    await this.scheduler.gate();
    return this.hungUp;
  }
}

/** A push-mode backend that takes every dispatch and counts cancel events. */
class FakeBackend implements Backend {
  readonly dispatched: string[] = [];
  readonly cancelled: CancelEvent[] = [];
  answer: DispatchResult = { kind: 'accepted' };
  constructor(private readonly scheduler: Scheduler) {}

  async dispatch(request: { jobId: string }): Promise<DispatchResult> {
    await this.scheduler.gate();
    this.dispatched.push(request.jobId);
    return this.answer;
  }

  async poll(): Promise<PollResult> {
    await this.scheduler.gate();
    return { kind: 'pending', retryAfterSeconds: 1 };
  }

  async cancel(event: CancelEvent): Promise<CancelDelivery> {
    await this.scheduler.gate();
    this.cancelled.push(event);
    return { ok: true, status: 204 };
  }
}

/** Studio's Executions API: counts executions. */
class FakeStudio implements FlowDelivery {
  readonly started: FlowDeliveryData[] = [];
  constructor(private readonly scheduler: Scheduler) {}

  async startExecution(_target: NotifyTarget, data: FlowDeliveryData): Promise<ExecutionAttempt> {
    await this.scheduler.gate();
    this.started.push(data);
    return { ok: true, executionSid: `FN${String(this.started.length).padStart(32, '0')}` };
  }

  async findExecution(): Promise<string | undefined> {
    await this.scheduler.gate();
    return undefined;
  }
}

/** A clock the test moves: sleeping moves it on at once, and the pauses are recorded. */
class ManualClock implements Clock {
  readonly slept: number[] = [];
  constructor(public time: number = T0) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.time += ms;
  }
}

/** One job's world: the shared store and fakes; each request gets its own service, as servicesFor does. */
function world(seed = 0, options: { backend?: boolean } = {}) {
  const scheduler = new Scheduler(seededRandom(seed));
  const store = new MemoryStore(scheduler);
  const voice = new FakeVoice(scheduler);
  const backend = new FakeBackend(scheduler);
  const studio = new FakeStudio(scheduler);
  const service = (clock: Clock) =>
    new JobService(SETTINGS, {
      store,
      voice,
      backend: options.backend === false ? undefined : backend,
      delivery: studio,
      clock,
    });
  /** One request arriving at `time` (Studio's or Voice's, a few ms apart), finishing what it started before it answers. */
  const request = <T>(time: number, run: (jobs: JobService) => Promise<T>) =>
    withRequestBudget(() => run(service(new ManualClock(time))));
  return { scheduler, store, voice, backend, studio, service, request };
}

type World = ReturnType<typeof world>;

const startRequest = (over: Partial<StartRequest> = {}): StartRequest => ({
  input: { task: 'test' },
  maxHoldSeconds: HOLD_SECONDS,
  waitSeconds: 0,
  callbackUrl: (jobId) => `https://example.test/jobs/complete?jobId=${jobId}`,
  ...over,
});

/** A push-mode job whose caller /hold has put in the room. */
async function heldJob(w: World): Promise<string> {
  const { current } = await w.request(T0, (jobs) => jobs.start(startRequest()));
  await w.request(T0 + 1, async (jobs) => jobs.holdCaller(await jobs.load(current.job.jobId), CALLER));
  return current.job.jobId;
}

/** What a racing request ended with: its result, or the code the HTTP edge would answer. */
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => httpErrorOf(error)?.code ?? `unexpected: ${String(error)}`,
  );

/** One expectation, with what happened in the race in its message when it fails. */
function check(context: string, actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  expect({ context, ...actual }).toEqual({ context, ...expected });
}

beforeAll(() => {
  // The service logs cancel events and deliveries; the assertions say what happened.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterAll(() => jest.restoreAllMocks());

describe('the in-memory ports', () => {
  it('refuses a write that names a stale revision', async () => {
    const w = world();
    const jobId = await heldJob(w);
    const [a, b] = [await w.store.get(jobId), await w.store.get(jobId)];
    expect(await w.store.replace(a!, { ...a!.job, progress: 10 })).not.toBe('conflict');
    expect(await w.store.replace(b!, { ...b!.job, progress: 20 })).toBe('conflict');
    expect(w.store.peek(jobId).progress).toBe(10);
  });
});

describe('the lifecycle on in-memory ports', () => {
  it('a start dispatches once; a completion makes the job final and releases the caller', async () => {
    const w = world();
    const jobId = await heldJob(w);
    expect(w.backend.dispatched).toEqual([jobId]);
    const result = await w.request(T0 + 2_000, (jobs) =>
      jobs.complete({ jobId, status: 'COMPLETED', result: { answer: 42 } }),
    );
    expect(result).toMatchObject({
      duplicate: false,
      released: true,
      current: { job: { status: 'COMPLETED', result: { answer: 42 } } },
    });
    expect(w.voice.releases).toEqual([{ callSid: CALLER.callSid, status: 'COMPLETED', outcome: 'moved' }]);
    expect(
      await w.request(T0 + 3_000, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result: { answer: 42 } })),
    ).toMatchObject({ duplicate: true, released: false });
    expect(w.voice.releases).toHaveLength(1);
    expect(w.backend.cancelled).toEqual([]);
  });

  it('raises domain errors, which the HTTP edge answers with their codes', async () => {
    const w = world();
    const jobId = await heldJob(w);
    const missing = w.request(T0, (jobs) => jobs.observe(`JB${'f'.repeat(32)}`));
    await expect(missing).rejects.toBeInstanceOf(JobNotFound);
    expect(await settled(missing)).toBe('JOB_NOT_FOUND');
    await w.request(T0 + 2_000, (jobs) => jobs.complete({ jobId, status: 'FAILED', error: 'the CRM is down' }));
    const other = w.request(T0 + 3_000, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result: {} }));
    await expect(other).rejects.toBeInstanceOf(JobAlreadyFinal);
    expect(await settled(other)).toBe('JOB_ALREADY_FINAL');
    const key = 'same-key';
    await w.request(T0, (jobs) => jobs.start(startRequest({ idempotencyKey: key })));
    const conflict = w.request(T0, (jobs) =>
      jobs.start(startRequest({ idempotencyKey: key, input: { task: 'other' } })),
    );
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflict);
    expect(await settled(conflict)).toBe('IDEMPOTENCY_CONFLICT');
    const large = w.request(T0, (jobs) =>
      jobs.complete({ jobId, status: 'COMPLETED', result: { text: 'x'.repeat(70 * 1024) } }),
    );
    expect(await settled(large)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a result too large for the job document goes to chunks and reads back whole', async () => {
    const w = world();
    const jobId = await heldJob(w);
    const result = { text: 'y'.repeat(4_000) };
    const { current } = await w.request(T0 + 2_000, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result }));
    expect(current.job.result).toBeUndefined();
    expect(await w.service(new ManualClock()).readResult(current.job)).toEqual(result);
  });
});

describe('waiting for a job, on a manual clock', () => {
  it('/jobs/start waits for simulated work that is ready within the wait', async () => {
    const w = world(0, { backend: false });
    const clock = new ManualClock();
    const { current } = await w.service(clock).start(startRequest({ input: { simulateSeconds: '2' }, waitSeconds: 5 }));
    expect(current.job).toMatchObject({ status: 'COMPLETED', finishedBy: 'simulated' });
    expect(clock.slept).toEqual([2_000]);
  });

  it("the /jobs/status long-poll looks again at the job's retryAfter until it is final", async () => {
    const w = world(0, { backend: false });
    const { current } = await w.request(T0, (jobs) => jobs.start(startRequest({ input: { simulateSeconds: '3' } })));
    const clock = new ManualClock(T0);
    const observed = await w.service(clock).observeUntilFinal(current.job.jobId, 8);
    expect(observed.current.job.status).toBe('COMPLETED');
    expect(clock.slept).toEqual([2_000, 1_000]);
  });

  it('the long-poll ends when the wait is over, and starts no look within WAIT_RESERVE_MS of the budget', async () => {
    const w = world(0, { backend: false });
    const { current } = await w.request(T0, (jobs) => jobs.start(startRequest({ input: { simulateSeconds: '30' } })));
    const clock = new ManualClock(T0);
    expect((await w.service(clock).observeUntilFinal(current.job.jobId, 0)).current.job.status).toBe('PENDING');
    const tight = await withRequestBudget(
      () => w.service(clock).observeUntilFinal(current.job.jobId, 8),
      WAIT_RESERVE_MS + 1_000,
    );
    expect(tight.current.job.status).toBe('PENDING');
    expect(clock.slept).toEqual([]);
  });
});

type Event = 'complete' | 'turn' | 'deadline-turn' | 'hangup' | 'late-hangup' | 'status';

/** Each racing request, at its own arrival time (ms around the deadline). */
function raceRequest(w: World, jobId: string, event: Event, time: number): Promise<unknown> {
  switch (event) {
    case 'complete':
      return w.request(time, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result: { answer: 42 } }));
    case 'turn':
    case 'deadline-turn':
      return w.request(time, (jobs) => jobs.holdTurn(jobId, CALLER));
    case 'hangup':
    case 'late-hangup':
      w.voice.hungUp = true;
      return w.request(time, (jobs) => jobs.callerLeft(jobId, { callSid: CALLER.callSid }));
    case 'status':
      return w.request(time, (jobs) => jobs.observe(jobId));
  }
}

/**
 * When each kind of request arrives, a few ms around the deadline: a hang-up just before it, the
 * completion and a hold turn just before it too, a turn at the deadline, a hang-up and a status
 * read just after. A caller has one hold loop, so a race has at most one of the two turns.
 */
const ARRIVAL: Record<Event, number> = {
  hangup: DEADLINE - 3,
  complete: DEADLINE - 2,
  turn: DEADLINE - 1,
  'deadline-turn': DEADLINE,
  'late-hangup': DEADLINE + 1,
  status: DEADLINE + 2,
};

/** The final status each possible winner writes: a hang-up before the deadline cancels the job, after it times it out. */
function expectedStatus(race: readonly Event[], finishedBy: string | undefined): FinalJobStatus | undefined {
  if (finishedBy === 'callback') return 'COMPLETED';
  if (finishedBy === 'deadline') return 'TIMED_OUT';
  if (finishedBy === 'hangup') return race.includes('hangup') ? 'CANCELLED' : 'TIMED_OUT';
  return undefined;
}

const RACES: Event[][] = [
  ['complete', 'turn'],
  ['complete', 'deadline-turn'],
  ['complete', 'hangup'],
  ['complete', 'late-hangup'],
  ['complete', 'status'],
  ['hangup', 'deadline-turn'],
  ['deadline-turn', 'late-hangup'],
  ['complete', 'turn', 'hangup'],
  ['complete', 'deadline-turn', 'late-hangup', 'status'],
];
const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1);

describe('a caller on hold: completion, deadline, hang-up and hold turns racing within milliseconds', () => {
  /** Runs the race under every seed; returns who won under each (the job's finishedBy). */
  async function raceUnderEverySeed(race: readonly Event[]): Promise<Set<string | undefined>> {
    const winners = new Set<string | undefined>();
    for (const seed of SEEDS) {
      const w = world(seed);
      const jobId = await heldJob(w);
      const outcomes = await Promise.all(race.map((event) => settled(raceRequest(w, jobId, event, ARRIVAL[event]))));
      // While the caller is still in the room, the next hold-loop turn comes as the music ends.
      const stillHeld = () => !w.voice.hungUp && !w.voice.releases.some((r) => r.outcome === 'moved');
      if (stillHeld()) await settled(w.request(DEADLINE + 10_000, (jobs) => jobs.holdTurn(jobId, CALLER)));
      const job = w.store.peek(jobId);
      winners.add(job.finishedBy);
      const context = `seed ${seed}: ${JSON.stringify({ outcomes, finishedBy: job.finishedBy, releases: w.voice.releases })}`;

      // Exactly one final status, written once and never changed.
      check(
        context,
        { final: isFinalStatus(job.status), ...w.store.finalWrites() },
        { final: true, finalized: 1, changedAfterFinal: 0 },
      );
      check(context, { status: job.status }, { status: expectedStatus(race, job.finishedBy) });
      // The refusal a racing request may meet: a completion after the job ended is told it is final.
      check(context, { outcomes: outcomes.filter((o) => o !== 'ok' && o !== 'JOB_ALREADY_FINAL') }, { outcomes: [] });
      // A caller still on the line is moved out exactly once, with the status that landed; one who hung up needs no release.
      const moved = w.voice.releases.filter((r) => r.outcome === 'moved');
      check(
        context,
        { moved: moved.length, statuses: moved.filter((r) => r.status !== job.status) },
        { moved: w.voice.hungUp ? 0 : 1, statuses: [] },
      );
      // The backend hears once that a job it may be working on ended without its work.
      const owed = job.status === 'TIMED_OUT' || job.status === 'CANCELLED' ? 1 : 0;
      check(
        context,
        { cancelEvents: w.backend.cancelled.map((e) => `${e.jobId}:${e.status}`) },
        { cancelEvents: Array(owed).fill(`${jobId}:${job.status}`) },
      );
    }
    return winners;
  }

  /** Who may win a race: a completion, a hang-up, or whoever applies the deadline. */
  const contenders = (race: readonly Event[]) =>
    new Set(
      race
        .map(
          (event) =>
            ({
              complete: 'callback',
              turn: undefined,
              'deadline-turn': 'deadline',
              hangup: 'hangup',
              'late-hangup': 'hangup',
              status: 'deadline',
            })[event],
        )
        .filter(Boolean),
    );

  it.each(RACES.map((race) => [race.join(' + '), race] as const))(
    '%s, under every interleaving',
    async (_name, race) => {
      const winners = await raceUnderEverySeed(race);
      // Only a contender wins, and the seeds do shuffle the requests: where several could win, more than one does.
      const possible = contenders(race);
      expect([...winners].filter((winner) => !possible.has(winner))).toEqual([]);
      expect(winners.size).toBeGreaterThanOrEqual(Math.min(2, possible.size));
    },
  );
});

describe('a messaging job: completions, heartbeats and the deadline racing; one execution', () => {
  type MessagingEvent = 'complete' | 'complete-again' | 'heartbeat' | 'status';
  const arrival: Record<MessagingEvent, number> = {
    complete: DEADLINE - 1,
    'complete-again': DEADLINE - 1,
    heartbeat: DEADLINE,
    status: DEADLINE + 1,
  };
  const races: MessagingEvent[][] = [
    ['complete', 'complete-again'],
    ['complete', 'status'],
    ['complete', 'heartbeat'],
    ['complete', 'complete-again', 'heartbeat', 'status'],
  ];

  function messagingRequest(w: World, jobId: string, event: MessagingEvent): Promise<unknown> {
    const time = arrival[event];
    if (event === 'heartbeat')
      return w.request(time, (jobs) => jobs.heartbeat({ jobId, status: 'PENDING', progress: 50 }));
    if (event === 'status') return w.request(time, (jobs) => jobs.observe(jobId));
    return w.request(time, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result: { answer: 42 } }));
  }

  it.each(races.map((race) => [race.join(' + '), race] as const))(
    '%s, under every interleaving',
    async (_name, race) => {
      for (const seed of SEEDS) {
        const w = world(seed);
        const started = await w.request(T0, (jobs) => jobs.start(startRequest({ notify: NOTIFY })));
        expect(started.delivery).toBe('execution');
        const jobId = started.current.job.jobId;
        const outcomes = await Promise.all(race.map((event) => settled(messagingRequest(w, jobId, event))));
        const job = w.store.peek(jobId);
        const context = `seed ${seed}: ${JSON.stringify({ outcomes, finishedBy: job.finishedBy })}`;

        check(context, w.store.finalWrites(), { finalized: 1, changedAfterFinal: 0 });
        // One execution, with the outcome that landed, recorded as delivered by its first attempt.
        check(
          context,
          { executions: w.studio.started.map((d) => `${d.jobId}:${d.status}`) },
          { executions: [`${jobId}:${job.status}`] },
        );
        check(
          context,
          { delivery: job.delivery?.state, attempts: job.delivery?.attempts },
          { delivery: 'delivered', attempts: 1 },
        );
        // Racing requests may be told the job is final, or to come back while another holds the delivery's claim.
        check(
          context,
          { outcomes: outcomes.filter((o) => !['ok', 'JOB_ALREADY_FINAL', 'DELIVERY_PENDING'].includes(o)) },
          { outcomes: [] },
        );
        check(
          context,
          { cancelEvents: w.backend.cancelled.length },
          { cancelEvents: job.status === 'TIMED_OUT' ? 1 : 0 },
        );
      }
    },
  );

  it('a completion that meets a delivery still being started is asked to come back (DeliveryPending)', async () => {
    const w = world();
    const { current } = await w.request(T0, (jobs) => jobs.start(startRequest({ notify: NOTIFY })));
    const jobId = current.job.jobId;
    // A request made the job final and claimed the delivery; its execution is not started yet.
    const stored = await w.store.get(jobId);
    await w.store.replace(stored!, {
      ...stored!.job,
      status: 'COMPLETED',
      result: {},
      finishedAt: T0,
      finishedBy: 'callback',
      delivery: { state: 'pending', attempts: 1, claimedUntil: T0 + 15_000, attemptedAt: T0 },
    });
    const repeat = w.request(T0 + 100, (jobs) => jobs.complete({ jobId, status: 'COMPLETED', result: {} }));
    await expect(repeat).rejects.toBeInstanceOf(DeliveryPending);
    await expect(repeat).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(w.studio.started).toEqual([]);
  });
});
