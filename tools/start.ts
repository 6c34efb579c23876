/**
 * `npm start`: builds, then serves the functions and assets locally with twilio-run.
 *
 * - .env holds a real ACCOUNT_SID and AUTH_TOKEN: twilio-run runs with that .env and the
 *   functions talk to the real Twilio account.
 * - Otherwise (the default): the local Twilio emulator starts too, and twilio-run runs with a
 *   generated .local/.env (the user's .env plus fake credentials and the emulator's URL).
 *
 * Options: --port N (or PORT, default 3000), --emulator-port N (or EMULATOR_PORT, default 3010),
 * --twilio-behaviour documented|hopeful|profile.json (or TWILIO_BEHAVIOUR, default documented):
 * how the emulator plays the Twilio behaviours no source settles (emulator/twilio-behaviour.ts),
 * --concurrency-cap N (default 30, Twilio's figure for a Functions service; 0 = no cap): a gate in
 * front of twilio-run refuses Function requests past N in flight (dev/function-gate.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TwilioBehaviour } from '../emulator/twilio-behaviour';
import { build } from '../dev/build';
import { hasRealCredentials } from '../dev/credentials';
import { loadBehaviourModule } from '../dev/emulator-loader';
import { readEnvFile, type EnvValues } from '../dev/env-file';
import { EMULATOR_OWNED_KEYS } from '../dev/env-keys';
import { parseConcurrencyCap, TWILIO_CONCURRENCY_CAP } from '../dev/function-concurrency';
import { startLocalStack, waitUntilServing } from '../dev/local-stack';
import { LOCAL_ENV_FILE, PROJECT_ROOT, USER_ENV_FILE } from '../dev/paths';
import { assertPortFree } from '../dev/ports';
import { spawnTwilioRun } from '../dev/twilio-run-process';

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a port number, got "${value}"`);
  return port;
}

function curlExample(port: number): string {
  return `curl -X POST localhost:${port}/jobs/start -d task=demo`;
}

/** Ctrl+C / SIGTERM stop everything we started, then this process exits. */
function onStopSignal(stop: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

async function serveAgainstTwilio(port: number, env: EnvValues): Promise<number> {
  await assertPortFree(port, 'twilio-run');
  const twilioRun = spawnTwilioRun(['start', '--port', String(port)], { output: 'inherit' });
  onStopSignal(twilioRun.stop);
  await waitUntilServing(`http://127.0.0.1:${port}`, twilioRun.exited, 30_000);
  console.log(
    [
      '',
      `studio-async: serving against your Twilio account ${env.ACCOUNT_SID} (from .env)`,
      `  functions + assets  http://localhost:${port}`,
      `  try                 ${curlExample(port)}`,
      '',
    ].join('\n'),
  );
  return twilioRun.exited;
}

async function serveOffline(
  port: number,
  emulatorPort: number,
  userEnv: EnvValues,
  behaviour: TwilioBehaviour,
  concurrencyCap: number,
): Promise<number> {
  if (userEnv.ACCOUNT_SID) {
    console.log(
      'note: ACCOUNT_SID in .env is not a real account SID (AC + 32 hex) with an AUTH_TOKEN; running offline',
    );
  }
  const env = Object.fromEntries(Object.entries(userEnv).filter(([key]) => !EMULATOR_OWNED_KEYS.includes(key)));
  await assertPortFree(emulatorPort, 'emulator');
  const stack = await startLocalStack({
    port,
    emulatorPort,
    env,
    envFile: LOCAL_ENV_FILE,
    output: 'inherit',
    emulatorLog: (line) => console.error(`[emulator] ${line}`),
    behaviour,
    concurrencyCap,
  });
  onStopSignal(stack.stop);
  console.log(
    [
      '',
      'studio-async: running offline (no Twilio account in .env; Twilio REST calls go to the local emulator)',
      `  functions + assets  http://localhost:${port}`,
      `  Twilio emulator     ${stack.emulator.url}`,
      `  Twilio behaviour    ${loadBehaviourModule().describeProfile(behaviour)}`,
      `  concurrency cap     ${concurrencyCap === 0 ? 'none (executions are counted)' : `${concurrencyCap} at once; more Function requests are refused with 429`} (--concurrency-cap)`,
      `  twilio-run          ${stack.twilioRunUrl} (behind the gate on port ${port}: use ${port})`,
      `  env file            ${path.relative(PROJECT_ROOT, stack.envFile)}`,
      `  try                 ${curlExample(port)}`,
      '  Ctrl+C stops both.',
      '',
    ].join('\n'),
  );
  const code = await stack.exited;
  await stack.stop(); // twilio-run ended on its own: take the emulator down with it
  return code;
}

/** The profile named by --twilio-behaviour or TWILIO_BEHAVIOUR; a bad one is one line and exit 2. */
function behaviourProfile(flag: string | undefined): TwilioBehaviour {
  const { BEHAVIOUR_ENV, BehaviourProfileError, loadBehaviourProfile } = loadBehaviourModule();
  try {
    return flag !== undefined
      ? loadBehaviourProfile(flag, '--twilio-behaviour')
      : loadBehaviourProfile(process.env[BEHAVIOUR_ENV], BEHAVIOUR_ENV);
  } catch (error) {
    if (!(error instanceof BehaviourProfileError)) throw error;
    console.error(`npm start: ${error.message}`);
    process.exit(2);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'emulator-port': { type: 'string' },
      'twilio-behaviour': { type: 'string' },
      'concurrency-cap': { type: 'string' },
    },
  });
  const port = parsePort(values.port ?? process.env.PORT, 3000, 'port');
  const emulatorPort = parsePort(values['emulator-port'] ?? process.env.EMULATOR_PORT, 3010, 'emulator port');
  const userEnv = readEnvFile(USER_ENV_FILE);
  const online = hasRealCredentials(userEnv);
  // Checked before the build, so a bad profile fails at once.
  const behaviour = online ? undefined : behaviourProfile(values['twilio-behaviour']);
  if (online && values['twilio-behaviour'] !== undefined) {
    console.log('note: --twilio-behaviour only applies to the local emulator; the real account behaves as it does');
  }
  let concurrencyCap = TWILIO_CONCURRENCY_CAP;
  if (values['concurrency-cap'] !== undefined) {
    try {
      concurrencyCap = parseConcurrencyCap(values['concurrency-cap']);
    } catch (error) {
      console.error(`npm start: ${(error as Error).message}`);
      process.exit(2);
    }
    if (online)
      console.log(
        'note: --concurrency-cap only applies to the offline stack; against your account, twilio-run serves without a gate',
      );
  }

  const built = await build();
  console.log(`built ${built.functions.length} functions and ${built.assets.length} assets into dist/`);

  return behaviour === undefined
    ? serveAgainstTwilio(port, userEnv)
    : serveOffline(port, emulatorPort, userEnv, behaviour, concurrencyCap);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
