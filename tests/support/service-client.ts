import type { ExampleBackend } from '../../backends/example-backend';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../dev/local-stack';
import { startedLater, useStackWithBackend, type StackOptions } from './started';
import { sleep, untilNotPending } from './wait';
export { attribute, pathOf, redirectTarget } from '../../dev/twiml-urls';
export { sleep };

/** A running local stack (twilio-run + emulator) with small helpers to call it like Studio and Twilio do. */
export interface ServiceUnderTest {
  stack: LocalStack;
  /** POSTs form parameters (Studio's Run Function and Twilio's webhooks send forms). */
  post(path: string, params?: Record<string, string | number>): Promise<{ status: number; body: any; text: string }>;
  get(path: string): Promise<{ status: number; body: any; text: string }>;
  /** Joins a simulated caller to a room through the emulator's control API. */
  join(friendlyName: string, callSid: string, statusCallback?: string): Promise<{ conferenceSid: string }>;
  /** Long-polls the emulator until the call leaves its room, or the timeout. */
  released(callSid: string, timeoutMs: number): Promise<{ released: boolean; reason?: string; url?: string }>;
  hangup(callSid: string): Promise<void>;
  /** The caller's call exists from the moment they dial in: the emulator learns of it here. */
  createCall(callSid: string): Promise<void>;
  stop(): Promise<void>;
}

/** How the stack under a service runs (everything startLocalStack takes but the environment). */
export type ServiceStackOptions = Omit<LocalStackOptions, 'env'>;

async function read(response: Response) {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

export async function startService(
  env: Record<string, string> = {},
  options: ServiceStackOptions = {},
): Promise<ServiceUnderTest> {
  const stack = await startLocalStack({ ...options, env });
  const control = (path: string, init?: RequestInit) => fetch(`${stack.emulator.url}/_emulator${path}`, init);
  return {
    stack,
    post: async (path, params = {}) =>
      read(
        await fetch(stack.baseUrl + path, {
          method: 'POST',
          body: new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])),
        }),
      ),
    get: async (path) => read(await fetch(stack.baseUrl + path)),
    join: async (friendlyName, callSid, statusCallback) => {
      const response = await control('/conferences/join', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          friendlyName,
          callSid,
          startConferenceOnEnter: false,
          statusCallback,
          statusCallbackEvent: ['leave'],
        }),
      });
      if (!response.ok) throw new Error(`join failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { conferenceSid: string };
    },
    released: async (callSid, timeoutMs) =>
      (await (await control(`/calls/${callSid}/released?timeoutMs=${timeoutMs}`)).json()) as {
        released: boolean;
        reason?: string;
        url?: string;
      },
    createCall: async (callSid) => {
      const response = await control('/calls', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ callSid }),
      });
      if (!response.ok) throw new Error(`creating the call failed: ${response.status} ${await response.text()}`);
    },
    hangup: async (callSid) => {
      await control(`/calls/${callSid}/hangup`, { method: 'POST' });
    },
    stop: () => stack.stop(),
  };
}

export interface UseServiceOptions extends StackOptions {
  /** How the stack runs; a function is called in the beforeAll (for what only exists by then). */
  stack?: ServiceStackOptions | (() => ServiceStackOptions);
}

/**
 * The service for a whole test file (or describe block): started in a beforeAll (after the
 * example backend, when `backend` asks for one), stopped in an afterAll, and after each test
 * the emulator must have seen nothing off its spec. `stack` is `service.stack`.
 */
export function useService(options: UseServiceOptions = {}): {
  service: ServiceUnderTest;
  stack: LocalStack;
  backend: ExampleBackend;
} {
  const { started, backend, current } = useStackWithBackend(
    'the service',
    (env) => startService(env, typeof options.stack === 'function' ? options.stack() : options.stack),
    (service) => service.stack.emulator,
    options,
  );
  return { service: started, stack: startedLater('the local stack', () => current()?.stack), backend };
}

export const FLOW_SID = 'FW' + 'f'.repeat(32);
let sidCounter = 0;
/** A SID unlike any other this process makes: the prefix, then the time and a counter in 32 hex digits. */
export const sidFor = (prefix: string) =>
  `${prefix}${(Date.now().toString(16) + (sidCounter++).toString(16)).padStart(32, '0').slice(-32)}`;
export const newCallSid = () => sidFor('CA');

/** Polls /jobs/status until the job leaves PENDING (bounded). */
export const waitForFinal = (service: ServiceUnderTest, jobId: string, timeoutMs = 20_000): Promise<any> =>
  untilNotPending(async () => (await service.get(`/jobs/status?jobId=${jobId}`)).body, timeoutMs, 250);

/** A job's capability URL on the service (what a dispatch's callbackUrl holds), with this token. */
export const capabilityUrl = (service: ServiceUnderTest, jobId: string, token: string) =>
  `${service.stack.baseUrl}/jobs/complete?${new URLSearchParams({ jobId, token }).toString()}`;

/** POSTs a completion (plain JSON) to a URL, returning the status and the parsed reply. */
export async function sendCompletion(url: string, body: object): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}
