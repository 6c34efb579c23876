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
import { parseArgs } from 'node:util';
import { BehaviourProfileError, loadBehaviourProfile } from '../emulator/twilio-behaviour';
import { build } from '../dev/build';
import { hasRealCredentials } from '../dev/credentials';
import { readEnvFile } from '../dev/env-file';
import { PROJECT_ROOT, USER_ENV_FILE } from '../dev/paths';
import { CleanupRegistry } from './cleanup';
import { deleteRunDocuments } from './events';
import { estimateCost, planText, REFUSAL_NO_TTY } from './plan';
import { PROBES, runProbes } from './probes';
import { buildRecord, defaultRecordFile, recordText, writeRecord } from './record';
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

export async function main(io: CliIo): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: io.argv,
      options: {
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
      },
    }).values;
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  if (flags.help) {
    io.stdout('See the comment at the top of verify/cli.ts, or README "Verify on your account".\n');
    return 0;
  }
  const log = (line: string) => (flags.json ? io.stderr : io.stdout)(`${line}\n`);
  const offline = Boolean(flags['against-emulator']);

  let probes = PROBES;
  if (flags.only) {
    const wanted = flags.only.split(',').map((name) => name.trim());
    const unknown = wanted.filter((name) => !PROBES.some((p) => p.name === name));
    if (unknown.length > 0)
      return usageError(io, `--only: no probe ${unknown.join(', ')} (probes: ${PROBES.map((p) => p.name).join(', ')})`);
    probes = PROBES.filter((p) => wanted.includes(p.name));
  }
  for (const [name, value] of [
    ['--from', flags.from],
    ['--to', flags.to],
  ] as const) {
    if (value !== undefined && !E164.test(value))
      return usageError(io, `${name} must be an E.164 number such as +15551234567`);
  }
  if (flags['configure-number'] && !flags.to) return usageError(io, '--configure-number needs --to');
  if (Boolean(flags['base-url']) !== Boolean(flags['emulator-url']))
    return usageError(io, '--base-url and --emulator-url go together');
  if (flags['base-url'] && !offline) return usageError(io, '--base-url/--emulator-url are for --against-emulator');

  let behaviour;
  try {
    behaviour = offline ? loadBehaviourProfile(flags['twilio-behaviour'] ?? io.env.TWILIO_BEHAVIOUR) : undefined;
  } catch (error) {
    if (error instanceof BehaviourProfileError) return usageError(io, error.message);
    throw error;
  }
  if (!offline && flags['twilio-behaviour'])
    return usageError(io, '--twilio-behaviour is for --against-emulator (a real account plays itself)');

  const runId = crypto.randomBytes(3).toString('hex');
  const existing = flags['base-url'] ? { baseUrl: flags['base-url'], emulatorUrl: flags['emulator-url']! } : undefined;
  const probeKey = existing ? (io.env.VERIFY_KEY ?? '') : crypto.randomBytes(24).toString('base64url');
  if (existing && !probeKey)
    return usageError(io, '--base-url needs VERIFY_KEY in the environment (the key the running functions were given)');
  const serviceName = `studio-async-verify-${runId}`;

  let credentials: { accountSid: string; authToken: string } | undefined;
  if (!offline) {
    const fileEnv = readEnvFile(USER_ENV_FILE);
    const fromFile = { ACCOUNT_SID: fileEnv.ACCOUNT_SID ?? '', AUTH_TOKEN: fileEnv.AUTH_TOKEN ?? '' };
    const fromShell = { ACCOUNT_SID: io.env.ACCOUNT_SID ?? '', AUTH_TOKEN: io.env.AUTH_TOKEN ?? '' };
    const chosen = hasRealCredentials(fromFile) ? fromFile : hasRealCredentials(fromShell) ? fromShell : undefined;
    if (!chosen) {
      io.stderr(
        'verify:live needs a real account: ACCOUNT_SID (AC...) and AUTH_TOKEN in .env or the shell. To rehearse offline: npm run verify:live -- --against-emulator\n',
      );
      return 2;
    }
    credentials = { accountSid: chosen.ACCOUNT_SID, authToken: chosen.AUTH_TOKEN };
  }

  const planInput = {
    probes,
    serviceName,
    runId,
    from: flags.from,
    to: flags.to,
    configureNumber: Boolean(flags['configure-number']),
  };
  if (offline) {
    log(
      `verify:live --against-emulator: ${probes.length} probes against ${existing ? 'the running local stack' : 'a local stack it starts'}, emulator profile ${existing ? '(its own)' : behaviour!.name}; nothing leaves this machine, nothing costs.`,
    );
    for (const p of probes) log(`  ${p.name.padEnd(17)} ${p.ids.join(', ').padEnd(18)} ${p.what}`);
  } else {
    log(planText(planInput));
    if (!flags.yes) {
      if (!io.isTTY || !io.ask) {
        io.stderr(`${REFUSAL_NO_TTY}\n`);
        return 2;
      }
      const reply = (await io.ask('Start? [y/N] ')).trim().toLowerCase();
      if (reply !== 'y' && reply !== 'yes') {
        log('Nothing was done.');
        return 2;
      }
    }
  }

  const startedAt = Date.now();
  const cleanup = new CleanupRegistry(log);
  const stop = new AbortController();
  let target: Target | undefined;
  const uninstall = cleanup.onSignals(() => {
    stop.abort();
    target?.interrupt();
  }, io.exit);
  let results: Awaited<ReturnType<typeof runProbes>> = [];
  let domain: string | undefined;
  let fatal: string | undefined;
  try {
    if (!flags['no-build'] && !existing) await build();
    if (offline) {
      target = await emulatorTarget({ runId, probeKey, cleanup, log, behaviour, existing });
    } else {
      const live = await (io.liveTarget ?? liveTarget)({
        runId,
        probeKey,
        serviceName,
        accountSid: credentials!.accountSid,
        authToken: credentials!.authToken,
        from: flags.from,
        to: flags.to,
        configureNumber: Boolean(flags['configure-number']),
        cleanup,
        log,
      });
      target = live;
      domain = live.domain;
    }
    const client = target.client;
    const prefix = target.syncPrefix;
    cleanup.add(`Sync documents ${prefix}*`, async () => {
      await deleteRunDocuments(client, prefix);
      // Ending a call sends its room's callbacks to the probe endpoint a moment later: sweep again.
      await new Promise((resolve) => setTimeout(resolve, LATE_CALLBACK_MS));
      await deleteRunDocuments(client, prefix);
    });
    results = await runProbes({ target, probes, cleanup, signal: stop.signal, failProbe: flags['fail-probe'], log });
  } catch (error) {
    fatal = error instanceof Error ? error.message : String(error);
    log(`verify:live stopped: ${fatal}`);
  } finally {
    await cleanup.runAll();
  }
  const cleanupResults = await cleanup.runAll();
  uninstall();
  if (stop.signal.aborted) return 130;

  const record = buildRecord({
    target: offline ? 'emulator' : 'twilio',
    emulatorProfile: target?.emulatorBehaviour,
    startedAt,
    finishedAt: Date.now(),
    probes: results,
    cleanup: cleanupResults,
    costEstimateUsd: offline ? undefined : estimateCost(planInput).usd,
  });
  const redactions: Redactions = {
    secrets: [probeKey, ...(credentials ? [credentials.authToken] : [])],
    names: [{ value: serviceName, label: '<service>' }, ...(domain ? [{ value: domain, label: '<domain>' }] : [])],
  };
  // A run that never got to its probes (a failed deploy) records nothing.
  const ran = results.some((result) => !result.skipped);
  const out = ran ? (flags.out ?? (offline ? undefined : defaultRecordFile(PROJECT_ROOT, startedAt))) : undefined;
  const text = out ? writeRecord(out, record, redactions) : recordText(record, redactions);
  if (out) log(`record written to ${out}`);
  else if (!ran) log('no probe ran: no record written');
  if (flags.json) io.stdout(text);

  const failedCleanup = cleanupResults.filter((r) => !r.ok);
  if (failedCleanup.length > 0)
    log(`NOT removed (remove by hand): ${failedCleanup.map((r) => `${r.label}: ${r.error}`).join('; ')}`);
  else log('everything this run created was removed');
  const failedProbes = results.filter((r) => r.error);
  return fatal || failedProbes.length > 0 || failedCleanup.length > 0 ? 1 : 0;
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
