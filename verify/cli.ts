/**
 * `npm run verify:live [-- options]`: settles, on your own Twilio account, the Twilio behaviours
 * the service relies on (docs/TWILIO-DIFFERENCES.md), and records the answers.
 *
 *   --from +1...            a number on the account that can place calls (voice probes)
 *   --to +1...              a number that answers (voice probes)
 *   --configure-number      let the run point --to (a number on this account) at the probe endpoint,
 *                           restored afterwards; without it nothing on a number is changed
 *   --yes                   do not ask before starting (required without a terminal)
 *   --out FILE              where the record goes (default verify/records/<YYYY-MM-DD>.json;
 *                           a rehearsal writes none unless told)
 *   --json                  print the record on stdout (progress goes to stderr)
 *   --only a,b              run only these probes (names from the plan)
 *   --against-emulator      rehearse offline: every probe against the local stack (no account, no cost)
 *   --twilio-behaviour P    the profile the rehearsal's emulator plays (documented, hopeful, file.json)
 *   --base-url U --emulator-url U   rehearse against a stack already running (its functions must
 *                           serve /verify/probe with VERIFY_KEY set to this process's VERIFY_KEY)
 *   --no-build              use dist/ as it is
 *   --fail-probe NAME       make that probe fail once its resources exist (to test the cleanup)
 *
 * Credentials: ACCOUNT_SID and AUTH_TOKEN from .env, else from the shell.
 * Exit status: 0 every probe ran and everything was removed; 1 a probe failed or something could
 * not be removed (the run says what); 2 bad usage or no consent; 130/143 interrupted (after cleanup).
 */
import crypto from 'node:crypto';
import readline from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BehaviourProfileError, loadBehaviourProfile, type TwilioBehaviour } from '../emulator/twilio-behaviour';
import { build } from '../dev/build';
import { hasRealCredentials } from '../dev/credentials';
import { readEnvFile } from '../dev/env-file';
import { PROJECT_ROOT, USER_ENV_FILE } from '../dev/paths';
import { CleanupRegistry, type CleanupResult } from './cleanup';
import { deleteRunDocuments } from './events';
import { estimateCost, planText, REFUSAL_NO_TTY, type PlanInput } from './plan';
import { PROBES, runProbes, type Probe } from './probes';
import { buildRecord, defaultRecordFile, recordText, writeRecord, type ProbeResult } from './record';
import type { Redactions } from './redact';
import type { Target } from './target';
import { emulatorTarget } from './target-emulator';
import { liveTarget } from './target-live';

/** How long the room callbacks of a call ended at cleanup may take to reach the probe endpoint. */
const LATE_CALLBACK_MS = 2_000;

const E164 = /^\+[1-9]\d{6,14}$/;

export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  ask?: (question: string) => Promise<string>;
  exit: (code: number) => void;
  /** The live target (tests replace it: nothing here may reach Twilio). */
  liveTarget?: typeof liveTarget;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(
    `${message}\nUsage: npm run verify:live -- [--from +1... --to +1...] [--configure-number] [--yes] [--out FILE] [--json] [--against-emulator [--twilio-behaviour NAME]]\n`,
  );
  return 2;
}

const OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  from: { type: 'string' },
  to: { type: 'string' },
  'configure-number': { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  only: { type: 'string' },
  'against-emulator': { type: 'boolean' },
  'twilio-behaviour': { type: 'string' },
  'base-url': { type: 'string' },
  'emulator-url': { type: 'string' },
  'no-build': { type: 'boolean' },
  'fail-probe': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parseFlags = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS }).values;
type Flags = ReturnType<typeof parseFlags>;

interface Credentials {
  accountSid: string;
  authToken: string;
}

/** What the options settled: everything a run needs before it asks for consent. */
interface RunSettings {
  flags: Flags;
  log: (line: string) => void;
  offline: boolean;
  probes: readonly Probe[];
  behaviour?: TwilioBehaviour;
  runId: string;
  existing?: { baseUrl: string; emulatorUrl: string };
  probeKey: string;
  serviceName: string;
  credentials?: Credentials;
  plan: PlanInput;
}

/** The probes `--only` names (all of them without it), or what is wrong with it. */
function selectProbes(only: string | undefined): readonly Probe[] | string {
  if (!only) return PROBES;
  const wanted = only.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !PROBES.some((p) => p.name === name));
  if (unknown.length > 0)
    return `--only: no probe ${unknown.join(', ')} (probes: ${PROBES.map((p) => p.name).join(', ')})`;
  return PROBES.filter((p) => wanted.includes(p.name));
}

/** What is wrong with the numbers and the --base-url pair, if anything. */
function numberAndUrlProblem(flags: Flags, offline: boolean): string | undefined {
  for (const [name, value] of [
    ['--from', flags.from],
    ['--to', flags.to],
  ] as const) {
    if (value !== undefined && !E164.test(value)) return `${name} must be an E.164 number such as +15551234567`;
  }
  if (flags['configure-number'] && !flags.to) return '--configure-number needs --to';
  if (Boolean(flags['base-url']) !== Boolean(flags['emulator-url'])) return '--base-url and --emulator-url go together';
  if (flags['base-url'] && !offline) return '--base-url/--emulator-url are for --against-emulator';
  return undefined;
}

/** The profile a rehearsal's emulator plays (none for a real account), or what is wrong with the choice. */
function rehearsalBehaviour(
  flags: Flags,
  offline: boolean,
  env: CliIo['env'],
): { behaviour?: TwilioBehaviour } | string {
  let behaviour;
  try {
    behaviour = offline ? loadBehaviourProfile(flags['twilio-behaviour'] ?? env.TWILIO_BEHAVIOUR) : undefined;
  } catch (error) {
    if (error instanceof BehaviourProfileError) return error.message;
    throw error;
  }
  if (!offline && flags['twilio-behaviour'])
    return '--twilio-behaviour is for --against-emulator (a real account plays itself)';
  return { behaviour };
}

/** ACCOUNT_SID and AUTH_TOKEN from .env, else from the shell; undefined when neither is a real account. */
function liveCredentials(env: CliIo['env']): Credentials | undefined {
  const fileEnv = readEnvFile(USER_ENV_FILE);
  const fromFile = { ACCOUNT_SID: fileEnv.ACCOUNT_SID ?? '', AUTH_TOKEN: fileEnv.AUTH_TOKEN ?? '' };
  const fromShell = { ACCOUNT_SID: env.ACCOUNT_SID ?? '', AUTH_TOKEN: env.AUTH_TOKEN ?? '' };
  const chosen = hasRealCredentials(fromFile) ? fromFile : hasRealCredentials(fromShell) ? fromShell : undefined;
  return chosen ? { accountSid: chosen.ACCOUNT_SID, authToken: chosen.AUTH_TOKEN } : undefined;
}

/** Stage 1, the options: the run's settings, or the exit status when the run stops here. */
function readSettings(io: CliIo): RunSettings | number {
  let flags: Flags;
  try {
    flags = parseFlags(io.argv);
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  if (flags.help) {
    io.stdout('See the comment at the top of verify/cli.ts, or README "Verify on your account".\n');
    return 0;
  }
  const log = (line: string) => (flags.json ? io.stderr : io.stdout)(`${line}\n`);
  const offline = Boolean(flags['against-emulator']);
  const probes = selectProbes(flags.only);
  if (typeof probes === 'string') return usageError(io, probes);
  const problem = numberAndUrlProblem(flags, offline);
  if (problem) return usageError(io, problem);
  const played = rehearsalBehaviour(flags, offline, io.env);
  if (typeof played === 'string') return usageError(io, played);

  const runId = crypto.randomBytes(3).toString('hex');
  const existing = flags['base-url'] ? { baseUrl: flags['base-url'], emulatorUrl: flags['emulator-url']! } : undefined;
  const probeKey = existing ? (io.env.VERIFY_KEY ?? '') : crypto.randomBytes(24).toString('base64url');
  if (existing && !probeKey)
    return usageError(io, '--base-url needs VERIFY_KEY in the environment (the key the running functions were given)');
  const serviceName = `studio-async-verify-${runId}`;

  const credentials = offline ? undefined : liveCredentials(io.env);
  if (!offline && !credentials) {
    io.stderr(
      'verify:live needs a real account: ACCOUNT_SID (AC...) and AUTH_TOKEN in .env or the shell. To rehearse offline: npm run verify:live -- --against-emulator\n',
    );
    return 2;
  }
  const configureNumber = Boolean(flags['configure-number']);
  const plan = { probes, serviceName, runId, from: flags.from, to: flags.to, configureNumber };
  return { flags, log, offline, probes, ...played, runId, existing, probeKey, serviceName, credentials, plan };
}

/** Stage 2, the plan: a rehearsal lists its probes; a real run shows the plan and asks. The exit status when refused. */
async function planAndConsent(io: CliIo, settings: RunSettings): Promise<number | undefined> {
  const { flags, log, probes, existing } = settings;
  if (settings.offline) {
    log(
      `verify:live --against-emulator: ${probes.length} probes against ${existing ? 'the running local stack' : 'a local stack it starts'}, emulator profile ${existing ? '(its own)' : settings.behaviour!.name}; nothing leaves this machine, nothing costs.`,
    );
    for (const p of probes) log(`  ${p.name.padEnd(17)} ${p.ids.join(', ').padEnd(18)} ${p.what}`);
    return undefined;
  }
  log(planText(settings.plan));
  if (flags.yes) return undefined;
  if (!io.isTTY || !io.ask) {
    io.stderr(`${REFUSAL_NO_TTY}\n`);
    return 2;
  }
  const reply = (await io.ask('Start? [y/N] ')).trim().toLowerCase();
  if (reply !== 'y' && reply !== 'yes') {
    log('Nothing was done.');
    return 2;
  }
  return undefined;
}

/** Stage 3, the target: the local stack (or the one running), or the real account with the service deployed. */
async function prepareTarget(
  io: CliIo,
  settings: RunSettings,
  cleanup: CleanupRegistry,
): Promise<{ target: Target; domain?: string }> {
  const { flags, runId, probeKey, log } = settings;
  if (settings.offline) {
    const { behaviour, existing } = settings;
    return { target: await emulatorTarget({ runId, probeKey, cleanup, log, behaviour, existing }) };
  }
  const live = await (io.liveTarget ?? liveTarget)({
    runId,
    probeKey,
    serviceName: settings.serviceName,
    accountSid: settings.credentials!.accountSid,
    authToken: settings.credentials!.authToken,
    from: flags.from,
    to: flags.to,
    configureNumber: settings.plan.configureNumber,
    cleanup,
    log,
  });
  return { target: live, domain: live.domain };
}

/** Registers the removal of the Sync documents the probe endpoint writes for this run. */
function sweepRunDocuments(cleanup: CleanupRegistry, target: Target): void {
  const { client, syncPrefix: prefix } = target;
  cleanup.add(`Sync documents ${prefix}*`, async () => {
    await deleteRunDocuments(client, prefix);
    // Ending a call sends its room's callbacks to the probe endpoint a moment later: sweep again.
    await sleep(LATE_CALLBACK_MS);
    await deleteRunDocuments(client, prefix);
  });
}

interface RunOutcome {
  startedAt: number;
  target?: Target;
  domain?: string;
  results: ProbeResult[];
  /** Why the run stopped before its probes were done, if it did. */
  fatal?: string;
  cleanup: CleanupResult[];
  interrupted: boolean;
}

/** Stages 4 and 5, the probes and the cleanup: everything the run created is removed, however it ends. */
async function runAndCleanUp(io: CliIo, settings: RunSettings): Promise<RunOutcome> {
  const { flags, log, probes } = settings;
  const startedAt = Date.now();
  const cleanup = new CleanupRegistry(log);
  const stop = new AbortController();
  const run: Pick<RunOutcome, 'target' | 'domain' | 'results' | 'fatal'> = { results: [] };
  const uninstall = cleanup.onSignals(() => {
    stop.abort();
    run.target?.interrupt();
  }, io.exit);
  try {
    if (!flags['no-build'] && !settings.existing) await build();
    const { target, domain } = await prepareTarget(io, settings, cleanup);
    run.target = target;
    run.domain = domain;
    sweepRunDocuments(cleanup, target);
    run.results = await runProbes({
      target,
      probes,
      cleanup,
      signal: stop.signal,
      failProbe: flags['fail-probe'],
      log,
    });
  } catch (error) {
    run.fatal = error instanceof Error ? error.message : String(error);
    log(`verify:live stopped: ${run.fatal}`);
  } finally {
    await cleanup.runAll();
  }
  const cleanupResults = await cleanup.runAll();
  uninstall();
  return { ...run, startedAt, cleanup: cleanupResults, interrupted: stop.signal.aborted };
}

/** Stage 6, the record: written (redacted) when a probe ran, printed with --json; what was not removed is said. */
function writeOutcome(io: CliIo, settings: RunSettings, outcome: RunOutcome): number {
  const { flags, log, offline, credentials, probeKey } = settings;
  const record = buildRecord({
    target: offline ? 'emulator' : 'twilio',
    emulatorProfile: outcome.target?.emulatorBehaviour,
    startedAt: outcome.startedAt,
    finishedAt: Date.now(),
    probes: outcome.results,
    cleanup: outcome.cleanup,
    costEstimateUsd: offline ? undefined : estimateCost(settings.plan).usd,
  });
  const { domain } = outcome;
  const redactions: Redactions = {
    secrets: [probeKey, ...(credentials ? [credentials.authToken] : [])],
    names: [
      { value: settings.serviceName, label: '<service>' },
      ...(domain ? [{ value: domain, label: '<domain>' }] : []),
    ],
  };
  // A run that never got to its probes (a failed deploy) records nothing.
  const ran = outcome.results.some((result) => !result.skipped);
  const out = ran
    ? (flags.out ?? (offline ? undefined : defaultRecordFile(PROJECT_ROOT, outcome.startedAt)))
    : undefined;
  const text = out ? writeRecord(out, record, redactions) : recordText(record, redactions);
  if (out) log(`record written to ${out}`);
  else if (!ran) log('no probe ran: no record written');
  if (flags.json) io.stdout(text);

  const failedCleanup = outcome.cleanup.filter((r) => !r.ok);
  if (failedCleanup.length > 0)
    log(`NOT removed (remove by hand): ${failedCleanup.map((r) => `${r.label}: ${r.error}`).join('; ')}`);
  else log('everything this run created was removed');
  const failedProbes = outcome.results.filter((r) => r.error);
  return outcome.fatal || failedProbes.length > 0 || failedCleanup.length > 0 ? 1 : 0;
}

export async function main(io: CliIo): Promise<number> {
  const settings = readSettings(io);
  if (typeof settings === 'number') return settings;
  const refused = await planAndConsent(io, settings);
  if (refused !== undefined) return refused;
  const outcome = await runAndCleanUp(io, settings);
  if (outcome.interrupted) return 130;
  return writeOutcome(io, settings, outcome);
}

if (require.main === module) {
  const rl = process.stdin.isTTY
    ? readline.createInterface({ input: process.stdin, output: process.stdout })
    : undefined;
  main({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdin.isTTY),
    ask: rl ? (question) => rl.question(question) : undefined,
    exit: (code) => process.exit(code),
  }).then(
    (code) => {
      rl?.close();
      process.exitCode = code;
      // Timers of a stopped stack must not keep the command alive.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (error: unknown) => {
      process.stderr.write(
        `verify:live failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
