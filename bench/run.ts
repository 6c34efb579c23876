/**
 * `npm run bench`: every benchmark in one run, side by side, against the local stack (twilio-run
 * serving a fresh build + the Twilio emulator, 80 ms injected per Twilio call, on 127.0.0.1).
 * Writes bench/results/*.json, docs/BENCHMARKS.md and docs/benchmarks.svg.
 *
 *   npm run bench                      the full run (about 10 minutes on 2 cores; hard stop at 11)
 *   npm run bench -- --save-as before  also keeps this run as bench/results/before.json, which
 *                                      later reports compare against
 *   npm run bench -- --quick --out DIR a smoke run in seconds (tests/bench), results in DIR
 *   npx tsx bench/report.ts            redraws the report and chart from bench/results/*.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { TWILIO_CONCURRENCY_CAP } from '../dev/function-concurrency';
import { readWavDurationSeconds } from '../dev/wav';
import { PROJECT_ROOT } from '../dev/paths';
import {
  capacitySummary,
  footprintsFrom,
  measureConversations,
  measureHeldCallers,
  type CapacityOptions,
} from './capacity';
import { measureColdStart, thirdPartyBytes, type ColdStartRow } from './cold-start';
import { startBenchBackend, type BenchBackend } from './lib/backend';
import { buildForBench } from './lib/build-copy';
import { monitorCpuShare, share, type CpuShareMonitor } from './lib/cpu-share';
import { machineInfo } from './lib/machine';
import { readMessagingFlow } from './lib/messaging-flow';
import { startBenchStack, type BenchStack, type ServeMode } from './lib/stack';
import { measureBaselineRelease, measureLoopRelease, measurePushRelease } from './release-latency';
import { writeReport } from './report';
import { SECTION_NAMES, type BenchResults } from './report/results';
import { measureRoundTrips } from './round-trips';
import { measureScale } from './scale';
import { BACKEND_ACCEPT_MS, DISPATCH_TIMEOUT_MS, LATENCY_MS, LOOP_RELEASE_CALLERS } from './settings';
import { measureStartLatency, type StartFloor, type StartLatencyRow } from './start-latency';

const HARD_LIMIT_MS = 11 * 60_000;
const SECRET = 'whsec_' + Buffer.from('benchmark-secret-0123456789').toString('base64');

export interface RunOptions {
  quick: boolean;
  /** Serve dist/ as it is instead of building (the test suite has built it). */
  reuseBuild?: boolean;
  outDir: string;
  docsDir?: string;
  saveAs?: string;
  log: (line: string) => void;
}

/** What the sections of one run share. */
interface BenchRun {
  options: RunOptions;
  results: BenchResults;
  /** The copy of the build the stacks serve: relative to the project, and absolute. */
  built: { distDir: string; absoluteDir: string };
  backend: BenchBackend;
  musicSeconds: number;
  /** Bytes each bundle takes from node_modules, from the sources just built. */
  packageBytes: Map<string, number>;
  stacks: StackSet;
  /** Runs a section: logs its name, records its seconds and the share of the cores other processes used meanwhile. */
  timed<T>(name: string, run: () => Promise<T>): Promise<T>;
  /** A section's own deadline: its share of the time left, never past the hard limit. */
  until(ms: number): number;
}

/** Concurrency levels and request counts per level, bounded so the run fits its time. */
function startPlan(
  mode: ServeMode,
  quick: boolean,
): Array<{ backend: StartLatencyRow['backend']; concurrency: number; requests: number }> {
  if (quick) return [{ backend: 'accepts in 200 ms', concurrency: 1, requests: 2 }];
  const counts: Record<ServeMode, Record<number, [number, number]>> = {
    // [accepting backend, hanging backend]
    warm: { 1: [20, 10], 10: [100, 50], 100: [300, 200] },
    fork: { 1: [10, 6], 10: [50, 30], 100: [100, 100] },
  };
  const plan: ReturnType<typeof startPlan> = [];
  for (const backend of ['accepts in 200 ms', 'hangs'] as const) {
    for (const concurrency of [1, 10, 100])
      plan.push({ backend, concurrency, requests: counts[mode][concurrency]![backend === 'hangs' ? 1 : 0] });
  }
  return plan;
}

/** What /jobs/start cannot avoid: one Sync write, plus the backend's accept or the dispatch timeout. */
function startFloor(kind: StartLatencyRow['backend']): StartFloor {
  return {
    twilioCalls: 1,
    latencyMs: LATENCY_MS,
    backendMs: kind === 'hangs' ? DISPATCH_TIMEOUT_MS : BACKEND_ACCEPT_MS,
  };
}

export async function runBench(options: RunOptions): Promise<BenchResults> {
  const began = Date.now();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu = monitorCpuShare();
  const cpuAtStart = cpu.read();
  const sections: BenchResults['sections'] = {};
  const timed = sectionTimer(cpu, sections, options.log);
  const nodeOptions = serveOnLoopbackOnly();
  const run = await prepareRun(options, sections, timed, began + HARD_LIMIT_MS);
  const { results } = run;
  try {
    await runWarmSections(run);
    if (!options.quick) await runForkSections(run);
    results.capacity = await timed(`6. capacity (cap ${TWILIO_CONCURRENCY_CAP})`, () => runCapacity(run));
    results.violations += results.capacity.violations;
    results.coldStart = await timed('4. cold start', () => runColdStart(run));
  } finally {
    await run.stacks.stopAll();
    await run.backend.close();
    lag.disable();
    restoreNodeOptions(nodeOptions);
    results.cpu = share(cpuAtStart, cpu.stop());
    if (options.quick) fs.rmSync(run.built.absoluteDir, { recursive: true, force: true });
  }
  results.durationSeconds = Math.round((Date.now() - began) / 1000);
  results.eventLoopLagP99Ms = Math.round(lag.percentile(99) / 1e5) / 10;
  if (options.saveAs) results.commands.push(`npm run bench -- --save-as ${options.saveAs}`);
  writeResults(results, options);
  return results;
}

function sectionTimer(
  cpu: CpuShareMonitor,
  sections: BenchResults['sections'],
  log: (line: string) => void,
): BenchRun['timed'] {
  return async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const before = cpu.read();
    log(`- ${name}`);
    try {
      return await run();
    } finally {
      const { others } = share(before, cpu.read());
      sections[name] = { seconds: Math.round((Date.now() - t) / 100) / 10, othersCpuShare: others };
    }
  };
}

/**
 * The twilio-run servers started from here (and their function processes) inherit NODE_OPTIONS:
 * with this they listen on 127.0.0.1 only. Returns the value to restore.
 */
function serveOnLoopbackOnly(): string | undefined {
  const loopbackShim = `--require ${JSON.stringify(path.join(__dirname, 'lib', 'loopback-only.cjs'))}`;
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = [nodeOptions, loopbackShim].filter(Boolean).join(' ');
  return nodeOptions;
}

function restoreNodeOptions(nodeOptions: string | undefined): void {
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = nodeOptions;
}

/** The build, the backend and the results to fill in: what every section needs. */
async function prepareRun(
  options: RunOptions,
  sections: BenchResults['sections'],
  timed: BenchRun['timed'],
  hardDeadline: number,
): Promise<BenchRun> {
  // A smoke run gets its own copy, so it can run beside a full run.
  const built = await timed('build', () =>
    buildForBench({
      reuse: options.reuseBuild,
      distDir: options.quick ? path.join('.local', 'bench', `dist-smoke-${process.pid}`) : undefined,
    }),
  );
  const packageBytes = await thirdPartyBytes();
  const musicSeconds = readWavDurationSeconds(path.join(built.absoluteDir, 'assets', 'hold-music.wav'));
  const backend = await startBenchBackend({ secret: SECRET, acceptDelayMs: BACKEND_ACCEPT_MS });
  const backendEnv = {
    BACKEND_URL: backend.url,
    WEBHOOK_SECRET: SECRET,
    DISPATCH_TIMEOUT_MS: String(DISPATCH_TIMEOUT_MS),
  };
  return {
    options,
    results: emptyResults(options.quick, musicSeconds, sections),
    built,
    backend,
    musicSeconds,
    packageBytes,
    stacks: new StackSet(built.distDir, backendEnv),
    timed,
    until: (ms) => Math.min(Date.now() + ms, hardDeadline),
  };
}

function emptyResults(quick: boolean, musicSeconds: number, sections: BenchResults['sections']): BenchResults {
  return {
    generatedAt: new Date().toISOString(),
    quick,
    machine: machineInfo(),
    commands: ['npm run bench'],
    settings: {
      latencyMs: LATENCY_MS,
      backendAcceptMs: BACKEND_ACCEPT_MS,
      dispatchTimeoutMs: DISPATCH_TIMEOUT_MS,
      musicSeconds,
    },
    startLatency: [],
    release: [],
    scale: [],
    coldStart: [],
    violations: 0,
    sections,
    durationSeconds: 0,
    eventLoopLagP99Ms: 0,
  };
}

/** The stacks a run has up, so that whatever fails, none is left running. */
class StackSet {
  private readonly up: BenchStack[] = [];

  constructor(
    private readonly distDir: string,
    private readonly backendEnv: Record<string, string>,
  ) {}

  /** Sections before the capacity one count Function executions (cap 0) but refuse none. */
  async start(mode: ServeMode, withBackend: boolean, concurrencyCap = 0): Promise<BenchStack> {
    const started = await startBenchStack({
      mode,
      latencyMs: LATENCY_MS,
      distDir: this.distDir,
      env: withBackend ? this.backendEnv : {},
      concurrencyCap,
    });
    this.up.push(started);
    return started;
  }

  /** Stops the stacks; resolves to the OpenAPI violations their emulators recorded. */
  async stop(...some: BenchStack[]): Promise<number> {
    const violations = some.reduce((sum, s) => sum + s.stack.emulator.violations().length, 0);
    for (const s of some) {
      this.up.splice(this.up.indexOf(s), 1);
      await s.stop();
    }
    return violations;
  }

  async stopAll(): Promise<void> {
    for (const s of [...this.up]) await s.stop().catch(() => undefined);
  }
}

/** Warm: one twilio-run process, like the platform's warm instances. Parts 1, 3, 2 and 5. */
async function runWarmSections(run: BenchRun): Promise<void> {
  const { results } = run;
  const warm = await run.timed('start warm stacks', () => run.stacks.start('warm', true));
  const warmSimulated = run.options.quick ? undefined : await run.stacks.start('warm', false);
  if (warmSimulated) {
    results.roundTrips = await run.timed('1. round trips per job', () =>
      measureRoundTrips(warm, warmSimulated, run.backend, LATENCY_MS, assetsFolder(run)),
    );
  }
  await run.timed(SECTION_NAMES.release('warm'), () => runWarmRelease(run, warm, warmSimulated));
  await run.timed(SECTION_NAMES.startLatency('warm'), () => runStartLatency(run, warm, 40_000));
  if (warmSimulated) {
    results.scale.push(
      await run.timed('5. scale (warm)', () =>
        measureScale(warmSimulated, {
          rates: [10, 20, 40, 80, 120, 160, 200, 240],
          stepSeconds: 5,
          deadline: run.until(110_000),
        }),
      ),
    );
  }
  results.violations += await run.stacks.stop(warm, ...(warmSimulated ? [warmSimulated] : []));
}

/** Fork: twilio-run's default, a fresh process per request. Parts 2, 3 and 5 (full runs only). */
async function runForkSections(run: BenchRun): Promise<void> {
  const { results } = run;
  const fork = await run.timed('start fork stack', () => run.stacks.start('fork', true));
  await run.timed(SECTION_NAMES.startLatency('fork'), () => runStartLatency(run, fork, 45_000));
  await run.timed(SECTION_NAMES.release('fork'), async () => {
    results.release.push(
      await measurePushRelease(fork, run.backend, { samples: 8, latencyMs: LATENCY_MS, deadline: run.until(30_000) }),
    );
  });
  results.violations += await run.stacks.stop(fork);

  const forkSimulated = await run.timed('start fork stack (simulated)', () => run.stacks.start('fork', false));
  results.scale.push(
    await run.timed('5. scale (fork)', () =>
      measureScale(forkSimulated, { rates: [0.5, 1, 1.5, 2, 3], stepSeconds: 6, deadline: run.until(90_000) }),
    ),
  );
  results.violations += await run.stacks.stop(forkSimulated);
}

/** Part 2 on one stack: its mode's plan, step by step, each step with `stepMs` at most. */
async function runStartLatency(run: BenchRun, stack: BenchStack, stepMs: number): Promise<void> {
  for (const step of startPlan(stack.mode, run.options.quick)) {
    run.results.startLatency.push(
      await measureStartLatency(stack, { ...step, floor: startFloor(step.backend), deadline: run.until(stepMs) }),
    );
  }
}

/** Part 3, warm: after a push completion; in a full run also the naive baseline and the hold loops. */
async function runWarmRelease(run: BenchRun, warm: BenchStack, warmSimulated: BenchStack | undefined): Promise<void> {
  const { results, backend, musicSeconds } = run;
  results.release.push(
    await measurePushRelease(warm, backend, {
      samples: run.options.quick ? 1 : 25,
      latencyMs: LATENCY_MS,
      deadline: run.until(40_000),
    }),
  );
  if (run.options.quick || !warmSimulated) return;
  results.release.push(
    await measureBaselineRelease(warm, {
      samples: 10,
      latencyMs: LATENCY_MS,
      deadline: run.until(20_000),
      assetsFolder: assetsFolder(run),
    }),
  );
  const loops = await Promise.all([
    measureLoopRelease(warm, {
      kind: 'poll',
      backend,
      count: LOOP_RELEASE_CALLERS,
      musicSeconds,
      deadline: run.until(60_000),
    }),
    measureLoopRelease(warmSimulated, {
      kind: 'simulated',
      count: LOOP_RELEASE_CALLERS,
      musicSeconds,
      deadline: run.until(60_000),
    }),
  ]);
  results.release.push(...loops);
}

/** Part 6, on stacks of its own under the cap: held callers (simulated jobs), then conversations (push jobs). */
async function runCapacity(run: BenchRun): Promise<NonNullable<BenchResults['capacity']>> {
  const quick = run.options.quick;
  const simulated = await run.stacks.start('warm', false, TWILIO_CONCURRENCY_CAP);
  const holdLevels = await measureHeldCallers(simulated, capacityOptions(run, run.until(quick ? 20_000 : 150_000)));
  let violations = await run.stacks.stop(simulated);
  const withBackend = await run.stacks.start('warm', true, TWILIO_CONCURRENCY_CAP);
  const flowSid = await withBackend.createFlow(readMessagingFlow());
  const conversationLevels = await measureConversations(
    withBackend,
    flowSid,
    capacityOptions(run, run.until(quick ? 30_000 : 180_000)),
  );
  violations += await run.stacks.stop(withBackend);
  const footprints = run.results.roundTrips ? footprintsFrom(run.results.roundTrips, run.musicSeconds) : [];
  return { ...capacitySummary(TWILIO_CONCURRENCY_CAP, holdLevels, conversationLevels, footprints), violations };
}

function capacityOptions(run: BenchRun, deadline: number): CapacityOptions {
  const quick = run.options.quick;
  return {
    cap: TWILIO_CONCURRENCY_CAP,
    musicSeconds: run.musicSeconds,
    holdLevels: quick ? [4] : [500, 1000, 2000],
    holdLevelSeconds: quick ? 2 : 2 * run.musicSeconds,
    conversationLevels: quick ? [3] : [300, 600],
    longPollLevels: quick ? [2] : [15, 30, 45],
    workMs: quick ? 1500 : 15_000,
    deadline,
  };
}

/** Part 4: every built function of the copy the run served. */
function runColdStart(run: BenchRun): Promise<ColdStartRow[]> {
  return measureColdStart({
    functionsDir: path.join(run.built.absoluteDir, 'functions'),
    packageBytes: run.packageBytes,
    runs: run.options.quick ? 1 : 5,
    deadline: run.until(60_000),
    limit: run.options.quick ? 1 : undefined,
  });
}

const assetsFolder = (run: BenchRun) => path.join(run.built.distDir, 'assets');

/** bench/results/*.json (the summary, and each part on its own), then the report from them. */
function writeResults(results: BenchResults, options: RunOptions): void {
  fs.mkdirSync(options.outDir, { recursive: true });
  const write = (name: string, data: unknown) =>
    fs.writeFileSync(path.join(options.outDir, `${name}.json`), JSON.stringify(data, null, 2) + '\n');
  write('summary', results);
  if (results.roundTrips) write('round-trips', results.roundTrips);
  write('start-latency', results.startLatency);
  write('release-latency', results.release);
  write('cold-start', results.coldStart);
  write('scale', results.scale);
  if (results.capacity) write('capacity', results.capacity);
  if (options.saveAs) write(options.saveAs, results);
  writeReport(results, { resultsDir: options.outDir, docsDir: options.docsDir ?? options.outDir });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'save-as': { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const outDir = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'bench', 'results'));
  const docsDir = quick ? outDir : path.join(PROJECT_ROOT, 'docs');
  const watchdog = setTimeout(() => {
    console.error('bench: over the 12 minute limit, giving up');
    process.exit(2);
  }, 12 * 60_000);
  watchdog.unref();
  runBench({ quick, outDir, docsDir, saveAs: values['save-as'], log: (line) => console.log(line) })
    .then((results) => {
      console.log(
        `bench: done in ${results.durationSeconds} s; results in ${path.relative(process.cwd(), outDir) || '.'}, report in ${path.relative(process.cwd(), docsDir)}`,
      );
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    });
}
