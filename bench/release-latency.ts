/**
 * Part 3: how long a caller stays on hold after the work is done.
 *
 * - push: from the backend sending its completion to the caller leaving the room (the emulator's
 *   `released` long-poll), goal: within 2 Twilio round trips;
 * - poll / simulated: from the moment the work is ready to the release, with the hold loop
 *   driven like Twilio drives it (a turn, the music, the next turn), goal: within one loop
 *   period (the music's length plus a turn);
 * - the naive baseline, from its timer firing to the release.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serveBaseline } from './baseline/serve';
import { RELEASE_ROUND_TRIPS_GOAL } from './goals';
import type { BenchBackend } from './lib/backend';
import { summarize, type Summary } from './lib/stats';
import {
  attribute,
  FLOW_SID,
  joinStartedRoom,
  newCallSid,
  pathOf,
  post,
  redirectTarget,
  type BenchStack,
} from './lib/stack';

export interface ReleaseRow {
  case: string;
  mode: BenchStack['mode'];
  summary: Summary;
  failures: number;
  /** Hold loop: how many callers the first turn after the work was ready released (of n). */
  releasedByFirstTurn?: number;
  goalMs: number;
  goal: string;
  /** Twilio round trips (at the injected latency) the p50 amounts to. */
  p50RoundTrips?: number;
}

/** The goal of a release by REST (a push completion, the naive baseline) and what its p50 amounts to. */
function roundTripsGoal(summary: Summary, latencyMs: number): Pick<ReleaseRow, 'goalMs' | 'goal' | 'p50RoundTrips'> {
  const goalMs = RELEASE_ROUND_TRIPS_GOAL * latencyMs;
  return {
    goalMs,
    goal: `${RELEASE_ROUND_TRIPS_GOAL} Twilio round trips (${goalMs} ms)`,
    p50RoundTrips: Math.round((summary.p50 / latencyMs) * 10) / 10,
  };
}

/** A caller put on hold for a job: /hold, join the room, first wait turn. */
async function holdCaller(stack: BenchStack, jobId: string) {
  const callSid = newCallSid();
  const hold = await stack.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
  if (!hold.text.includes('<Dial')) throw new Error(`not held: ${hold.text.slice(0, 200)}`);
  await stack.join(`hold_${jobId}`, callSid, { statusCallback: attribute(hold.text, 'statusCallback') });
  return { callSid, waitUrl: pathOf(attribute(hold.text, 'waitUrl')!) };
}

export async function measurePushRelease(
  stack: BenchStack,
  backend: BenchBackend,
  options: { samples: number; latencyMs: number; deadline: number },
): Promise<ReleaseRow> {
  const samples: number[] = [];
  let failures = 0;
  for (let i = 0; i < options.samples && Date.now() < options.deadline; i++) {
    try {
      const start = await stack.post('/jobs/start', { task: 'bench', benchMode: 'push' });
      const jobId = String(start.body.jobId);
      const { callSid, waitUrl } = await holdCaller(stack, jobId);
      await stack.post(waitUrl);
      const released = stack.released(callSid, 15_000);
      await sleep(30); // the long-poll is in place
      const sent = await backend.complete(jobId);
      const outcome = await released;
      if (!outcome.released || sent.status !== 200) failures++;
      else samples.push(outcome.at - sent.sentAt);
    } catch {
      failures++;
    }
  }
  const summary = summarize(samples);
  return {
    case: 'push: completion sent -> caller released',
    mode: stack.mode,
    summary,
    failures,
    ...roundTripsGoal(summary, options.latencyMs),
  };
}

interface LoopOptions {
  kind: 'poll' | 'simulated';
  backend?: BenchBackend;
  count: number;
  musicSeconds: number;
  deadline: number;
}

/** A job of the hold-loop cases, and when its simulated work is ready (on this clock; poll mode: the backend knows). */
interface LoopJob {
  jobId: string;
  readyAt?: number;
}

/** A released caller: how long after the work was ready, and whether the first turn after it released them. */
interface LoopRelease {
  latencyMs: number;
  byFirstTurn: boolean;
}

/**
 * Drives `count` callers' hold loops at once; each job becomes ready at a random point of a
 * loop period after its first turn. Latency = release - ready.
 */
export async function measureLoopRelease(stack: BenchStack, options: LoopOptions): Promise<ReleaseRow> {
  const periodMs = options.musicSeconds * 1000;
  const turnMs: number[] = [];
  // Spread evenly over one period so the sample covers every phase of the loop.
  const jobs = await Promise.all(
    Array.from({ length: options.count }, (_, index) =>
      startLoopJob(stack, options.kind, 1000 + ((index + 0.5) / options.count) * periodMs),
    ),
  );
  const outcomes = await Promise.all(
    jobs.map((job) => releaseLoopCaller(stack, job, options, turnMs).catch(() => undefined)),
  );
  const released = outcomes.filter((outcome): outcome is LoopRelease => outcome !== undefined);
  // One loop period as the caller lives it: the music, then the turn that fetches the next.
  const turn = summarize(turnMs).p50;
  return {
    case: `${options.kind}: work ready -> caller released`,
    mode: stack.mode,
    summary: summarize(released.map((r) => r.latencyMs)),
    failures: outcomes.length - released.length,
    releasedByFirstTurn: released.filter((r) => r.byFirstTurn).length,
    goalMs: Math.round(periodMs + turn),
    goal: `the first turn after the work is ready releases the caller (a loop period: ${options.musicSeconds.toFixed(1)} s of music + a ${Math.round(turn)} ms turn)`,
  };
}

/** A job whose work is ready `readyInMs` from now. */
async function startLoopJob(stack: BenchStack, kind: LoopOptions['kind'], readyInMs: number): Promise<LoopJob> {
  const input: Record<string, string | number> =
    kind === 'poll'
      ? { task: 'bench', benchMode: 'poll', readyAfterMs: Math.round(readyInMs) }
      : { task: 'bench', simulateSeconds: (readyInMs / 1000).toFixed(3) };
  const start = await stack.post('/jobs/start', input);
  const jobId = String(start.body.jobId);
  // Simulated work: the job document says when it is ready (epoch ms -> this clock).
  const stored = kind === 'simulated' ? await stack.jobDocument(jobId) : undefined;
  return { jobId, readyAt: typeof stored?.readyAt === 'number' ? stored.readyAt - performance.timeOrigin : undefined };
}

/** Holds a caller for the job and plays their hold loop until they are released; undefined when they were not. */
async function releaseLoopCaller(
  stack: BenchStack,
  job: LoopJob,
  options: LoopOptions,
  turnMs: number[],
): Promise<LoopRelease | undefined> {
  const periodMs = options.musicSeconds * 1000;
  const { callSid, waitUrl } = await holdCaller(stack, job.jobId);
  const released = stack.released(callSid, 3 * periodMs + 10_000);
  let stop = false;
  const turnStarts: number[] = [];
  const loop = playHoldLoop(
    stack,
    waitUrl,
    { periodMs, deadline: options.deadline, stopped: () => stop },
    turnStarts,
    turnMs,
  );
  const outcome = await released;
  stop = true;
  await loop;
  const readyAt = options.kind === 'poll' ? options.backend!.readyAt.get(job.jobId) : job.readyAt;
  if (!outcome.released || readyAt === undefined) return undefined;
  return {
    latencyMs: outcome.at - readyAt,
    byFirstTurn: turnStarts.filter((t) => t >= readyAt && t <= outcome.at).length === 1,
  };
}

/** Fetches turn after turn as Twilio does (the music plays to its end before the next), until stopped or answered without music. */
async function playHoldLoop(
  stack: BenchStack,
  waitUrl: string,
  loop: { periodMs: number; deadline: number; stopped: () => boolean },
  turnStarts: number[],
  turnMs: number[],
): Promise<void> {
  let next = waitUrl;
  for (let turn = 0; turn < 20 && !loop.stopped() && Date.now() < loop.deadline; turn++) {
    turnStarts.push(performance.now());
    const answer = await stack.post(next);
    turnMs.push(answer.ms);
    if (loop.stopped() || !answer.text.includes('<Play')) return;
    next = redirectTarget(answer.text);
    const until = performance.now() + loop.periodMs;
    while (!loop.stopped() && performance.now() < until) await sleep(50);
  }
}

/** The naive baseline: from its in-memory timer's due time to the release (warm process only). */
export async function measureBaselineRelease(
  stack: BenchStack,
  options: { samples: number; latencyMs: number; deadline: number; assetsFolder: string },
): Promise<ReleaseRow> {
  const baseline = await serveBaseline({
    mode: 'warm',
    twilioApiBaseUrl: stack.proxy.url,
    assetsFolder: options.assetsFolder,
  });
  const samples: number[] = [];
  let failures = 0;
  try {
    for (let i = 0; i < options.samples && Date.now() < options.deadline; i++) {
      const room = `baseline_${newCallSid()}`;
      const callSid = newCallSid();
      const delayMs = 400;
      const began = performance.now();
      const start = await post(`${baseline.baseUrl}/start`, { room, delayMs });
      await joinStartedRoom(stack, room, callSid);
      const outcome = await stack.released(callSid, 5000);
      // The timer was set about halfway through the start request.
      const due = began + start.ms / 2 + delayMs;
      if (!outcome.released) failures++;
      else samples.push(outcome.at - due);
    }
  } finally {
    await baseline.stop();
  }
  const summary = summarize(samples);
  return {
    case: 'baseline: timer fires -> caller released',
    mode: 'warm',
    summary,
    failures,
    ...roundTripsGoal(summary, options.latencyMs),
  };
}
