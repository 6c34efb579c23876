/**
 * The offline stack: the Twilio REST emulator plus `twilio-run start` serving the built dist/,
 * with a generated env file that points the functions at the emulator.
 *
 * Used by `npm start` (tools/start.ts), tests and benchmarks. Assumes `npm run build` has run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import type { TwilioBehaviour } from '../emulator/twilio-behaviour';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from './credentials';
import { loadStartEmulator, type EmulatorHandle } from './emulator-loader';
import { writeEnvFile, type EnvValues } from './env-file';
import { functionPathsIn } from './function-concurrency';
import { startFunctionGate, type FunctionGate } from './function-gate';
import { DIST_DIR, PROJECT_ROOT } from './paths';
import { assertPortFree, getFreePort } from './ports';
import { spawnTwilioRun, type TwilioRunProcess } from './twilio-run-process';

export type { EmulatorHandle } from './emulator-loader';

export interface LocalStackOptions {
  /** twilio-run's port; a free one when omitted. */
  port?: number;
  /** The emulator's port; a free one when omitted. */
  emulatorPort?: number;
  /** Where the emulator's notes go (failed status callbacks, spec violations); silent by default. */
  emulatorLog?: (line: string) => void;
  /**
   * How the emulator plays the Twilio unknowns (emulator/twilio-behaviour.ts); default
   * `documented`. Switchable later with `stack.emulator.setBehaviour` or `POST /_emulator/behaviour`.
   */
  behaviour?: TwilioBehaviour;
  /** Extra environment for the functions. Wins over the defaults written for the emulator. */
  env?: EnvValues;
  /** Where to write the env file; by default a temp dir that stop() removes. */
  envFile?: string;
  /** 'pipe' (default) keeps twilio-run's output for error messages; 'inherit' shows it. */
  output?: 'inherit' | 'pipe';
  /** How long twilio-run may take to answer HTTP. */
  readyTimeoutMs?: number;
  /**
   * twilio-run forks a fresh node process per request by default (true). false runs every
   * request in twilio-run's own process (`--no-fork-process`), closer to the platform's warm
   * instances.
   */
  forkProcess?: boolean;
  /**
   * twilio-run's `--live` (default true) clears the require cache before every request, so an
   * in-process function is loaded again each time; false keeps it loaded (`--no-live`).
   */
  live?: boolean;
  /**
   * Serve a copy of the build instead of dist/ (a folder with functions/ and assets/, inside the
   * project: twilio-run resolves it from there), so a build running meanwhile cannot swap the
   * files out from under a long run.
   */
  distDir?: string;
  /**
   * Plays the Functions concurrency limit (dev/function-gate.ts): a number puts a gate on
   * 127.0.0.1 in front of twilio-run that refuses Function requests past that many in flight
   * (0: counts them, refuses none), and every service URL the functions hand out (waitUrl,
   * callbackUrl, statusUrl, ...) goes through it. Omitted: no gate (twilio-run serves directly).
   * The command-line tools default to Twilio's 30.
   */
  concurrencyCap?: number;
}

export interface LocalStack {
  /** Where the functions and assets answer, e.g. http://127.0.0.1:41234 (the gate's, when there is one). */
  baseUrl: string;
  port: number;
  /** The concurrency gate (with `concurrencyCap`): `gate.stats()` has every Function request's figures. */
  gate?: FunctionGate;
  /** twilio-run itself (behind the gate when there is one; baseUrl otherwise). */
  twilioRunUrl: string;
  emulator: EmulatorHandle;
  /** The env file twilio-run was started with. */
  envFile: string;
  /** Resolves with twilio-run's exit code if it exits (stop() or on its own). */
  exited: Promise<number>;
  /** Recent twilio-run output (with output 'pipe'). */
  recentOutput(): string;
  /** Stops twilio-run (and its function processes) and the emulator. Safe to call twice. */
  stop(): Promise<void>;
}

/** The environment the functions get when running against the emulator. */
export function emulatorEnv(emulatorUrl: string): EnvValues {
  return {
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: LOCAL_AUTH_TOKEN,
    TWILIO_API_BASE_URL: emulatorUrl,
    SYNC_SERVICE_SID: 'default',
  };
}

/** With a concurrency cap, a gate stands in front of twilio-run. */
const isGated = (options: LocalStackOptions) => options.concurrencyCap !== undefined;

/** twilio-run's flags for the options' process mode and the build it serves. */
function twilioRunModeFlags(options: LocalStackOptions): string[] {
  return [
    ...(options.forkProcess === false ? ['--no-fork-process'] : []),
    ...(options.live === false ? ['--no-live'] : []),
    ...(options.distDir
      ? [
          '--functions-folder',
          path.join(options.distDir, 'functions'),
          '--assets-folder',
          path.join(options.distDir, 'assets'),
        ]
      : []),
  ];
}

/** The ports: `publicPort` where the stack answers, `port` twilio-run's (the same without a gate). */
async function stackPorts(options: LocalStackOptions): Promise<{ publicPort: number; port: number }> {
  const gated = isGated(options);
  // With a gate, the gate takes the port asked for and twilio-run any free one behind it.
  const publicPort = options.port ?? (await getFreePort());
  if (options.port !== undefined) await assertPortFree(publicPort, gated ? 'the concurrency gate' : 'twilio-run');
  return { publicPort, port: gated ? await getFreePort() : publicPort };
}

/** The env file twilio-run starts with (by default in a temp dir), and how to remove what was made for it. */
function stackEnvFile(options: LocalStackOptions): { envFile: string; cleanUp: () => void } {
  const tempDir = options.envFile ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-stack-'));
  return {
    envFile: options.envFile ?? path.join(tempDir as string, '.env'),
    cleanUp: () => {
      if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** Writes the env file for the emulator at `emulatorUrl`, then spawns `twilio-run start` on `port`. */
function spawnStackTwilioRun(
  options: LocalStackOptions,
  envFile: string,
  emulatorUrl: string,
  ports: { publicPort: number; port: number },
): TwilioRunProcess {
  fs.mkdirSync(path.dirname(envFile), { recursive: true });
  // twilio-run replaces process.env with this file: it must hold everything the functions read.
  // Behind a gate, DOMAIN_NAME (which the runtime's own value gives way to) names the gate, so
  // the URLs the functions hand to Twilio and backends come back through it.
  const domain: EnvValues = isGated(options) ? { DOMAIN_NAME: `127.0.0.1:${ports.publicPort}` } : {};
  writeEnvFile(envFile, { ...emulatorEnv(emulatorUrl), ...options.env, ...domain });
  return spawnTwilioRun(['start', '--env', envFile, '--port', String(ports.port), ...twilioRunModeFlags(options)], {
    output: options.output ?? 'pipe',
  });
}

/** The concurrency gate on `publicPort` in front of twilio-run at `directUrl`. */
function startStackGate(options: LocalStackOptions, directUrl: string, publicPort: number): Promise<FunctionGate> {
  const functionsDir = options.distDir
    ? path.join(PROJECT_ROOT, options.distDir, 'functions')
    : path.join(DIST_DIR, 'functions');
  return startFunctionGate({
    target: directUrl,
    functionPaths: functionPathsIn(functionsDir),
    cap: options.concurrencyCap,
    port: publicPort,
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const startEmulator = loadStartEmulator();
  const ports = await stackPorts(options);
  const emulator = await startEmulator({
    port: options.emulatorPort ?? 0, // 0: the emulator picks a free port
    host: '127.0.0.1',
    authToken: LOCAL_AUTH_TOKEN, // signs its status callbacks the way Twilio would, with our token
    log: options.emulatorLog,
    behaviour: options.behaviour,
  });
  const { envFile, cleanUp } = stackEnvFile(options);
  let twilioRun: TwilioRunProcess;
  try {
    twilioRun = spawnStackTwilioRun(options, envFile, emulator.url, ports);
  } catch (err) {
    await emulator.close();
    cleanUp();
    throw err;
  }

  const directUrl = `http://127.0.0.1:${ports.port}`;
  let gate: FunctionGate | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await gate?.close();
      await twilioRun.stop();
      await emulator.close();
      cleanUp();
    })();
    return stopping;
  };

  try {
    await waitUntilServing(directUrl, twilioRun.exited, options.readyTimeoutMs ?? 30_000);
    if (isGated(options)) gate = await startStackGate(options, directUrl, ports.publicPort);
  } catch (err) {
    const output = twilioRun.recentOutput();
    await stop();
    throw new Error(`${(err as Error).message}${output ? `\ntwilio-run output:\n${output}` : ''}`, { cause: err });
  }

  return {
    baseUrl: gate?.url ?? directUrl,
    port: ports.publicPort,
    gate,
    twilioRunUrl: directUrl,
    emulator,
    envFile,
    exited: twilioRun.exited,
    recentOutput: twilioRun.recentOutput,
    stop,
  };
}

/** Probed for readiness: an asset that is normally there, so the request log shows a healthy line. */
const READINESS_PATH = '/hold-music.wav';

/** Polls until the server answers any HTTP response; fails early if the process exits. */
export async function waitUntilServing(baseUrl: string, exited: Promise<number>, timeoutMs: number): Promise<void> {
  let exitCode: number | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`twilio-run exited with code ${exitCode} before serving`);
    try {
      const response = await fetch(`${baseUrl}${READINESS_PATH}`, {
        method: 'HEAD',
        signal: AbortSignal.timeout(1000),
      });
      await response.body?.cancel();
      return;
    } catch {
      await setTimeout(150);
    }
  }
  throw new Error(`twilio-run did not answer on ${baseUrl} within ${timeoutMs} ms`);
}
