/**
 * The service a flow run talks to: a server `npm start` already runs, or a local stack started
 * here (twilio-run + emulator, and the example backend when asked for).
 */
import crypto from 'node:crypto';
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { DispatchRequest } from '../../src/lib/contracts';
import { build } from '../../dev/build';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';
import { startRelayFrontingSlowApi, type SlowApiBackend, type SlowApiOptions } from '../../relay/local/slow-api';

export interface LocalService {
  baseUrl: string;
  emulatorUrl: string;
  /** Set when this process started the service (then stop() stops it). */
  stack?: LocalStack;
  backend?: ExampleBackend;
  stop(): Promise<void>;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';
export const DEFAULT_EMULATOR_URL = 'http://127.0.0.1:3010';

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** True when both the functions and the emulator answer at these URLs. */
export async function isServiceRunning(baseUrl: string, emulatorUrl: string): Promise<boolean> {
  const [service, emulator] = await Promise.all([
    answers(`${baseUrl}/hold-music.wav`),
    answers(`${emulatorUrl}/_emulator/stats`),
  ]);
  return service && emulator;
}

/** A result with a `message`, which the flows say or text. */
export function exampleResult(dispatch: DispatchRequest): Record<string, unknown> {
  const reference = `ORD-${dispatch.jobId.slice(-6).toUpperCase()}`;
  return { message: `Your order ${reference} ships tomorrow.`, reference, source: 'example-backend' };
}

export interface StartServiceOptions {
  /** Start the example backend and point BACKEND_URL at it. */
  exampleBackend?: boolean;
  /** Extra environment for the functions (e.g. SIMULATED_WORK_SECONDS). */
  env?: Record<string, string>;
  /** Build dist/ first (default true; tests have built it already). */
  build?: boolean;
  /** The behaviour profile the emulator plays (default: the emulator's own, `documented`). */
  behaviour?: TwilioBehaviour;
  /**
   * twilio-run's process per request (default true, as `npm start`); false serves every request
   * from one warm process, like the platform's warm instances, which keeps a busy test machine
   * from turning a fast job into a slow one.
   */
  forkProcess?: boolean;
  /** Start the relay (relay/) in front of a slow plain API and point BACKEND_URL at the relay. */
  relaySlowApi?: SlowApiOptions;
  /** Plays the Functions concurrency limit (dev/local-stack.ts `concurrencyCap`); omitted: no gate. */
  concurrencyCap?: number;
}

export async function startLocalService(options: StartServiceOptions = {}): Promise<LocalService> {
  if (options.build !== false) await build();
  let backend: ExampleBackend | undefined;
  const env: Record<string, string> = { ...options.env };
  if (options.exampleBackend) {
    const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
    backend = await startExampleBackend({ secret, resultFor: exampleResult });
    Object.assign(env, { BACKEND_URL: backend.url, WEBHOOK_SECRET: secret });
  }
  let relay: SlowApiBackend | undefined;
  if (options.relaySlowApi) {
    relay = await startRelayFrontingSlowApi(options.relaySlowApi);
    Object.assign(env, { BACKEND_URL: relay.backendUrl, WEBHOOK_SECRET: relay.secret });
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      env,
      behaviour: options.behaviour,
      concurrencyCap: options.concurrencyCap,
      ...(options.forkProcess === false ? { forkProcess: false, live: false } : {}),
    });
  } catch (error) {
    await backend?.close();
    await relay?.close();
    throw error;
  }
  return {
    baseUrl: stack.baseUrl,
    emulatorUrl: stack.emulator.url,
    stack,
    backend,
    stop: async () => {
      await stack.stop();
      await backend?.close();
      await relay?.close();
    },
  };
}

/** A service someone else runs (`npm start`): nothing to stop. */
export function runningService(baseUrl: string, emulatorUrl: string): LocalService {
  return { baseUrl, emulatorUrl, stop: async () => undefined };
}
