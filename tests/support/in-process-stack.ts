/** The built functions run in-process (chaos/function-host.ts) against an emulator: no twilio-run. */
import type { ExampleBackend } from '../../backends/example-backend';
import { completionToken } from '../../src/lib/backend/completion-token';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../emulator/server';
import {
  startFunctionHost,
  type FunctionHost,
  type FunctionHostOptions,
  type HostReply,
} from '../../chaos/function-host';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../../dev/credentials';
import { useStackWithBackend, type StackOptions } from './started';

export const SECRET = 'whsec_' + Buffer.from('reliability-secret-000001').toString('base64');
export const FLOW_SID = 'FW' + 'a'.repeat(32);

export interface InProcessStack {
  emulator: EmulatorHandle;
  host: FunctionHost;
  /** Where the functions answer over HTTP (backends post completions there). */
  baseUrl: string;
  env: Record<string, string>;
  /** POSTs form parameters like Studio's Run Function does. */
  post(path: string, form?: Record<string, string | number>, query?: string): Promise<HostReply>;
  /** POSTs a completion to the job's capability URL (`body.jobId` names the job). */
  complete(body: object): Promise<HostReply>;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  emulator?: EmulatorOptions;
  /** How the function host runs (a concurrency cap, ...). */
  host?: FunctionHostOptions;
}

/**
 * An emulator and the function host pointed at it, listening on 127.0.0.1; the environment is
 * the local credentials, the emulator and WEBHOOK_SECRET `SECRET`, then `env`.
 */
export async function startInProcessStack(
  env: Record<string, string> = {},
  options: InProcessOptions = {},
): Promise<InProcessStack> {
  const emulator = await startEmulator(options.emulator ?? {});
  const fullEnv = {
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: LOCAL_AUTH_TOKEN,
    TWILIO_API_BASE_URL: emulator.url,
    SYNC_SERVICE_SID: 'default',
    WEBHOOK_SECRET: SECRET,
    ...env,
  };
  const host = startFunctionHost(fullEnv, options.host);
  const baseUrl = await host.listen();
  return {
    emulator,
    host,
    baseUrl,
    env: fullEnv,
    post: (path, form = {}, query) =>
      host.call(path, { form: Object.fromEntries(Object.entries(form).map(([k, v]) => [k, String(v)])), query }),
    complete: (body) => {
      const { jobId } = body as { jobId: string };
      return host.call('/jobs/complete', {
        query: { jobId, token: completionToken(SECRET, jobId) },
        json: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    },
    stop: async () => {
      await host.close();
      await emulator.close();
    },
  };
}

/**
 * The in-process stack for a whole test file (or describe block): started in a beforeAll (after
 * the example backend, when `backend` asks for one), stopped in an afterAll, and after each test
 * the emulator must have seen nothing off its spec (unless `checkViolations` is false).
 */
export function useInProcessStack(options: StackOptions & InProcessOptions = {}): {
  stack: InProcessStack;
  backend: ExampleBackend;
} {
  const { started, backend } = useStackWithBackend(
    'the in-process stack',
    (env) => startInProcessStack(env, options),
    (stack) => stack.emulator,
    options,
  );
  return { stack: started, backend };
}

export { sleep } from './wait';

/** The body as an object (fails the test with the text when it is not one). */
export function bodyOf(reply: HostReply): any {
  if (reply.body && typeof reply.body === 'object') return reply.body;
  throw new Error(
    `expected a JSON object body, got ${reply.status} ${reply.kind} ${reply.text.slice(0, 300)} ${reply.error ?? ''}`,
  );
}
