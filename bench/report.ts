/**
 * Turns a run's results into docs/BENCHMARKS.md and docs/benchmarks.svg. Run on its own
 * (`npx tsx bench/report.ts`) it redraws both from bench/results/summary.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../tools/paths';
import type { CapacityResults } from './capacity';
import { capacitySection, withReadmeSection } from './capacity-report';
import type { ColdStartRow } from './cold-start';
import { loadPrices } from './cost';
import type { MachineInfo } from './lib/machine';
import { renderChart, type Panel } from './lib/svg-chart';
import type { ReleaseRow } from './release-latency';
import type { RoundTripResults, ScenarioTrips } from './round-trips';
import type { ScaleResult } from './scale';
import type { StartLatencyRow } from './start-latency';

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  machine: MachineInfo;
  commands: string[];
  settings: { latencyMs: number; backendAcceptMs: number; dispatchTimeoutMs: number; musicSeconds: number };
  roundTrips?: RoundTripResults;
  startLatency: StartLatencyRow[];
  release: ReleaseRow[];
  scale: ScaleResult[];
  coldStart: ColdStartRow[];
  /** Part 6: what one service sustains under the concurrency cap, and what a job costs. */
  capacity?: CapacityResults & { violations: number };
  /** OpenAPI violations the emulator recorded during the run (should be 0). */
  violations: number;
  /** Per section: seconds, and the share of all cores other processes used meanwhile. */
  sections: Record<string, { seconds: number; othersCpuShare?: number }>;
  /** Share of all cores used by other processes and by this run (its servers included). */
  cpu?: { others?: number; ours?: number };
  durationSeconds: number;
  eventLoopLagP99Ms: number;
}

const START_GOAL_MS = 1500;
const FLOOR_FACTOR = 1.2;
const COLD_LOAD_GOAL_MS = 100;

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)}` : '–');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;
const yes = (met: boolean) => (met ? 'yes' : '**no**');

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

// ---- the goals ------------------------------------------------------------------------------

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

function startRows(results: BenchResults): GoalRow[] {
  const rows: GoalRow[] = [];
  for (const mode of ['warm', 'fork'] as const) {
    const hang = results.startLatency.filter((r) => r.mode === mode && r.backend === 'hangs');
    if (hang.length > 0) {
      const worst = hang.reduce((a, b) => (b.summary.p99 > a.summary.p99 ? b : a));
      const met = hang.every((r) => r.summary.p99 < START_GOAL_MS && r.errors === 0);
      rows.push({
        area: `/jobs/start, ${mode}`,
        goal: 'p99 < 1.5 s with a hanging backend (1, 10, 100 callers)',
        measured: `worst p99 ${ms(worst.summary.p99)} ms at ${worst.concurrency}${worst.errors ? `, ${worst.errors} errors` : ''}`,
        met,
        why: met ? undefined : mode === 'fork' ? FORK_WHY : 'the dispatch waits DISPATCH_TIMEOUT_MS (1 s) for the backend; with 100 callers on 2 cores, queueing for CPU adds the rest',
      });
    }
    const all = results.startLatency.filter((r) => r.mode === mode);
    if (all.length > 0) {
      const over = all.filter((r) => r.p99OverFloor > FLOOR_FACTOR);
      const worst = all.reduce((a, b) => (b.p99OverFloor > a.p99OverFloor ? b : a));
      rows.push({
        area: `/jobs/start, ${mode}`,
        goal: 'p99 within 1.2x of the floor (sequential Twilio calls + backend)',
        measured: over.length === 0 ? `worst ${worst.p99OverFloor}x` : `${all.length - over.length} of ${all.length} cases; worst ${worst.p99OverFloor}x (${worst.backend}, ${worst.concurrency} callers)`,
        met: over.length === 0,
        why:
          over.length === 0
            ? undefined
            : mode === 'fork'
              ? FORK_WHY
              : `met at 1 and 10 callers. With 100 callers at once every request needs a few ms of CPU in twilio-run plus as much again in the emulator, proxy, backend and load generator, all on the same ${results.machine.cores} cores${othersDuring(results, '2. /jobs/start latency (warm)')}: 100 of them queue for hundreds of ms, and the 100-caller p99 moves a lot from run to run. On the platform concurrent invocations spread over instances.`,
      });
    }
  }
  return rows;
}

export function goalRows(results: BenchResults): GoalRow[] {
  const rows: GoalRow[] = [];
  const rt = results.roundTrips;
  if (rt) {
    for (const s of rt.scenarios) {
      const completion = s.phases.find((p) => p.phase.startsWith('completion'));
      rows.push({
        area: `Twilio calls per job, ${s.scenario}`,
        goal: `compare: floor ${s.floor}${s.floor > 4 ? ' (with chunks)' : ''}, naive baseline ${rt.baseline.fixedTotal}`,
        measured: `${s.fixedTotal} + ${s.perPendingTurn} per pending hold-loop turn; completion ${completion?.total ?? '–'} calls, ${completion?.criticalPath ?? '–'} in a row`,
        met: undefined,
      });
    }
  }
  rows.push(...startRows(results));
  for (const r of results.release) {
    if (r.case.startsWith('baseline')) continue;
    if (r.case.startsWith('push')) {
      for (const [label, value] of [['p50', r.summary.p50], ['p95', r.summary.p95]] as const) {
        const met = r.failures === 0 && value <= r.goalMs;
        rows.push({
          area: `hold release, push (${r.mode})`,
          goal: `${r.goal}, ${label}`,
          measured: `${label} ${ms(value)} ms (n ${r.summary.n}${r.failures ? `, ${r.failures} failed` : ''})`,
          met,
          why: met
            ? undefined
            : r.mode === 'fork'
              ? 'twilio-run forks a process for the completion request (about a quarter of a second) before its first Twilio call; the 2 round trips after that are as in warm mode'
              : `the release itself is 1.5 round trips into the request (2 calls in a row, ended on arrival of the second); the rest is the function's, the emulator's and the harness's own time on ${results.machine.cores} shared cores${othersDuring(results, '3. hold release (warm)')}`,
        });
      }
    } else {
      const first = r.releasedByFirstTurn ?? 0;
      const met = r.failures === 0 && first === r.summary.n;
      rows.push({
        area: `hold release, ${r.case.split(':')[0]} (${r.mode})`,
        goal: 'within one hold-loop period: the first turn after the work is ready releases the caller',
        measured: `${first} of ${r.summary.n} by the first turn; p50 ${(r.summary.p50 / 1000).toFixed(1)} s, max ${(r.summary.max / 1000).toFixed(1)} s (period ${(r.goalMs / 1000).toFixed(1)} s)`,
        met,
        why: met ? undefined : 'a turn found the job ready but did not release the caller, or a caller was not released',
      });
    }
  }
  if (results.coldStart.length > 0) {
    const worst = results.coldStart.reduce((a, b) => (b.bare.load.p50 > a.bare.load.p50 ? b : a));
    rows.push({
      area: 'cold start',
      goal: `each built function loads in < ${COLD_LOAD_GOAL_MS} ms in a fresh node process`,
      measured: `slowest ${worst.file} ${ms(worst.bare.load.p50)} ms (p50)`,
      met: results.coldStart.every((r) => r.bare.load.p50 < COLD_LOAD_GOAL_MS),
    });
    const biggest = results.coldStart.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const thirdParty = results.coldStart.reduce((a, b) => a + b.thirdPartyBytes, 0);
    rows.push({
      area: 'bundle size',
      goal: 'no larger than its code needs',
      measured: `largest ${kib(biggest.bytes)} KiB; ${kib(thirdParty / results.coldStart.length)} KiB per bundle from node_modules`,
      met: thirdParty === 0,
      why: thirdParty === 0 ? undefined : 'third-party code is bundled into every function',
    });
  }
  for (const scale of results.scale) {
    rows.push({
      area: `scale, ${scale.mode}`,
      goal: 'jobs/s end to end without an error; no shared hot document',
      measured: `${scale.sustainedPerSecond}${scale.atLeast ? '+ (the highest rate tried)' : ''} jobs/s; ${scale.documents.sharedDocuments.length} shared documents, at most ${scale.documents.maxWritesPerDocumentPerSecond} write/s per document`,
      met: scale.sustainedPerSecond > 0 && scale.documents.sharedDocuments.length === 0 && scale.documents.maxWritesPerDocumentPerSecond < 20,
      why: scale.sustainedPerSecond > 0 ? undefined : FORK_WHY,
    });
  }
  return rows;
}

// ---- sections -------------------------------------------------------------------------------

/** Calls the room's leave callback cost in the push scenario. */
function leaveCalls(rt: RoundTripResults | undefined): number {
  return rt?.scenarios.find((s) => s.scenario === 'push')?.phases.find((p) => p.phase === 'leave callback')?.total ?? 0;
}

function roundTripSection(rt: RoundTripResults): string {
  const scenarios: ScenarioTrips[] = [...rt.scenarios];
  const phases = [...new Set(scenarios.flatMap((s) => s.phases.map((p) => p.phase)))];
  const cell = (s: ScenarioTrips, phase: string) => {
    const hit =
      s.phases.find((p) => p.phase === phase) ??
      (phase === 'completion' ? s.phases.find((p) => p.phase === 'completion (wait turn)') : undefined) ??
      (phase === 'completion (wait turn)' ? s.phases.find((p) => p.phase === 'completion') : undefined);
    return hit ? `${hit.total} (${hit.criticalPath})` : '–';
  };
  const rowsFor = phases.filter((p) => p !== 'completion (wait turn)');
  const rows = rowsFor.map((phase) => [
    phase === 'completion' ? 'completion (push: /jobs/complete; poll, simulated: the wait turn that sees it)' : phase,
    ...scenarios.map((s) => cell(s, phase)),
  ]);
  rows.push(['**per job** (+ per pending turn)', ...scenarios.map((s) => `**${s.fixedTotal}** (+${s.perPendingTurn})`)]);
  rows.push(['floor', ...scenarios.map((s) => String(s.floor))]);
  const b = rt.baseline;
  const baselineRows = b.phases.map((p) => [p.phase, p.request, `${p.total} (${p.criticalPath})`, p.chain.join(' → ') || '–']);
  const chains = scenarios
    .flatMap((s) => s.phases.filter((p) => p.criticalPath > 1).map((p) => `- ${s.scenario}, ${p.phase}: ${p.chain.join(' → ')}`))
    .filter((line, i, all) => all.indexOf(line) === i);
  return [
    `Counted by the emulator (\`stats()\`), one job at a time, each request driven the way Studio and Twilio drive it. A cell is \`calls (critical path)\`: the critical path is how many of those calls the request made one after the other (from the latency proxy's timings), which is what it waits for at ${rt.latencyMs} ms a call. Pending hold-loop turns come on top, one every loop period while the caller waits.`,
    '',
    table(['phase', ...scenarios.map((s) => s.scenario)], rows),
    '',
    'Requests that wait for more than one call in a row:',
    '',
    ...chains,
    '',
    `Naive baseline (bench/baseline/: the 2020 Studio sample's approach, served by twilio-run against the same emulator):`,
    '',
    table(['phase', 'request', 'calls (critical path)', 'chain'], baselineRows),
    '',
    `Baseline per job: **${b.fixedTotal}** calls, 0 per hold turn. ${b.notes.map((n) => `${n.charAt(0).toUpperCase()}${n.slice(1)}.`).join(' ')}`,
    '',
    'The floor is one Sync write to create the job, one to finalize it, one call redirect to release the caller and one read for the result (two more per 16 KiB chunk of a large result: its write and its read). Where ours is above it, and why:',
    '',
    '- `/hold` reads the job, to send a caller whose job is already done straight back to Studio, and writes the caller\'s CallSid on it, so a completion can redirect their call with no lookup. The after-hold URL a released call is redirected to carries the final status, so it reads nothing.',
    '- `/jobs/complete` reads the job before writing it: the write carries `If-Match` (revision) so a completion, the deadline and a hang-up cannot overwrite each other, and the read also refuses late completions and acknowledges duplicates.',
    '- The release is one Calls API update (the caller\'s call moved to the after-hold URL), sent while the final status is written: no conference lookup, whatever state the room is in. Ending the room is only a second try.',
    leaveCalls(rt) > 0
      ? '- The room\'s `leave` status callback reads the job once; only for a pending job does it read the Call too (its status tells a hang-up from a move), which is how a hang-up cancels the job.'
      : '- The room\'s `leave` status callback costs nothing when the caller\'s call is still in progress (the room ended because the job did); only a hang-up reads and cancels the job.',
    '- Each pending hold-loop turn reads the job once (poll mode: and asks the backend when due). That read is what releases a caller whose completion came before they joined, and what applies the deadline.',
    '- Poll mode writes once more at start, to record the backend\'s status URL.',
  ].join('\n');
}

function startSection(results: BenchResults): string {
  const rows = results.startLatency.map((r) => [
    r.mode,
    r.backend,
    String(r.concurrency),
    String(r.summary.n),
    ms(r.summary.p50),
    ms(r.summary.p95),
    ms(r.summary.p99),
    ms(r.summary.max),
    ms(r.floorMs),
    `${r.p50OverFloor}x / ${r.p99OverFloor}x`,
    String(r.errors),
  ]);
  return [
    `Each caller starts a job, waits for the reply, starts the next (closed loop). ${results.settings.latencyMs} ms per Twilio call; the backend answers the dispatch after ${results.settings.backendAcceptMs} ms, or never (the service gives up after DISPATCH_TIMEOUT_MS = ${results.settings.dispatchTimeoutMs} ms and keeps the job pending). The floor is what /jobs/start cannot avoid: one Sync write (${results.settings.latencyMs} ms) plus the backend's ${results.settings.backendAcceptMs} ms, or plus the dispatch timeout when it hangs. Errors include replies slower than the client's 30 s limit.`,
    '',
    '`fork` is twilio-run\'s default: every request runs in a freshly forked node process that loads the runtime and the helper library first. `warm` is `--no-fork-process --no-live`: every request runs in one long-lived process with the function loaded once, which is how the platform serves a warm instance. Production numbers sit near the warm rows; the fork rows say what twilio-run costs locally.',
    '',
    table(['mode', 'backend', 'callers', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'floor ms', 'p50 / p99 over floor', 'errors'], rows),
  ].join('\n');
}

function releaseSection(results: BenchResults): string {
  const rows = results.release.map((r) => {
    const isLoop = r.case.startsWith('poll') || r.case.startsWith('simulated');
    const fmt = (v: number) => (isLoop ? `${(v / 1000).toFixed(2)} s` : `${ms(v)} ms`);
    const first = r.releasedByFirstTurn === undefined ? '–' : `${r.releasedByFirstTurn} of ${r.summary.n}`;
    return [r.case, r.mode, String(r.summary.n), fmt(r.summary.p50), fmt(r.summary.p95), fmt(r.summary.max), r.goal, first, String(r.failures)];
  });
  const push = results.release.find((r) => r.case.startsWith('push') && r.mode === 'warm');
  const baseline = results.release.find((r) => r.case.startsWith('baseline'));
  const versus =
    push && baseline
      ? ` After a push completion the caller now waits about as long as with the naive baseline's two conference calls (p50 ${ms(push.summary.p50)} ms against ${ms(baseline.summary.p50)} ms), although the job's outcome is stored first.`
      : '';
  return [
    `Push: from the backend sending its completion to the emulator's \`released\` long-poll answering (the caller leaves the room). Poll and simulated: ${12} callers at once, each job ready at a different point of the loop; the hold loop is driven as Twilio drives it (a turn, then the ${results.settings.musicSeconds.toFixed(1)} s of music, then the next turn); latency from the work being ready to the release. The latency proxy spends half of each call's ${results.settings.latencyMs} ms on the way in and half on the way out, so a conference ended by REST is ended half a round trip into the call.`,
    '',
    table(['case', 'mode', 'n', 'p50', 'p95', 'max', 'goal', 'released by the first turn after ready', 'failures'], rows),
    ...(versus ? ['', versus.trim()] : []),
  ].join('\n');
}

function coldSection(results: BenchResults): string {
  const rows = results.coldStart.map((r) => [
    r.file,
    kib(r.bytes),
    kib(r.thirdPartyBytes),
    ms(r.bare.load.p50),
    ms(r.bare.firstCall.p50),
    ms(r.bare.process.p50),
    ms(r.runtime.preload.p50),
    ms(r.runtime.load.p50),
    ms(r.runtime.firstCall.p50),
  ]);
  return [
    'Each built function (the copy of `dist/functions` the run serves) in a fresh node process, medians of 5 runs. `load` is `require()` of the bundle; `first request` is one call of its handler up to its callback (one Sync read against the emulator, no injected latency; `/jobs/complete` refuses an unsigned request before any call). `bare`: nothing loaded before. `runtime`: the helper library loaded first, as Twilio\'s runtime does to build the global `Twilio` before it loads any function (twilio-run\'s own runtime does the same in every forked process); `helper` is what that costs, once per instance, whatever the function.',
    '',
    table(['function', 'KiB', 'KiB from node_modules', 'bare load ms', 'bare first request ms', 'bare process total ms', 'helper (runtime) ms', 'runtime load ms', 'runtime first request ms'], rows),
  ].join('\n');
}

function scaleSection(results: BenchResults): string {
  const rows = results.scale.flatMap((scale) =>
    scale.steps.map((s) => [
      scale.mode,
      String(s.offeredPerSecond),
      String(s.jobs),
      String(s.errors),
      String(s.notHeld ?? '–'),
      `${ms(s.start.p50)} / ${ms(s.start.p99)}`,
      `${(s.endToEnd.p50 / 1000).toFixed(1)} / ${(s.endToEnd.p99 / 1000).toFixed(1)}`,
      s.verdict + (s.errorSamples.length ? ` (${s.errorSamples[0]!.slice(0, 80).replace(/\|/g, '/')})` : ''),
    ]),
  );
  const docs = results.scale.map(
    (scale) =>
      `- ${scale.mode}: **${scale.sustainedPerSecond}${scale.atLeast ? '+' : ''} jobs/s** sustained${scale.atLeast ? ' (every rate tried passed)' : ''}. ${scale.documents.jobsStarted} jobs wrote ${scale.documents.documentsWritten} Sync documents; documents written by more than one job: ${scale.documents.sharedDocuments.length}; not named after a job of the run: ${scale.documents.foreignDocuments.length}; at most ${scale.documents.maxWritesPerDocument} writes per document in all and ${scale.documents.maxWritesPerDocumentPerSecond} in any one second (Sync allows 20/s per object).`,
  );
  return [
    'The embedded default (no BACKEND_URL: the simulated backend, 1 s of work). Jobs arrive at a fixed rate for a few seconds per step; each is a whole call: start, /hold, join the room, a pending wait turn, the next turn releases the caller (the room\'s leave callback follows), the Dial action returns to Studio, the result is read: 6 function requests and ~8 Twilio calls per job. The hold-loop period is shortened to 1.5 s here so a step takes seconds. A step passes with no error, start p99 under 1.5 s and no backlog; the rate grows until a step fails. `not held`: jobs already done when /hold was asked (more than 1 s after the start, under load), which Studio then continues without holding the caller: fewer requests for those jobs.',
    '',
    table(['mode', 'jobs/s offered', 'jobs', 'errors', 'not held', 'start p50 / p99 ms', 'end to end p50 / p99 s', 'verdict'], rows),
    '',
    ...docs,
  ].join('\n');
}

// ---- before / after -------------------------------------------------------------------------

interface Comparable {
  name: string;
  get: (r: BenchResults) => number | undefined;
  unit: string;
}

const COMPARABLES: Comparable[] = [
  { name: 'push completion: critical path (Twilio calls in a row)', unit: '', get: (r) => r.roundTrips?.scenarios.find((s) => s.scenario === 'push')?.phases.find((p) => p.phase === 'completion')?.criticalPath },
  { name: 'push: Twilio calls per job', unit: '', get: (r) => r.roundTrips?.scenarios.find((s) => s.scenario === 'push')?.fixedTotal },
  { name: 'hold release after a push completion, p50 (warm)', unit: 'ms', get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'warm')?.summary.p50 },
  { name: 'hold release after a push completion, p95 (warm)', unit: 'ms', get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'warm')?.summary.p95 },
  { name: 'hold release after a push completion, p50 (fork)', unit: 'ms', get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'fork')?.summary.p50 },
  { name: 'cold start: slowest bundle load, bare (p50)', unit: 'ms', get: (r) => (r.coldStart.length ? Math.max(...r.coldStart.map((c) => c.bare.load.p50)) : undefined) },
  { name: 'cold start: slowest first request, with the runtime (p50)', unit: 'ms', get: (r) => (r.coldStart.length ? Math.max(...r.coldStart.map((c) => c.runtime.firstCall.p50)) : undefined) },
  { name: 'largest bundle', unit: 'KiB', get: (r) => (r.coldStart.length ? Math.round(Math.max(...r.coldStart.map((c) => c.bytes)) / 102.4) / 10 : undefined) },
  ...([1, 10, 100] as const).flatMap((c) =>
    (['accepts in 200 ms', 'hangs'] as const).map((b) => ({
      name: `/jobs/start p99, warm, ${b}, ${c} callers`,
      unit: 'ms',
      get: (r: BenchResults) => r.startLatency.find((x) => x.mode === 'warm' && x.backend === b && x.concurrency === c)?.summary.p99,
    })),
  ),
  { name: '/jobs/start p50, fork, accepts, 1 caller', unit: 'ms', get: (r) => r.startLatency.find((x) => x.mode === 'fork' && x.backend === 'accepts in 200 ms' && x.concurrency === 1)?.summary.p50 },
  { name: 'scale, warm: jobs/s sustained', unit: '', get: (r) => r.scale.find((s) => s.mode === 'warm')?.sustainedPerSecond },
  { name: 'scale, fork: jobs/s sustained', unit: '', get: (r) => r.scale.find((s) => s.mode === 'fork')?.sustainedPerSecond },
];

function beforeAfterSection(before: BenchResults, after: BenchResults): string {
  const rows = COMPARABLES.map((c) => {
    const a = c.get(before);
    const b = c.get(after);
    const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 10) / 10}${c.unit ? ` ${c.unit}` : ''}`);
    return [c.name, fmt(a), fmt(b)];
  });
  const leaveSaved = leaveCalls(before.roundTrips) - leaveCalls(after.roundTrips);
  const others =
    leaveSaved > 0
      ? ` Not all of the difference is from the changes above: meanwhile the room\'s leave callback stopped reading the job when the caller\'s call is still in progress (\`src/functions/hold/events.protected.ts\`), ${leaveSaved} call fewer per job.`
      : '';
  return [
    `Before: the run of ${before.generatedAt.slice(0, 16).replace('T', ' ')} UTC (\`bench/results/before.json\`); after: this run. Call counts, critical paths, sizes and load times repeat from run to run; the 100-caller, fork and scale rows depend on what else the machine is doing (see the last table) and move between runs of the same code by more than some of the differences shown here.${others}`,
    '',
    table(['measure', 'before', 'after'], rows),
  ].join('\n');
}

// ---- chart ----------------------------------------------------------------------------------

export function chartSvg(results: BenchResults, before?: BenchResults): string {
  const panels: Panel[] = [];
  const rt = results.roundTrips;
  if (rt) {
    panels.push({
      title: 'Twilio API calls per job (without pending hold-loop turns), and the completion\'s calls in a row',
      unit: 'calls',
      groups: [
        ...rt.scenarios.map((s) => {
          const completionDepth = (r?: RoundTripResults) =>
            r?.scenarios.find((x) => x.scenario === s.scenario)?.phases.find((p) => p.phase.startsWith('completion'))?.criticalPath;
          const was = completionDepth(before?.roundTrips);
          return {
            label: s.scenario,
            bars: [
              { series: 'ours, per job', value: s.fixedTotal },
              { series: 'floor', value: s.floor },
              ...(was !== undefined ? [{ series: 'completion, calls in a row (before)', value: was }] : []),
              { series: 'completion, calls in a row', value: completionDepth(results.roundTrips) ?? 0 },
            ],
          };
        }),
        {
          label: 'naive baseline',
          bars: [
            { series: 'ours, per job', value: rt.baseline.fixedTotal },
            { series: 'floor', value: rt.baseline.floor },
            { series: 'completion, calls in a row', value: rt.baseline.phases.find((p) => p.phase === 'completion')?.criticalPath ?? 0 },
          ],
        },
      ],
    });
  }
  if (results.startLatency.length > 0) {
    const groups = ['warm', 'fork'].flatMap((mode) =>
      (['accepts in 200 ms', 'hangs'] as const).flatMap((backend) => {
        const rows = results.startLatency.filter((r) => r.mode === mode && r.backend === backend);
        return rows.map((r) => ({
          label: `${mode} ${backend === 'hangs' ? 'hang' : 'accept'}\n${r.concurrency} caller${r.concurrency > 1 ? 's' : ''}`,
          bars: [
            { series: 'p50', value: r.summary.p50 },
            { series: 'p99', value: r.summary.p99 },
            { series: 'floor', value: r.floorMs },
          ],
        }));
      }),
    );
    panels.push({ title: '/jobs/start reply time (80 ms per Twilio call)', unit: 'ms', log: true, groups, goal: { value: START_GOAL_MS, label: 'goal: p99 < 1.5 s' } });
  }
  if (results.release.length > 0) {
    panels.push({
      title: 'Hold release after the work is done',
      unit: 'ms',
      log: true,
      groups: results.release.map((r) => {
        const was = before?.release.find((b) => b.case === r.case && b.mode === r.mode);
        return {
          label: `${r.case.split(':')[0]}\n${r.mode}`,
          bars: [
            ...(was ? [{ series: 'p50 before', value: was.summary.p50 }] : []),
            { series: 'p50', value: r.summary.p50 },
            { series: 'max', value: r.summary.max },
            { series: 'goal', value: r.goalMs },
          ],
        };
      }),
    });
  }
  if (results.coldStart.length > 0) {
    panels.push({
      title: 'Cold start in a fresh node process (p50)',
      unit: 'ms',
      groups: results.coldStart.map((r) => {
        const was = before?.coldStart.find((b) => b.file === r.file);
        return {
          label: r.file.replace(/\.(protected\.)?js$/, ''),
          bars: [...(was ? [{ series: 'load before', value: was.bare.load.p50 }] : []), { series: 'load', value: r.bare.load.p50 }, { series: 'first request (runtime loaded)', value: r.runtime.firstCall.p50 }],
        };
      }),
      goal: { value: COLD_LOAD_GOAL_MS, label: 'goal: < 100 ms' },
    });
  }
  const m = results.machine;
  return renderChart('studio-async benchmarks', `${results.generatedAt.slice(0, 10)} · ${m.cores} cores ${m.cpuModel} · node ${m.node} · generated by npm run bench`, panels);
}

// ---- the document ---------------------------------------------------------------------------

export function renderMarkdown(results: BenchResults, before?: BenchResults, chartFile = 'benchmarks.svg'): string {
  const m = results.machine;
  const goals = goalRows(results);
  const missed = goals.filter((g) => g.met === false);
  const parts: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/report.ts); edit the generator, not this file. -->',
    '',
    `Measured ${results.generatedAt.slice(0, 16).replace('T', ' ')} UTC in ${results.durationSeconds} s on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, node ${m.node}, twilio-run ${m.twilioRun}, twilio ${m.twilio}. Everything ran on this one machine: twilio-run, the Twilio emulator, the latency proxy, the backend and the load generator share the cores (event-loop lag of the benchmark process, p99: ${results.eventLoopLagP99Ms} ms). The emulator recorded ${results.violations} OpenAPI violations.${results.cpu?.others !== undefined ? ` Other processes on the machine used ${Math.round(results.cpu.others * 100)}% of all cores during the run, this run ${Math.round((results.cpu.ours ?? 0) * 100)}% (its servers and function processes included; per section below).` : ''}`,
    '',
    'Commands:',
    '',
    '```sh',
    'npm install',
    ...results.commands,
    'npx tsx bench/report.ts   # redraw this page and the chart from bench/results/*.json',
    '```',
    '',
    'How: `bench/run.ts` builds the service, copies `dist/` to `.local/bench/dist` (so a build started meanwhile cannot swap files out from under the run) and serves that with twilio-run (`tools/local-stack.ts`) against the emulator, which counts every Twilio API call by operation. Between the functions and the emulator sits a proxy (`bench/lib/latency-proxy.ts`) that adds 80 ms to every Twilio call (half each way) and records each call\'s start and end. The backend (`bench/lib/backend.ts`) speaks the dispatch/completion contract with the timing each part needs. Every server listens on 127.0.0.1 only (twilio-run, which has no host option, through `bench/lib/loopback-only.cjs`). Raw results: `bench/results/*.json`; `before.json` is the run before the changes below.',
    '',
    `![benchmarks](${chartFile})`,
    '',
    '## Results against the goals',
    '',
    table(['area', 'goal', 'measured', 'met'], goals.map((g) => [g.area, g.goal, g.measured, g.met === undefined ? '(comparison)' : yes(g.met)])),
    '',
  ];
  if (results.roundTrips) parts.push('## 1. Twilio API round trips per job', '', roundTripSection(results.roundTrips), '');
  if (results.startLatency.length) parts.push('## 2. /jobs/start reply time', '', startSection(results), '');
  if (results.release.length) parts.push('## 3. Hold release latency', '', releaseSection(results), '');
  if (results.coldStart.length) parts.push('## 4. Cold start and size', '', coldSection(results), '');
  if (results.scale.length) parts.push('## 5. Scale', '', scaleSection(results), '');
  if (results.capacity) parts.push('## 6. Capacity under the concurrency cap, and the cost of a job', '', capacityLevels(results.capacity), '', capacitySection(results.capacity, loadPrices()), '');
  parts.push('## What was made faster', '', OPTIMIZATIONS, '');
  if (before) parts.push('### Before and after', '', beforeAfterSection(before, results), '');
  parts.push('### Not done (yet)', '', notDone(results), '');
  parts.push('## Goals missed, and why', '');
  if (missed.length === 0) parts.push('None in this run.');
  else for (const g of missed) parts.push(`- **${g.area}** (${g.goal}): ${g.measured}. ${g.why ?? ''}`.trim());
  const pct = (v?: number) => (v === undefined ? '–' : `${Math.round(v * 100)}%`);
  parts.push(
    '',
    '## Time per section',
    '',
    'With the share of all cores that other processes on the machine used meanwhile (from /proc): figures from a section where it is high are less trustworthy, fork mode and the 100-caller rows most of all.',
    '',
    table(['section', 'seconds', 'CPU used by other processes'], Object.entries(results.sections).map(([k, v]) => [k, String(typeof v === 'number' ? v : v.seconds), pct(typeof v === 'number' ? undefined : v.othersCpuShare)])),
    '',
  );
  return parts.join('\n');
}

const OPTIMIZATIONS = [
  'What the first run showed, and what changed (figures in the table below):',
  '',
  '1. **Cold start.** Every bundle required the whole `twilio` package at load: nearly all of the 100-130 ms a fresh process took to load a bundle, mostly axios, form-data, jsonwebtoken and qs pulled in by its REST client. The functions now load the helper library\'s parts on first use (`twilio/lib/rest/Twilio`, `twilio/lib/base/RequestClient`, `twilio/lib/twiml/VoiceResponse`): on the platform (and in twilio-run) the runtime has loaded the helper library for the global `Twilio` before any function, so those requires are cache hits and a bundle loads in a few ms. In a bare process the first REST call still pays for the REST client once.',
  '2. **Bundle size.** A third of each bundle was the `standardwebhooks` package\'s pure-JS SHA-256 and base64. Signing now computes the same Standard Webhooks signatures (`v1,` base64 HMAC-SHA256 of `id.timestamp.body`, `whsec_` secrets, several signatures, 5-minute tolerance, constant-time compare) with `node:crypto`; a unit test checks it against the `standardwebhooks` package both ways.',
  '3. **REST client per request.** Each request built a new helper-library client (a new axios instance and HTTPS agent). A warm instance now reuses one client per configuration, which also keeps its connections to Twilio alive between invocations instead of a new TLS handshake per request (not visible against the local emulator, which is plain HTTP).',
  '4. **Release after a push completion.** `/jobs/complete` read the job, wrote it, listed the room, then ended it: 4 calls in a row before the caller heard anything. It then looked the room up while it read the job, and ended the room while it wrote the final status: 2 in a row. Now it reads the job (which names the caller\'s call since /hold) and redirects the call while it writes the final status: still 2 in a row, one call fewer, and it works whether or not Twilio lets an `init` room be ended by REST or listed by `Status=init` (docs/TWILIO-DIFFERENCES.md).',
].join('\n');

const notDone = (results: BenchResults) =>
  [
    '- The hold loop\'s releasing turn (poll and simulated modes) reads, writes, then redirects the call (3 in a row): the redirect follows the write so the status it hands Studio is the one that landed.',
    ...(leaveCalls(results.roundTrips) > 0
      ? [
          '- The room\'s `leave` callback reads the job even when the caller left because the job was done. `participant-leave` carries `ParticipantCallStatus` and `ReasonParticipantLeft` (since 2023), but their values are not documented, so the service does not act on them; a verify:live record that settles them could save this read (one call per job).',
        ]
      : []),
    NOT_DONE_FORK,
  ].join('\n');

const NOT_DONE_FORK =
  '- `twilio-run` forking a process per request is what makes the fork rows slow (about a quarter of a second per request before our code runs); `npm start` keeps twilio-run\'s default. `startLocalStack({ forkProcess: false, live: false })` serves requests the way a warm instance does.';

function capacityLevels(c: CapacityResults): string {
  const hold = c.holdLevels.map((l) => [String(l.callers), String(l.turns), String(l.refused), String(l.errors), `${Math.round(l.turn.p50)} / ${Math.round(l.turn.p99)}`, String(l.peakInFlight), yes(l.ok)]);
  const talk = c.conversationLevels.map((l) => [l.design, String(l.conversations), String(l.delivered), String(l.refused), String(l.errors), String(l.peakInFlight), `${l.elapsedSeconds}`, yes(l.ok)]);
  return [
    'Held callers: each level adds callers (jobs that stay pending) and runs for two music loops; every caller fetches its next hold-loop turn one loop after the last.',
    '',
    table(['callers', 'turns', 'refused', 'errors', 'turn p50 / p99 ms', 'peak in flight', 'ok'], hold),
    '',
    'Text conversations: all start within a few seconds and wait for work that takes longer than their arrival. `execution`: the messaging flow ends after "working on it" and the completion starts it again through the Executions API; `long-poll`: the flow waits on `/jobs/status` (wait=6).',
    '',
    table(['design', 'conversations', 'delivered', 'refused', 'errors', 'peak in flight', 'seconds', 'ok'], talk),
  ].join('\n');
}

export function writeReport(results: BenchResults, options: { resultsDir: string; docsDir: string }): void {
  const beforeFile = path.join(options.resultsDir, 'before.json');
  const before = fs.existsSync(beforeFile) && !results.quick ? (JSON.parse(fs.readFileSync(beforeFile, 'utf8')) as BenchResults) : undefined;
  const useBefore = before && before.generatedAt !== results.generatedAt ? before : undefined;
  fs.mkdirSync(options.docsDir, { recursive: true });
  fs.writeFileSync(path.join(options.docsDir, 'benchmarks.svg'), chartSvg(results, useBefore));
  fs.writeFileSync(path.join(options.docsDir, 'BENCHMARKS.md'), renderMarkdown(results, useBefore));
  // The README's capacity and cost tables come from the full run that wrote docs/.
  if (results.capacity && !results.quick && path.resolve(options.docsDir) === path.join(PROJECT_ROOT, 'docs')) {
    const readme = path.join(PROJECT_ROOT, 'README.md');
    fs.writeFileSync(readme, withReadmeSection(fs.readFileSync(readme, 'utf8'), capacitySection(results.capacity, loadPrices())));
  }
}

if (require.main === module) {
  const resultsDir = path.join(PROJECT_ROOT, 'bench', 'results');
  const results = JSON.parse(fs.readFileSync(path.join(resultsDir, 'summary.json'), 'utf8')) as BenchResults;
  writeReport(results, { resultsDir, docsDir: path.join(PROJECT_ROOT, 'docs') });
  console.log('wrote docs/BENCHMARKS.md and docs/benchmarks.svg');
}
