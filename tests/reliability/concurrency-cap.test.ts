/**
 * A refused hold-loop turn must not strand a caller, or, where nothing Twilio documents can get
 * them out, the test says exactly what happens (docs/TWILIO-DIFFERENCES.md, "the concurrency cap").
 *
 * Each stack plays Twilio's concurrency limit with a cap of 3 Function executions. Three callers
 * per mode (push, poll, simulated) go on hold through the real voice flow, one after the other
 * (Studio's Run Functions are not what this test refuses); once all of them are in their rooms,
 * three long-polling /jobs/status requests keep every execution slot busy for 2.5 s, so every
 * hold-loop turn in that window is refused (429). Then the push backend completes its jobs (the
 * test plays it); poll and simulated work is done 12 s after the start; the deadline is 25 s.
 *
 * - hopeful (the waitUrl honours the retry overrides, timeLimit bounds a conference): a refused
 *   turn is retried; every caller is released by the loop (or the push completion), COMPLETED.
 * - documented (neither): push callers are released by the completion's call redirect; a poll or
 *   simulated caller whose turn was refused hears silence until they hang up: no documented
 *   mechanism gets them out (the gap the docs describe).
 * - documented + dialTimeLimitBoundsConference: those callers are released by the last resort,
 *   `<Dial timeLimit>` (deadline + its margin); the simulated job COMPLETED, the poll job TIMED_OUT
 *   (nobody asked the backend before the deadline).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import { BUILT_IN_PROFILES, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../../studio/flow-model';
import { formatRun, runFlow, type FlowRun } from '../../studio/runner';
import { exampleResult } from '../../studio/runner/local-service';
import { withStartParameters } from '../../studio/runner/scenarios';
import type { LocalStack } from '../../dev/local-stack';
import { PROJECT_ROOT } from '../../dev/paths';
import { startService } from '../support/service-client';

const CAP = 3;
const CALLERS = 3;
/** Shorter than the retries' reach (5 retries, 1 s apart), longer than a hold-loop turn. */
const BLOCK_MS = 2_500;
/** A turn every second (the 10 s hold music, 10 times faster). */
const TIME_SCALE = 0.1;
const MAX_HOLD_SECONDS = 25;
/** One turn of the hold loop and its requests, as tests/flow-runs/scenarios-profiles.test.ts allows. */
const HOLD_LOOP_MS = 12_000;
/** /hold's `<Dial timeLimit>` margin past the deadline (src/functions/hold.protected.ts). */
const DIAL_LIMIT_MARGIN_MS = 30_000;
/** A stranded caller (documented) hangs up this long after the call started: past the deadline plus a turn. */
const HANG_UP_AFTER_MS = MAX_HOLD_SECONDS * 1000 + HOLD_LOOP_MS + 3_000;

type ModeName = 'push' | 'poll' | 'simulated';
const MODE_PARAMETERS: Record<ModeName, Record<string, string>> = {
  push: { behaviour: 'manual' }, // the test sends the completion, once the window is over
  poll: { behaviour: 'poll', delayMs: '12000' },
  simulated: { simulateSeconds: '12' },
};
const COMMON_PARAMETERS = { maxHoldSeconds: String(MAX_HOLD_SECONDS), wait: '0' };

const PROFILES: TwilioBehaviour[] = [
  BUILT_IN_PROFILES.hopeful,
  BUILT_IN_PROFILES.documented,
  {
    name: 'documented+timeLimit',
    switches: { ...BUILT_IN_PROFILES.documented.switches, dialTimeLimitBoundsConference: true },
  },
];

interface CallerRun {
  mode: ModeName;
  run: FlowRun;
  jobId?: string;
  deadline?: number;
  status?: string;
}

interface ProfileResult {
  callers: CallerRun[];
  refusedTurns: number;
}

const results = new Map<string, ProfileResult>();
const cleanups: Array<() => Promise<void>> = [];

const definition = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'voice-hold.json'), 'utf8'),
) as FlowDefinition;

/** Rooms with a caller in them right now. */
const occupiedRooms = (stack: LocalStack) =>
  stack.emulator.state().conferences.filter((room) => room.status !== 'completed' && room.participants.length > 0)
    .length;

/**
 * Keeps one execution slot busy for `ms`: /jobs/status long-polls a job that stays pending (it
 * checks again every 2 s while the wait allows), sent again at once when it answers or is refused.
 */
async function occupySlot(baseUrl: string, jobId: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (until - Date.now() > 200) {
    const wait = ((until - Date.now()) / 1000).toFixed(1);
    const response = await fetch(`${baseUrl}/jobs/status`, {
      method: 'POST',
      body: new URLSearchParams({ jobId, wait }),
    });
    await response.arrayBuffer();
    if (response.status === 429) await sleep(10);
  }
}

async function startJob(baseUrl: string, input: Record<string, string>): Promise<string> {
  for (;;) {
    const response = await fetch(`${baseUrl}/jobs/start`, {
      method: 'POST',
      body: new URLSearchParams({ task: 'blocker', wait: '0', ...input }),
    });
    const body = (await response.json()) as { jobId?: string };
    if (response.status === 200 && body.jobId) return body.jobId;
    await sleep(50);
  }
}

/** The push backend's completions, as a backend sends them: retried while refused. */
async function completePushJobs(backend: ExampleBackend): Promise<void> {
  const pushed = backend.dispatches.filter(
    (dispatch) => dispatch.input.behaviour === 'manual' && dispatch.input.task !== 'blocker',
  );
  await Promise.all(
    pushed.map(async (dispatch) => {
      const body = JSON.stringify({ status: 'COMPLETED', result: exampleResult(dispatch) });
      for (let attempt = 0; attempt < 50; attempt++) {
        const response = await fetch(dispatch.callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 429) return;
        await sleep(200);
      }
    }),
  );
}

/** One stack (a cap of 3) for `modes`, its callers on hold, the slots blocked once they are all in their rooms. */
async function runStack(
  behaviour: TwilioBehaviour,
  modes: ModeName[],
  backend?: { handle: ExampleBackend; secret: string },
): Promise<ProfileResult> {
  const env: Record<string, string> = backend
    ? { BACKEND_URL: backend.handle.url, WEBHOOK_SECRET: backend.secret }
    : {};
  const { stack } = await startService(env, { forkProcess: false, live: false, behaviour, concurrencyCap: CAP });
  cleanups.push(() => stack.stop());
  const blockerJob = await startJob(stack.baseUrl, backend ? { behaviour: 'manual' } : { simulateSeconds: '600' });
  const plan = modes.flatMap((mode) => Array.from({ length: CALLERS }, () => mode));
  // One caller at a time goes on hold (the next starts once the last is in its room), so the
  // only executions a start meets are the held callers' short turns: Studio's Run Functions are
  // not what this test refuses.
  const runs: Array<Promise<CallerRun>> = [];
  for (const [index, mode] of plan.entries()) {
    let ended = false;
    const run = runFlow({
      definition: withStartParameters(definition, { ...COMMON_PARAMETERS, ...MODE_PARAMETERS[mode] }),
      baseUrl: stack.baseUrl,
      emulatorUrl: stack.emulator.url,
      trigger: { kind: 'call' },
      timeScale: TIME_SCALE,
      hangUpAfterMs:
        HANG_UP_AFTER_MS + (behaviour.switches.dialTimeLimitBoundsConference ? DIAL_LIMIT_MARGIN_MS + 20_000 : 0),
      maxRunMs: 150_000,
      behaviour,
    }).finally(() => (ended = true));
    runs.push(run.then((finished) => ({ mode, run: finished })));
    const inRoom = Date.now() + 15_000;
    while (occupiedRooms(stack) < index + 1 && !ended && Date.now() < inRoom) await sleep(25);
  }
  await Promise.all(Array.from({ length: CAP }, () => occupySlot(stack.baseUrl, blockerJob, BLOCK_MS)));
  if (backend) await completePushJobs(backend.handle);
  const callers = await Promise.all(runs);
  const documents = stack.emulator.state().documents;
  for (const caller of callers) {
    caller.jobId = caller.run.rooms[0]?.friendlyName.slice('hold_'.length);
    const job = documents.find((doc) => doc.uniqueName === `job_${caller.jobId}`)?.data as
      { deadline?: number; status?: string } | undefined;
    caller.deadline = job?.deadline;
    caller.status = job?.status;
  }
  return { callers, refusedTurns: stack.gate!.stats().refusedByPath['/hold/wait'] ?? 0 };
}

beforeAll(async () => {
  await Promise.all(
    PROFILES.map(async (behaviour) => {
      const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
      const backend = await startExampleBackend({ secret, resultFor: exampleResult });
      cleanups.push(() => backend.close());
      const [withBackend, simulated] = await Promise.all([
        runStack(behaviour, ['push', 'poll'], { handle: backend, secret }),
        runStack(behaviour, ['simulated']),
      ]);
      results.set(behaviour.name, {
        callers: [...withBackend.callers, ...simulated.callers],
        refusedTurns: withBackend.refusedTurns + simulated.refusedTurns,
      });
    }),
  );
}, 220_000);

afterAll(async () => {
  await Promise.all(cleanups.map((stop) => stop()));
});

const refusedWaitUrls = (run: FlowRun) =>
  run.requests.filter((request) => request.url.includes('/hold/wait') && request.status === 429).length;
/** The result's message was said: the example backend's, or the simulated backend's. */
const saidResult = (run: FlowRun) =>
  run.heard.some((audio) => audio.kind === 'say' && /ships tomorrow|request has been processed/.test(audio.content));
const leftAt = (caller: CallerRun) =>
  caller.run.rooms[0]?.leftAtMs === undefined ? undefined : caller.run.startedAt + caller.run.rooms[0].leftAtMs;

function explain(caller: CallerRun, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof Error) error.message += `\n\n${formatRun(caller.run, definition, `${caller.mode} caller`)}`;
    throw error;
  }
}

describe.each(PROFILES.map((profile) => profile.name))('under %s, with a cap of 3 executions', (name) => {
  it('refuses hold-loop turns', () => {
    const { callers, refusedTurns } = results.get(name)!;
    expect(refusedTurns).toBeGreaterThan(0);
    // Every caller met the cap on hold: at least one of its waitUrl requests was refused.
    expect(callers.map((caller) => ({ mode: caller.mode, refused: refusedWaitUrls(caller.run) > 0 }))).toEqual(
      callers.map((caller) => ({ mode: caller.mode, refused: true })),
    );
  });

  it('releases every push caller with the result (the completion redirects the call, turns or not)', () => {
    for (const caller of results.get(name)!.callers.filter((c) => c.mode === 'push')) {
      explain(caller, () => {
        expect(caller.status).toBe('COMPLETED');
        expect(caller.run.rooms[0]?.leftBecause).toBe('call-redirected');
        expect(leftAt(caller)! - caller.deadline!).toBeLessThanOrEqual(HOLD_LOOP_MS);
        expect(caller.run.end.kind).toBe('completed');
        expect(saidResult(caller.run)).toBe(true);
      });
    }
  });

  const pulled = ['poll', 'simulated'] as const;
  if (name === 'hopeful') {
    it.each(pulled)('releases every %s caller with the result: the refused turn is retried', (mode) => {
      for (const caller of results.get(name)!.callers.filter((c) => c.mode === mode)) {
        explain(caller, () => {
          expect(caller.status).toBe('COMPLETED');
          expect(caller.run.rooms[0]?.leftBecause).toBe('call-redirected');
          expect(leftAt(caller)! - caller.deadline!).toBeLessThanOrEqual(HOLD_LOOP_MS);
          expect(caller.run.timeline.some((entry) => /Twilio Voice retries/.test(entry.text))).toBe(true);
          expect(caller.run.end.kind).toBe('completed');
          expect(saidResult(caller.run)).toBe(true);
        });
      }
    });
  } else if (name === 'documented') {
    it.each(pulled)(
      'leaves a %s caller whose turn was refused in silence until they hang up (the documented gap)',
      (mode) => {
        for (const caller of results.get(name)!.callers.filter((c) => c.mode === mode)) {
          explain(caller, () => {
            const stay = caller.run.rooms[0]!;
            expect(stay.leftBecause).toBe('caller-hangup');
            // No turn after the refused one: the loop ended there.
            const waits = caller.run.requests.filter((request) => request.url.includes('/hold/wait'));
            expect(waits[waits.length - 1]?.status).toBe(429);
            // Held past the bound every released caller keeps (the deadline plus one turn).
            expect(leftAt(caller)! - caller.deadline!).toBeGreaterThan(HOLD_LOOP_MS);
            expect(caller.run.end.kind).toBe('caller-hung-up');
          });
        }
      },
    );
  } else {
    it.each(pulled)('releases a %s caller whose turn was refused by the last resort, <Dial timeLimit>', (mode) => {
      for (const caller of results.get(name)!.callers.filter((c) => c.mode === mode)) {
        explain(caller, () => {
          const stay = caller.run.rooms[0]!;
          expect(stay.timeLimitReached).toBe(true);
          // The bound: the deadline plus the Dial's margin (its seconds rounded up, and the machine's own pace).
          expect(leftAt(caller)! - caller.deadline!).toBeGreaterThanOrEqual(DIAL_LIMIT_MARGIN_MS - 1_000);
          expect(leftAt(caller)! - caller.deadline!).toBeLessThanOrEqual(DIAL_LIMIT_MARGIN_MS + 5_000);
          expect(caller.status).toBe(mode === 'simulated' ? 'COMPLETED' : 'TIMED_OUT');
          expect(caller.run.end.kind).toBe('completed');
          expect(saidResult(caller.run)).toBe(mode === 'simulated');
        });
      }
    });
  }
});
