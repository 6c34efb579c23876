/**
 * The report's "Results against the goals" table: each measurement held to its goal
 * (bench/goals.ts), with the reason when it is missed.
 */
import { COLD_LOAD_GOAL_MS, START_FLOOR_FACTOR, START_GOAL_MS, SYNC_WRITES_PER_SECOND_LIMIT } from '../goals';
import type { ReleaseRow } from '../release-latency';
import { FLOOR_BASE, type RoundTripResults } from '../round-trips';
import type { ScaleResult } from '../scale';
import { kib, ms } from './markdown';
import { SECTION_NAMES, type BenchResults } from './results';

export interface GoalRow {
  area: string;
  goal: string;
  measured: string;
  /** undefined: a comparison, not a goal. */
  met: boolean | undefined;
  why?: string;
}

const FORK_WHY =
  'twilio-run forks a node process per request that boots and loads its runtime and the helper library (about a quarter of a second) before any of our code runs; 2 cores get through fewer than ten such requests a second, so concurrent callers queue. The platform keeps warm instances: the warm rows model it.';

/** ", which other processes shared at N%" for a section, when known. */
function othersDuring(results: BenchResults, section: string): string {
  const entry = results.sections[section];
  const others = typeof entry === 'object' ? entry.othersCpuShare : undefined;
  return others === undefined ? '' : ` (other processes used ${Math.round(others * 100)}% of them meanwhile)`;
}

export function goalRows(results: BenchResults): GoalRow[] {
  return [
    ...(results.roundTrips ? roundTripRows(results.roundTrips) : []),
    ...startRows(results),
    ...results.release.filter((r) => !r.case.startsWith('baseline')).flatMap((r) => releaseRows(results, r)),
    ...coldStartRows(results),
    ...results.scale.map(scaleRow),
  ];
}

/** Comparisons, not goals: our calls per job against the floor and the naive baseline. */
function roundTripRows(rt: RoundTripResults): GoalRow[] {
  return rt.scenarios.map((s) => {
    const completion = s.phases.find((p) => p.phase.startsWith('completion'));
    return {
      area: `Twilio calls per job, ${s.scenario}`,
      goal: `compare: floor ${s.floor}${s.floor > FLOOR_BASE ? ' (with chunks)' : ''}, naive baseline ${rt.baseline.fixedTotal}`,
      measured: `${s.fixedTotal} + ${s.perPendingTurn} per pending hold-loop turn; completion ${completion?.total ?? '–'} calls, ${completion?.criticalPath ?? '–'} in a row`,
      met: undefined,
    };
  });
}

function startRows(results: BenchResults): GoalRow[] {
  return (['warm', 'fork'] as const).flatMap((mode) => {
    const rows = results.startLatency.filter((r) => r.mode === mode);
    const hang = rows.filter((r) => r.backend === 'hangs');
    return [
      ...(hang.length > 0 ? [startHangRow(mode, hang)] : []),
      ...(rows.length > 0 ? [startFloorRow(results, mode, rows)] : []),
    ];
  });
}

function startHangRow(mode: 'warm' | 'fork', hang: BenchResults['startLatency']): GoalRow {
  const worst = hang.reduce((a, b) => (b.summary.p99 > a.summary.p99 ? b : a));
  const met = hang.every((r) => r.summary.p99 < START_GOAL_MS && r.errors === 0);
  return {
    area: `/jobs/start, ${mode}`,
    goal: `p99 < ${START_GOAL_MS / 1000} s with a hanging backend (1, 10, 100 callers)`,
    measured: `worst p99 ${ms(worst.summary.p99)} ms at ${worst.concurrency}${worst.errors ? `, ${worst.errors} errors` : ''}`,
    met,
    why: met
      ? undefined
      : mode === 'fork'
        ? FORK_WHY
        : 'the dispatch waits DISPATCH_TIMEOUT_MS (1 s) for the backend; with 100 callers on 2 cores, queueing for CPU adds the rest',
  };
}

function startFloorRow(results: BenchResults, mode: 'warm' | 'fork', all: BenchResults['startLatency']): GoalRow {
  const over = all.filter((r) => r.p99OverFloor > START_FLOOR_FACTOR);
  const worst = all.reduce((a, b) => (b.p99OverFloor > a.p99OverFloor ? b : a));
  return {
    area: `/jobs/start, ${mode}`,
    goal: `p99 within ${START_FLOOR_FACTOR}x of the floor (sequential Twilio calls + backend)`,
    measured:
      over.length === 0
        ? `worst ${worst.p99OverFloor}x`
        : `${all.length - over.length} of ${all.length} cases; worst ${worst.p99OverFloor}x (${worst.backend}, ${worst.concurrency} callers)`,
    met: over.length === 0,
    why:
      over.length === 0
        ? undefined
        : mode === 'fork'
          ? FORK_WHY
          : `met at 1 and 10 callers. With 100 callers at once every request needs a few ms of CPU in twilio-run plus as much again in the emulator, proxy, backend and load generator, all on the same ${results.machine.cores} cores${othersDuring(results, SECTION_NAMES.startLatency('warm'))}: 100 of them queue for hundreds of ms, and the 100-caller p99 moves a lot from run to run. On the platform concurrent invocations spread over instances.`,
  };
}

function releaseRows(results: BenchResults, r: ReleaseRow): GoalRow[] {
  return r.case.startsWith('push') ? pushReleaseRows(results, r) : [loopReleaseRow(r)];
}

/** After a push completion: p50 and p95 against the round trips the release needs. */
function pushReleaseRows(results: BenchResults, r: ReleaseRow): GoalRow[] {
  return (
    [
      ['p50', r.summary.p50],
      ['p95', r.summary.p95],
    ] as const
  ).map(([label, value]) => {
    const met = r.failures === 0 && value <= r.goalMs;
    return {
      area: `hold release, push (${r.mode})`,
      goal: `${r.goal}, ${label}`,
      measured: `${label} ${ms(value)} ms (n ${r.summary.n}${r.failures ? `, ${r.failures} failed` : ''})`,
      met,
      why: met
        ? undefined
        : r.mode === 'fork'
          ? 'twilio-run forks a process for the completion request (about a quarter of a second) before its first Twilio call; the 2 round trips after that are as in warm mode'
          : `the release itself is 1.5 round trips into the request (2 calls in a row, ended on arrival of the second); the rest is the function's, the emulator's and the harness's own time on ${results.machine.cores} shared cores${othersDuring(results, SECTION_NAMES.release('warm'))}`,
    };
  });
}

/** Poll and simulated jobs: the first hold-loop turn after the work is ready releases the caller. */
function loopReleaseRow(r: ReleaseRow): GoalRow {
  const first = r.releasedByFirstTurn ?? 0;
  const met = r.failures === 0 && first === r.summary.n;
  return {
    area: `hold release, ${r.case.split(':')[0]} (${r.mode})`,
    goal: 'within one hold-loop period: the first turn after the work is ready releases the caller',
    measured: `${first} of ${r.summary.n} by the first turn; p50 ${(r.summary.p50 / 1000).toFixed(1)} s, max ${(r.summary.max / 1000).toFixed(1)} s (period ${(r.goalMs / 1000).toFixed(1)} s)`,
    met,
    why: met ? undefined : 'a turn found the job ready but did not release the caller, or a caller was not released',
  };
}

function coldStartRows(results: BenchResults): GoalRow[] {
  if (results.coldStart.length === 0) return [];
  const worst = results.coldStart.reduce((a, b) => (b.bare.load.p50 > a.bare.load.p50 ? b : a));
  const biggest = results.coldStart.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const thirdParty = results.coldStart.reduce((a, b) => a + b.thirdPartyBytes, 0);
  return [
    {
      area: 'cold start',
      goal: `each built function loads in < ${COLD_LOAD_GOAL_MS} ms in a fresh node process`,
      measured: `slowest ${worst.file} ${ms(worst.bare.load.p50)} ms (p50)`,
      met: results.coldStart.every((r) => r.bare.load.p50 < COLD_LOAD_GOAL_MS),
    },
    {
      area: 'bundle size',
      goal: 'no larger than its code needs',
      measured: `largest ${kib(biggest.bytes)} KiB; ${kib(thirdParty / results.coldStart.length)} KiB per bundle from node_modules`,
      met: thirdParty === 0,
      why: thirdParty === 0 ? undefined : 'third-party code is bundled into every function',
    },
  ];
}

function scaleRow(scale: ScaleResult): GoalRow {
  const documents = scale.documents;
  return {
    area: `scale, ${scale.mode}`,
    goal: 'jobs/s end to end without an error; no shared hot document',
    measured: `${scale.sustainedPerSecond}${scale.atLeast ? '+ (the highest rate tried)' : ''} jobs/s; ${documents.sharedDocuments.length} shared documents, at most ${documents.maxWritesPerDocumentPerSecond} write/s per document`,
    met:
      scale.sustainedPerSecond > 0 &&
      documents.sharedDocuments.length === 0 &&
      documents.maxWritesPerDocumentPerSecond < SYNC_WRITES_PER_SECOND_LIMIT,
    why: scale.sustainedPerSecond > 0 ? undefined : FORK_WHY,
  };
}
