/**
 * What each simulated call of a chaos run does, drawn from a seeded generator: the same seed and
 * call number always give the same plan (the timing of a run still varies, as on a real network).
 */
import { seededRandom, type FaultConfig } from '../emulator/faults';

export type Behaviour = 'push' | 'poll' | 'inline' | 'fail' | 'manual' | 'hang';

/** Completions the harness sends itself (behaviour `manual`), relative to the dispatch. */
export interface ManualCompletion {
  /** `early`: before the caller can be in the room; `hold`: while they wait; `late`: after the deadline. */
  timing: 'early' | 'hold' | 'late';
  atMs: number;
  status: 'COMPLETED' | 'FAILED';
  /** The same signed message sent again (a replay), and/or a second delivery with new headers. */
  replay: boolean;
  duplicate: boolean;
  /** A second, different outcome sent afterwards: must be refused (409) and change nothing. */
  conflicting: boolean;
}

export interface CallPlan {
  index: number;
  /** Parameters added to the flow's /jobs/start widget (Studio sends them as strings). */
  startParameters: Record<string, string>;
  behaviour: Behaviour;
  maxHoldSeconds: number;
  /** The caller hangs up this long after the call starts. */
  hangUpAfterMs?: number;
  /** Time between /hold's TwiML and the caller being in the room. */
  joinDelayMs: number;
  manual?: ManualCompletion;
  /** Result size the backend pads to (0 = small); large ones go to chunk documents. */
  resultBytes: number;
  /** The caller's number: personal data that must not reach logs or room names. */
  from: string;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: () => number, min: number, max: number) => Math.round(min + (max - min) * random());

/** A seeded generator for one call: independent of how many draws other calls made. */
export function callRandom(seed: number, index: number): () => number {
  return seededRandom((seed * 1_000_003 + index * 7_919) >>> 0);
}

/** The behaviours' shares: a roll below the first bound is `push`, and so on; past the last, `hang`. */
const BEHAVIOUR_BOUNDS: ReadonlyArray<[number, Behaviour]> = [
  [0.4, 'push'],
  [0.6, 'poll'],
  [0.66, 'inline'],
  [0.74, 'fail'],
  [0.97, 'manual'],
];

function behaviourOf(roll: number): Behaviour {
  return BEHAVIOUR_BOUNDS.find(([below]) => roll < below)?.[1] ?? 'hang';
}

/** When the backend finishes: within /jobs/start's wait, before the join, on hold, near and after the deadline. */
function finishDelayMs(random: () => number, deadlineMs: number): number {
  const timing = random();
  if (timing < 0.15) return between(random, 0, 800);
  if (timing < 0.75) return between(random, 800, deadlineMs - 1500);
  if (timing < 0.88) return between(random, deadlineMs - 800, deadlineMs + 800);
  return between(random, deadlineMs + 1000, deadlineMs + 4000);
}

/** The /jobs/start parameters: the chaos backend's instructions (behaviour, timing, faults, result size). */
function startParametersFor(
  random: () => number,
  index: number,
  behaviour: Behaviour,
  maxHoldSeconds: number,
): { start: Record<string, string>; resultBytes: number } {
  const delayMs = finishDelayMs(random, maxHoldSeconds * 1000);
  const start: Record<string, string> = {
    task: 'chaos',
    chaosCall: String(index),
    behaviour,
    delayMs: String(delayMs),
    maxHoldSeconds: String(maxHoldSeconds),
    wait: String(pick(random, [0, 0, 1, 2, 4])),
  };
  if (behaviour === 'push' && random() < 0.25) start.duplicate = 'true';
  if (random() < 0.18)
    start.dispatchFault = pick(random, ['latency:250', 'error', '503', 'drop', 'drop-after', 'hang']);
  if (behaviour === 'poll' && random() < 0.4) {
    start.statusFault = pick(random, ['error', '503', 'drop', 'hang', 'latency:400']);
    start.statusFaultTimes = String(between(random, 1, 3));
  }
  const resultBytes = random() < 0.12 ? between(random, 13_000, 50_000) : 0;
  if (resultBytes > 0) start.resultBytes = String(resultBytes);
  return { start, resultBytes };
}

/** The completions the harness sends itself for a `manual` job. */
function manualCompletionFor(random: () => number, deadlineMs: number): ManualCompletion {
  const when = random();
  const timing: ManualCompletion['timing'] = when < 0.3 ? 'early' : when < 0.8 ? 'hold' : 'late';
  return {
    timing,
    atMs:
      timing === 'early'
        ? between(random, 0, 150)
        : timing === 'hold'
          ? between(random, 1000, deadlineMs - 1500)
          : deadlineMs + between(random, 300, 2500),
    status: random() < 0.85 ? 'COMPLETED' : 'FAILED',
    replay: random() < 0.5,
    duplicate: random() < 0.4,
    conflicting: random() < 0.35,
  };
}

/** The plan of call `index`; the draws come in a fixed order, so a seed always gives the same plans. */
export function planCall(seed: number, index: number): CallPlan {
  const random = callRandom(seed, index);
  const behaviour = behaviourOf(random());
  const maxHoldSeconds = between(random, 10, 14);
  const { start, resultBytes } = startParametersFor(random, index, behaviour, maxHoldSeconds);
  const manual = behaviour === 'manual' ? manualCompletionFor(random, maxHoldSeconds * 1000) : undefined;
  return {
    index,
    startParameters: start,
    behaviour,
    maxHoldSeconds,
    hangUpAfterMs: random() < 0.1 ? between(random, 1500, 14_000) : undefined,
    joinDelayMs: random() < 0.3 ? between(random, 50, 2500) : 0,
    manual,
    resultBytes,
    from: `+1415555${String(between(random, 0, 9999)).padStart(4, '0')}`,
  };
}

/**
 * Faults on every Twilio operation the service uses, at seeded rates: latency, 429 / 54009,
 * 5xx, dropped connections and silent timeouts, half of the failures after the operation was
 * done (a lost reply). The Calls API is the release path (redirecting the caller's call) and the
 * hang-up check (reading it). Twilio's own actions that the flow runner plays through the REST
 * API (removing a participant at a Dial's timeLimit) are left alone; Studio taking a call back
 * (a Calls update too) only follows a widget timeout, which the chaos flow never reaches.
 */
export function chaosFaults(seed: number, scale = 1): FaultConfig {
  const operation = ['sync.documents.*', 'api.conferences.*', 'api.calls.*'];
  return {
    seed,
    rules: [
      { kind: 'latency', operation, rate: 0.05 * scale, ms: [40, 700] },
      { kind: 'rate-limit', operation, rate: 0.04 * scale },
      { kind: 'server-error', status: 500, operation, rate: 0.012 * scale, when: 'either' },
      { kind: 'server-error', status: 503, operation, rate: 0.012 * scale, when: 'either' },
      { kind: 'drop', operation, rate: 0.018 * scale, when: 'either' },
      { kind: 'timeout', operation, rate: 0.003 * scale, ms: 3500, when: 'either' },
    ],
  };
}
