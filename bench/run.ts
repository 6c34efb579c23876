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
import { readWavDurationSeconds } from '../tools/wav';
import { PROJECT_ROOT } from '../tools/paths';
import { capacitySummary, footprintsFrom, measureConversations, measureHeldCallers, type CapacityOptions } from './capacity';
import { measureColdStart, thirdPartyBytes } from './cold-start';
import { startBenchBackend } from './lib/backend';
import { buildForBench } from './lib/build-copy';
import { monitorCpuShare, share } from './lib/cpu-share';
import { machineInfo } from './lib/machine';
import { startBenchStack, type BenchStack, type ServeMode } from './lib/stack';
import { measureBaselineRelease, measureLoopRelease, measurePushRelease, type ReleaseRow } from './release-latency';
import { writeReport, type BenchResults } from './report';
import { measureRoundTrips } from './round-trips';
import { measureScale } from './scale';
import { measureStartLatency, type StartLatencyRow } from './start-latency';

export const LATENCY_MS = 80;
export const BACKEND_ACCEPT_MS = 200;
/** DISPATCH_TIMEOUT_MS's default: how long /jobs/start waits for a backend that does not answer. */
export const DISPATCH_TIMEOUT_MS = 1000;
const HARD_LIMIT_MS = 11 * 60_000;
/** Twilio's figure for one Functions service: the capacity section runs under it. */
export const CONCURRENCY_CAP = 30;
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

/** Concurrency levels and request counts per level, bounded so the run fits its time. */
function startPlan(mode: ServeMode, quick: boolean): Array<{ backend: StartLatencyRow['backend']; concurrency: number; requests: number }> {
  if (quick) return [{ backend: 'accepts in 200 ms', concurrency: 1, requests: 2 }];
  const counts: Record<ServeMode, Record<number, [number, number]>> = {
    // [accepting backend, hanging backend]
    warm: { 1: [20, 10], 10: [100, 50], 100: [300, 200] },
    fork: { 1: [10, 6], 10: [50, 30], 100: [100, 100] },
  };
  const plan: ReturnType<typeof startPlan> = [];
  for (const backend of ['accepts in 200 ms', 'hangs'] as const) {
    for (const concurrency of [1, 10, 100]) plan.push({ backend, concurrency, requests: counts[mode][concurrency]![backend === 'hangs' ? 1 : 0] });
  }
  return plan;
}

export async function runBench(options: RunOptions): Promise<BenchResults> {
  const began = Date.now();
  const hardDeadline = began + HARD_LIMIT_MS;
  const log = options.log;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu = monitorCpuShare();
  const cpuAtStart = cpu.read();
  const sections: BenchResults['sections'] = {};
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
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
  /** A section's own deadline: its share of the time left, never past the hard limit. */
  const until = (ms: number) => Math.min(Date.now() + ms, hardDeadline);

  // A smoke run gets its own copy, so it can run beside a full run.
  // The twilio-run servers started from here (and their function processes) inherit this: they
  // listen on 127.0.0.1 only.
  const loopbackShim = `--require ${JSON.stringify(path.join(__dirname, 'lib', 'loopback-only.cjs'))}`;
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = [nodeOptions, loopbackShim].filter(Boolean).join(' ');
  const built = await timed('build', () =>
    buildForBench({ reuse: options.reuseBuild, distDir: options.quick ? path.join('.local', 'bench', `dist-smoke-${process.pid}`) : undefined }),
  );
  // What each bundle takes from node_modules, from the sources just built.
  const packageBytes = await thirdPartyBytes();
  const musicSeconds = readWavDurationSeconds(path.join(built.absoluteDir, 'assets', 'hold-music.wav'));
  const backend = await startBenchBackend({ secret: SECRET, acceptDelayMs: BACKEND_ACCEPT_MS });
  const backendEnv = { BACKEND_URL: backend.url, WEBHOOK_SECRET: SECRET, DISPATCH_TIMEOUT_MS: String(DISPATCH_TIMEOUT_MS) };
  const stacks: BenchStack[] = [];
  // Sections before the capacity one count Function executions (cap 0) but refuse none.
  const stack = async (mode: ServeMode, withBackend: boolean, concurrencyCap = 0) => {
    const started = await startBenchStack({ mode, latencyMs: LATENCY_MS, distDir: built.distDir, env: withBackend ? backendEnv : {}, concurrencyCap });
    stacks.push(started);
    return started;
  };
  const stop = async (...some: BenchStack[]) => {
    for (const s of some) {
      stacks.splice(stacks.indexOf(s), 1);
      await s.stop();
    }
  };

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    quick: options.quick,
    machine: machineInfo(),
    commands: ['npm run bench'],
    settings: { latencyMs: LATENCY_MS, backendAcceptMs: BACKEND_ACCEPT_MS, dispatchTimeoutMs: DISPATCH_TIMEOUT_MS, musicSeconds },
    startLatency: [],
    release: [],
    scale: [],
    coldStart: [],
    violations: 0,
    sections,
    durationSeconds: 0,
    eventLoopLagP99Ms: 0,
  };
  const floor = (kind: StartLatencyRow['backend']) => ({
    twilioCalls: 1,
    latencyMs: LATENCY_MS,
    backendMs: kind === 'hangs' ? DISPATCH_TIMEOUT_MS : BACKEND_ACCEPT_MS,
  });

  try {
    // ---- warm: one twilio-run process, like the platform's warm instances -----------------
    const warm = await timed('start warm stacks', () => stack('warm', true));
    const warmSimulated = options.quick ? undefined : await stack('warm', false);

    if (warmSimulated) {
      results.roundTrips = await timed('1. round trips per job', () => measureRoundTrips(warm, warmSimulated, backend, LATENCY_MS, path.join(built.distDir, 'assets')));
    }
    await timed('3. hold release (warm)', async () => {
      results.release.push(await measurePushRelease(warm, backend, { samples: options.quick ? 1 : 25, latencyMs: LATENCY_MS, deadline: until(40_000) }));
      if (options.quick || !warmSimulated) return;
      results.release.push(await measureBaselineRelease(warm, { samples: 10, latencyMs: LATENCY_MS, deadline: until(20_000), assetsFolder: path.join(built.distDir, 'assets') }));
      const loops = await Promise.all([
        measureLoopRelease(warm, { kind: 'poll', backend, count: 12, musicSeconds, deadline: until(60_000) }),
        measureLoopRelease(warmSimulated, { kind: 'simulated', count: 12, musicSeconds, deadline: until(60_000) }),
      ]);
      results.release.push(...loops);
    });
    await timed('2. /jobs/start latency (warm)', async () => {
      for (const step of startPlan('warm', options.quick)) {
        results.startLatency.push(await measureStartLatency(warm, { ...step, floor: floor(step.backend), deadline: until(40_000) }));
      }
    });
    if (warmSimulated) {
      results.scale.push(
        await timed('5. scale (warm)', () =>
          measureScale(warmSimulated, { rates: [10, 20, 40, 80, 120, 160, 200, 240], stepSeconds: 5, deadline: until(110_000) }),
        ),
      );
    }
    results.violations += warm.stack.emulator.violations().length + (warmSimulated?.stack.emulator.violations().length ?? 0);
    await stop(warm, ...(warmSimulated ? [warmSimulated] : []));

    // ---- fork: twilio-run's default, a fresh process per request ----------------------------
    if (!options.quick) {
      const fork = await timed('start fork stack', () => stack('fork', true));
      await timed('2. /jobs/start latency (fork)', async () => {
        for (const step of startPlan('fork', false)) {
          results.startLatency.push(await measureStartLatency(fork, { ...step, floor: floor(step.backend), deadline: until(45_000) }));
        }
      });
      await timed('3. hold release (fork)', async () => {
        results.release.push(await measurePushRelease(fork, backend, { samples: 8, latencyMs: LATENCY_MS, deadline: until(30_000) }));
      });
      results.violations += fork.stack.emulator.violations().length;
      await stop(fork);

      const forkSimulated = await timed('start fork stack (simulated)', () => stack('fork', false));
      results.scale.push(
        await timed('5. scale (fork)', () => measureScale(forkSimulated, { rates: [0.5, 1, 1.5, 2, 3], stepSeconds: 6, deadline: until(90_000) })),
      );
      results.violations += forkSimulated.stack.emulator.violations().length;
      await stop(forkSimulated);
    }

    results.capacity = await timed('6. capacity (cap 30)', () => runCapacity(stack, stop, { quick: options.quick, musicSeconds, roundTrips: results.roundTrips, until }));
    results.violations += results.capacity.violations;

    results.coldStart = await timed('4. cold start', () =>
      measureColdStart({
        functionsDir: path.join(built.absoluteDir, 'functions'),
        packageBytes,
        runs: options.quick ? 1 : 5,
        deadline: until(60_000),
        limit: options.quick ? 1 : undefined,
      }),
    );
  } finally {
    for (const s of [...stacks]) await s.stop().catch(() => undefined);
    await backend.close();
    lag.disable();
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    results.cpu = share(cpuAtStart, cpu.stop());
    if (options.quick) fs.rmSync(built.absoluteDir, { recursive: true, force: true });
  }
  results.durationSeconds = Math.round((Date.now() - began) / 1000);
  results.eventLoopLagP99Ms = Math.round(lag.percentile(99) / 1e5) / 10;
  if (options.saveAs) results.commands.push(`npm run bench -- --save-as ${options.saveAs}`);

  fs.mkdirSync(options.outDir, { recursive: true });
  const write = (name: string, data: unknown) => fs.writeFileSync(path.join(options.outDir, `${name}.json`), JSON.stringify(data, null, 2) + '\n');
  write('summary', results);
  if (results.roundTrips) write('round-trips', results.roundTrips);
  write('start-latency', results.startLatency);
  write('release-latency', results.release);
  write('cold-start', results.coldStart);
  write('scale', results.scale);
  if (results.capacity) write('capacity', results.capacity);
  if (options.saveAs) write(options.saveAs, results);
  writeReport(results, { resultsDir: options.outDir, docsDir: options.docsDir ?? options.outDir });
  return results;
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
      console.log(`bench: done in ${results.durationSeconds} s; results in ${path.relative(process.cwd(), outDir) || '.'}, report in ${path.relative(process.cwd(), docsDir)}`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    });
}

export type { ReleaseRow };

/** Part 6, on stacks of its own under the cap: held callers (simulated jobs), then conversations (push jobs). */
async function runCapacity(
  stack: (mode: ServeMode, withBackend: boolean, concurrencyCap?: number) => Promise<BenchStack>,
  stop: (...some: BenchStack[]) => Promise<void>,
  context: { quick: boolean; musicSeconds: number; roundTrips: BenchResults['roundTrips']; until: (ms: number) => number },
) {
  const options = (deadline: number): CapacityOptions => ({
    cap: CONCURRENCY_CAP,
    musicSeconds: context.musicSeconds,
    holdLevels: context.quick ? [4] : [500, 1000, 2000],
    holdLevelSeconds: context.quick ? 2 : 2 * context.musicSeconds,
    conversationLevels: context.quick ? [3] : [300, 600],
    longPollLevels: context.quick ? [2] : [15, 30, 45],
    workMs: context.quick ? 1500 : 15_000,
    deadline,
  });
  const simulated = await stack('warm', false, CONCURRENCY_CAP);
  const holdLevels = await measureHeldCallers(simulated, options(context.until(context.quick ? 20_000 : 150_000)));
  let violations = simulated.stack.emulator.violations().length;
  await stop(simulated);
  const withBackend = await stack('warm', true, CONCURRENCY_CAP);
  const flowSid = await withBackend.createFlow(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'messaging.json'), 'utf8')));
  const conversationLevels = await measureConversations(withBackend, flowSid, options(context.until(context.quick ? 30_000 : 180_000)));
  violations += withBackend.stack.emulator.violations().length;
  await stop(withBackend);
  const footprints = context.roundTrips ? footprintsFrom(context.roundTrips, context.musicSeconds) : [];
  return { ...capacitySummary(CONCURRENCY_CAP, holdLevels, conversationLevels, footprints), violations };
}
