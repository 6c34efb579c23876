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
import { serveBaseline } from './baseline/serve';
import type { BenchBackend } from './lib/backend';
import { summarize, type Summary } from './lib/stats';
import { attribute, FLOW_SID, joinStartedRoom, newCallSid, pathOf, post, redirectTarget, sleep, type BenchStack } from './lib/stack';

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

/** A caller put on hold for a job: /hold, join the room, first wait turn. */
async function holdCaller(stack: BenchStack, jobId: string) {
  const callSid = newCallSid();
  const hold = await stack.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
  if (!hold.text.includes('<Dial')) throw new Error(`not held: ${hold.text.slice(0, 200)}`);
  await stack.join(`hold_${jobId}`, callSid, { statusCallback: attribute(hold.text, 'statusCallback') });
  return { callSid, waitUrl: pathOf(attribute(hold.text, 'waitUrl')!) };
}

export async function measurePushRelease(stack: BenchStack, backend: BenchBackend, options: { samples: number; latencyMs: number; deadline: number }): Promise<ReleaseRow> {
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
    goalMs: 2 * options.latencyMs,
    goal: `2 Twilio round trips (${2 * options.latencyMs} ms)`,
    p50RoundTrips: Math.round((summary.p50 / options.latencyMs) * 10) / 10,
  };
}

/**
 * Drives `count` callers' hold loops at once; each job becomes ready at a random point of a
 * loop period after its first turn. Latency = release - ready.
 */
export async function measureLoopRelease(
  stack: BenchStack,
  options: {
    kind: 'poll' | 'simulated';
    backend?: BenchBackend;
    count: number;
    musicSeconds: number;
    deadline: number;
  },
): Promise<ReleaseRow> {
  const periodMs = options.musicSeconds * 1000;
  const samples: number[] = [];
  const turnMs: number[] = [];
  let failures = 0;
  const jobs = await Promise.all(
    Array.from({ length: options.count }, async (_, index) => {
      // Spread evenly over one period so the sample covers every phase of the loop.
      const readyInMs = 1000 + ((index + 0.5) / options.count) * periodMs;
      const input: Record<string, string | number> =
        options.kind === 'poll'
          ? { task: 'bench', benchMode: 'poll', readyAfterMs: Math.round(readyInMs) }
          : { task: 'bench', simulateSeconds: (readyInMs / 1000).toFixed(3) };
      const start = await stack.post('/jobs/start', input);
      const jobId = String(start.body.jobId);
      // Simulated work: the job document says when it is ready (epoch ms -> this clock).
      const stored = options.kind === 'simulated' ? await stack.jobDocument(jobId) : undefined;
      return { jobId, readyAt: typeof stored?.readyAt === 'number' ? stored.readyAt - performance.timeOrigin : undefined };
    }),
  );
  let releasedByFirstTurn = 0;
  await Promise.all(
    jobs.map(async (job) => {
      try {
        const { callSid, waitUrl } = await holdCaller(stack, job.jobId);
        const released = stack.released(callSid, 3 * periodMs + 10_000);
        let stop = false;
        const turnStarts: number[] = [];
        const loop = (async () => {
          let next = waitUrl;
          for (let turn = 0; turn < 20 && !stop && Date.now() < options.deadline; turn++) {
            turnStarts.push(performance.now());
            const answer = await stack.post(next);
            turnMs.push(answer.ms);
            if (stop || !answer.text.includes('<Play')) return;
            next = redirectTarget(answer.text);
            // The music plays to its end before Twilio asks for the next turn.
            const until = performance.now() + periodMs;
            while (!stop && performance.now() < until) await sleep(50);
          }
        })();
        const outcome = await released;
        stop = true;
        await loop;
        const readyAt = options.kind === 'poll' ? options.backend!.readyAt.get(job.jobId) : job.readyAt;
        if (!outcome.released || readyAt === undefined) failures++;
        else {
          samples.push(outcome.at - readyAt);
          if (turnStarts.filter((t) => t >= readyAt && t <= outcome.at).length === 1) releasedByFirstTurn++;
        }
      } catch {
        failures++;
      }
    }),
  );
  // One loop period as the caller lives it: the music, then the turn that fetches the next.
  const turn = summarize(turnMs).p50;
  return {
    case: `${options.kind}: work ready -> caller released`,
    mode: stack.mode,
    summary: summarize(samples),
    failures,
    releasedByFirstTurn,
    goalMs: Math.round(periodMs + turn),
    goal: `the first turn after the work is ready releases the caller (a loop period: ${options.musicSeconds.toFixed(1)} s of music + a ${Math.round(turn)} ms turn)`,
  };
}

/** The naive baseline: from its in-memory timer's due time to the release (warm process only). */
export async function measureBaselineRelease(
  stack: BenchStack,
  options: { samples: number; latencyMs: number; deadline: number; assetsFolder: string },
): Promise<ReleaseRow> {
  const baseline = await serveBaseline({ mode: 'warm', twilioApiBaseUrl: stack.proxy.url, assetsFolder: options.assetsFolder });
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
    goalMs: 2 * options.latencyMs,
    goal: `2 Twilio round trips (${2 * options.latencyMs} ms)`,
    p50RoundTrips: Math.round((summary.p50 / options.latencyMs) * 10) / 10,
  };
}
