import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';
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

export async function startService(env: Record<string, string> = {}): Promise<ServiceUnderTest> {
  const stack = await startLocalStack({ env });
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

export const FLOW_SID = 'FW' + 'f'.repeat(32);
let callCounter = 0;
export const newCallSid = () =>
  `CA${(Date.now().toString(16) + (callCounter++).toString(16)).padStart(32, '0').slice(-32)}`;

/** Polls /jobs/status until the job leaves PENDING (bounded). */
export async function waitForFinal(service: ServiceUnderTest, jobId: string, timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await service.get(`/jobs/status?jobId=${jobId}`);
    if (body?.status !== 'PENDING' || Date.now() > until) return body;
    await sleep(250);
  }
}
