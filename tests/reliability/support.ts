/** Shared pieces of the reliability tests: an emulator plus the built functions run in-process. */
import { completionToken } from '../../src/lib/backend/completion-token';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../emulator/server';
import { startFunctionHost, type FunctionHost, type HostReply } from '../../chaos/function-host';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../../dev/credentials';

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
  /** POSTs a signed completion like a backend does. */
  /** POSTs a completion to the job's capability URL (`body.jobId` names the job). */
  complete(body: object): Promise<HostReply>;
  stop(): Promise<void>;
}

export async function startInProcessStack(
  env: Record<string, string> = {},
  emulatorOptions: EmulatorOptions = {},
): Promise<InProcessStack> {
  const emulator = await startEmulator(emulatorOptions);
  const fullEnv = {
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: LOCAL_AUTH_TOKEN,
    TWILIO_API_BASE_URL: emulator.url,
    SYNC_SERVICE_SID: 'default',
    WEBHOOK_SECRET: SECRET,
    ...env,
  };
  const host = startFunctionHost(fullEnv);
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

export { setTimeout as sleep } from 'node:timers/promises';

/** The body as an object (fails the test with the text when it is not one). */
export function bodyOf(reply: HostReply): any {
  if (reply.body && typeof reply.body === 'object') return reply.body;
  throw new Error(
    `expected a JSON object body, got ${reply.status} ${reply.kind} ${reply.text.slice(0, 300)} ${reply.error ?? ''}`,
  );
}
