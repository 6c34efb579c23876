/**
 * `npm run test:chaos [-- options]`: the full reliability run (docs/RELIABILITY.md), in two parts:
 *
 *   1. chaos calls: simulated calls through the voice flow with faults in Twilio's API and the
 *      backend (chaos/harness.ts), then every invariant checked;
 *   2. the bad-input battery: generated requests against every endpoint, in-process for volume
 *      and over HTTP through twilio-run (chaos/battery.ts).
 *
 * Bounded: a fixed number of calls and inputs, a time limit for starting calls; seeded. Prints
 * progress, any violation, and one summary line; exits non-zero when anything was lost.
 *
 * Options: --calls N (800) --concurrency N (50) --seed N (1) --time-scale X (0.1, caller audio
 * speed) --fault-scale X (2) --time-limit-s S (420) --inputs N (30000, in-process battery)
 * --http-inputs N (2000) --only calls|battery --no-build --twilio-behaviour NAME|file.json (documented;
 * how the emulator and the flow runner play Twilio's unknowns, docs/TWILIO-DIFFERENCES.md)
 * --concurrency-cap N (30, Twilio's figure; 0 = none): Function executions the calls' service may
 * run at once, past which requests are refused with 429 (a small cap makes refusals happen). The
 * batteries are not capped: they test inputs, not capacity.
 */
import { parseArgs as parseCommandLine } from 'node:util';
import {
  BEHAVIOUR_ENV,
  describeProfile,
  loadBehaviourProfile,
  type TwilioBehaviour,
} from '../emulator/twilio-behaviour';
import { build } from '../dev/build';
import { parseConcurrencyCap, TWILIO_CONCURRENCY_CAP } from '../dev/function-concurrency';
import { runBatteryInProcess, runBatteryOverHttp, type BatteryReport } from './battery';
import { runChaos, summaryLine, type ChaosReport } from './harness';

interface Args {
  calls: number;
  concurrency: number;
  seed: number;
  timeScale: number;
  faultScale: number;
  timeLimitMs: number;
  inputs: number;
  httpInputs: number;
  only?: 'calls' | 'battery';
  build: boolean;
  behaviour: TwilioBehaviour;
  concurrencyCap: number;
}

const USAGE =
  'usage: npm run test:chaos -- [--calls N] [--concurrency N] [--seed N] [--time-scale X] [--fault-scale X] ' +
  '[--time-limit-s S] [--inputs N] [--http-inputs N] [--only calls|battery] [--no-build] [--twilio-behaviour NAME|file.json] [--concurrency-cap N]';

/** The numeric options: the field each sets, and what the value is multiplied by (its unit to ms). */
const NUMBER_OPTIONS = new Map<string, { field: NumberField; factor?: number }>([
  ['calls', { field: 'calls' }],
  ['concurrency', { field: 'concurrency' }],
  ['seed', { field: 'seed' }],
  ['time-scale', { field: 'timeScale' }],
  ['fault-scale', { field: 'faultScale' }],
  ['time-limit-s', { field: 'timeLimitMs', factor: 1000 }],
  ['inputs', { field: 'inputs' }],
  ['http-inputs', { field: 'httpInputs' }],
]);
type NumberField =
  'calls' | 'concurrency' | 'seed' | 'timeScale' | 'faultScale' | 'timeLimitMs' | 'inputs' | 'httpInputs';

/** Every option, for node:util parseArgs: each takes a value but --no-build. */
const OPTIONS: Record<string, { type: 'string' | 'boolean' }> = {
  ...Object.fromEntries([...NUMBER_OPTIONS.keys()].map((name) => [name, { type: 'string' as const }])),
  only: { type: 'string' },
  'no-build': { type: 'boolean' },
  'concurrency-cap': { type: 'string' },
  'twilio-behaviour': { type: 'string' },
};

function defaultArgs(): Args {
  return {
    calls: 800,
    concurrency: 50,
    seed: 1,
    timeScale: 0.1,
    faultScale: 2,
    timeLimitMs: 420_000,
    inputs: 30_000,
    httpInputs: 2_000,
    build: true,
    behaviour: loadBehaviourProfile(process.env[BEHAVIOUR_ENV]),
    concurrencyCap: TWILIO_CONCURRENCY_CAP,
  };
}

/**
 * node:util parseArgs, not strict: its own errors are not this command's, so anything it does not
 * know comes back as a token and is refused here, in order, as `unknown argument <as typed>`.
 * The argument after an option is its value even when it starts with `-`; an option given last
 * without one gets the empty string.
 */
function parseArgs(argv: string[]): Args {
  const args = defaultArgs();
  const { tokens } = parseCommandLine({
    args: argv,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option' || !Object.hasOwn(OPTIONS, token.name)) fail(`unknown argument ${argv[token.index]}`);
    setOption(args, token.name, token.value ?? '');
  }
  return args;
}

function setOption(args: Args, name: string, raw: string): void {
  const numeric = NUMBER_OPTIONS.get(name);
  if (numeric) {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) fail(`--${name} must be a non-negative number`);
    args[numeric.field] = value * (numeric.factor ?? 1);
    return;
  }
  switch (name) {
    case 'only':
      if (raw !== 'calls' && raw !== 'battery') fail('--only takes calls or battery');
      args.only = raw;
      return;
    case 'no-build':
      args.build = false;
      return;
    case 'concurrency-cap':
      args.concurrencyCap = orFail(() => parseConcurrencyCap(raw));
      return;
    case 'twilio-behaviour':
      args.behaviour = orFail(() => loadBehaviourProfile(raw));
      return;
  }
}

/** The value `read` gives; its error's message (and the usage) and exit 2 when it throws. */
function orFail<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    fail((error as Error).message);
  }
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

// Not console.log: the in-process battery captures the console to scan what the functions log.
const log = (line: string) => void process.stdout.write(`${line}\n`);

function printChaos(report: ChaosReport): void {
  log(`chaos: outcomes ${JSON.stringify(report.outcomes)}; flow ends ${JSON.stringify(report.flowEnds)}`);
  log(`chaos: faults by kind ${JSON.stringify(report.faults.byKind)}`);
  log(
    `chaos: Studio requests ${report.studioRequests.total} (503 TWILIO_UNAVAILABLE: ${report.studioRequests.unavailable503}, slowest ${report.studioRequests.slowestMs} ms); ` +
      `longest hold past a deadline ${report.maxHeldPastDeadlineMs} ms (bound ${report.holdBoundMs} ms)`,
  );
  log(
    `chaos: Function executions ${report.capacity.total}, at most ${report.capacity.peakInFlight} at once (cap ${report.capacity.cap ?? 'none'}); ` +
      `refused ${report.capacity.refused} ${JSON.stringify(report.capacity.refusedByPath)}; the calls (Studio and Voice) met ${report.studioRequests.refused429} refusals`,
  );
  if (report.strandedByRefusedTurn > 0) {
    log(
      `chaos: ${report.strandedByRefusedTurn} caller(s) below stayed on hold after a refused hold-loop turn: under a profile where the waitUrl ignores the ` +
        `retry overrides and <Dial timeLimit> does not bound a conference, nothing documented releases them (docs/TWILIO-DIFFERENCES.md, "The Functions concurrency limit")`,
    );
  }
  for (const violation of report.violations.slice(0, 50)) {
    log(
      `VIOLATION [${violation.rule}] call ${violation.call ?? '-'} job ${violation.jobId ?? '-'}: ${violation.detail}`,
    );
  }
}

function printBattery(where: string, report: BatteryReport): void {
  log(
    `battery (${where}): ${report.tried} inputs; replies by status ${JSON.stringify(report.byStatus)}; 5xx: ${report.serverErrors}`,
  );
  for (const problem of report.problems.slice(0, 20)) {
    log(
      `VIOLATION [battery ${where}] ${problem.endpoint} -> ${problem.status}: ${problem.problem}\n  request ${JSON.stringify(problem.request).slice(0, 400)}\n  reply ${problem.reply}`,
    );
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const began = Date.now();
  if (args.build) await build();
  let chaos: ChaosReport | undefined;
  const batteries: BatteryReport[] = [];
  if (args.only !== 'battery' && args.calls > 0) {
    log(
      `chaos: ${args.calls} calls, ${args.concurrency} at once, seed ${args.seed}, caller audio x${args.timeScale}, Twilio fault rates x${args.faultScale}`,
    );
    log(`chaos: Twilio behaviour ${describeProfile(args.behaviour)}`);
    log(
      `chaos: concurrency cap ${args.concurrencyCap === 0 ? 'none' : `${args.concurrencyCap} Function executions at once`}`,
    );
    chaos = await runChaos({ ...args, log });
    printChaos(chaos);
  }
  if (args.only !== 'calls') {
    if (args.inputs > 0) {
      log(`battery: ${args.inputs} generated inputs against the built functions in-process, seed ${args.seed}`);
      const report = await runBatteryInProcess({ inputs: args.inputs, seed: args.seed, log });
      printBattery('in-process', report);
      batteries.push(report);
    }
    if (args.httpInputs > 0) {
      log(`battery: ${args.httpInputs} generated inputs over HTTP through twilio-run, seed ${args.seed + 1}`);
      const report = await runBatteryOverHttp({ inputs: args.httpInputs, seed: args.seed + 1, log });
      printBattery('http', report);
      batteries.push(report);
    }
  }
  const inputs = batteries.reduce((sum, report) => sum + report.tried, 0);
  const batteryViolations = batteries.reduce((sum, report) => sum + report.problems.length, 0);
  const serverErrors = batteries.reduce((sum, report) => sum + report.serverErrors, 0);
  const violations = (chaos?.violations.length ?? 0) + batteryViolations;
  if (chaos) log(summaryLine(chaos, inputs));
  log(
    `summary: calls=${chaos?.calls ?? 0} faults=${chaos?.faults.total ?? 0} inputs=${inputs} server-errors=${serverErrors} ` +
      `violations=${violations} seed=${args.seed} profile=${args.behaviour.name} duration=${Math.round((Date.now() - began) / 1000)}s`,
  );
  return violations === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chaos run failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
