/**
 * The service as the benchmarks run it: twilio-run serving dist/ (fork per request, or in one
 * warm process), the emulator, and the latency proxy between them. Helpers play Studio (form
 * POSTs) and the caller (join a room, wait to be released) the way tests/support does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConcurrencyStats } from '../../dev/function-concurrency';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';
import { fixedSid, newSid } from '../../emulator/sids';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy';
export { attribute, pathOf, redirectTarget } from '../../dev/twiml-urls';

export type ServeMode = 'fork' | 'warm';

export interface BenchStack {
  mode: ServeMode;
  baseUrl: string;
  stack: LocalStack;
  proxy: LatencyProxy;
  stats(): Record<string, number>;
  post(path: string, params?: Record<string, string | number>): Promise<Answer>;
  join(
    room: string,
    callSid: string,
    options?: { statusCallback?: string; startConferenceOnEnter?: boolean },
  ): Promise<void>;
  released(
    callSid: string,
    timeoutMs: number,
  ): Promise<{ released: boolean; reason?: string; conferenceSid?: string; url?: string; at: number }>;
  hangup(callSid: string): Promise<void>;
  /** The job's Sync document as stored (read straight from the emulator, not through the proxy). */
  jobDocument(jobId: string): Promise<Record<string, unknown> | undefined>;
  /** The concurrency gate's figures (every Function request), when the stack has a gate. */
  gate(): ConcurrencyStats | undefined;
  /** Forgets the gate's figures (between levels of a benchmark). */
  resetGate(): void;
  /** A Studio flow in the emulator (its FW SID), for executions the service starts. */
  createFlow(definition: unknown): Promise<string>;
  /** The REST-started execution for a contact, once the service has created it (undefined after `timeoutMs`). */
  executionFor(
    flowSid: string,
    contact: string,
    timeoutMs: number,
  ): Promise<{ executionSid: string; data: Record<string, unknown> } | undefined>;
  stop(): Promise<void>;
}

export interface Answer {
  status: number;
  body: any;
  text: string;
  ms: number;
}

/** The Studio flow a held caller goes back to (the hold's `flowSid`, in its return URL): one fixed, obviously fake SID. */
export const FLOW_SID = fixedSid('FW', 'f');

/**
 * The naive baseline's room, made findable for it: a conference starts only when two
 * participants are in it (TwiML <Conference> docs), and the baseline looks up in-progress rooms
 * only, so a second, silent participant joins after the caller. The most generous setting for it.
 */
export async function joinStartedRoom(stack: BenchStack, room: string, callSid: string): Promise<void> {
  await stack.join(room, callSid, { startConferenceOnEnter: true });
  await stack.join(room, newCallSid(), { startConferenceOnEnter: true });
}
export const newCallSid = () => newSid('CA');

const EMULATOR_AUTH = 'Basic ' + Buffer.from(`${fixedSid('AC')}:bench`).toString('base64');

interface BenchStackOptions {
  mode: ServeMode;
  latencyMs: number;
  distDir: string;
  env?: Record<string, string>;
  /** The local function host's concurrency cap (0: count only, no refusals). */
  concurrencyCap?: number;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const proxy = await startLatencyProxy({ latencyMs: options.latencyMs });
  const stack = await serveBehind(proxy, options);
  proxy.setTarget(stack.emulator.url);
  return {
    mode: options.mode,
    baseUrl: stack.baseUrl,
    stack,
    proxy,
    stats: () => stack.emulator.stats(),
    post: (path, params = {}) => post(stack.baseUrl + path, params),
    ...callerControls(stack.emulator.url),
    ...emulatorRecords(stack.emulator.url),
    gate: () => stack.gate?.stats(),
    resetGate: () => stack.gate?.resetStats(),
    async stop() {
      await stack.stop();
      await proxy.close();
    },
  };
}

/** twilio-run and the emulator, the service's Twilio calls sent through the proxy (closed if they do not start). */
async function serveBehind(proxy: LatencyProxy, options: BenchStackOptions): Promise<LocalStack> {
  try {
    return await startLocalStack({
      env: { ...options.env, TWILIO_API_BASE_URL: proxy.url },
      forkProcess: options.mode === 'fork',
      live: options.mode === 'fork',
      distDir: options.distDir,
      ...(options.concurrencyCap !== undefined ? { concurrencyCap: options.concurrencyCap } : {}),
    });
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

/** What callers and Studio do, through the emulator's control API: join a room, wait to be released, hang up, get the flow started again. */
function callerControls(emulatorUrl: string): Pick<BenchStack, 'join' | 'released' | 'hangup' | 'executionFor'> {
  const control = (path: string, init?: RequestInit) => fetch(`${emulatorUrl}/_emulator${path}`, init);
  return {
    async join(room, callSid, joinOptions = {}) {
      const response = await control('/conferences/join', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          friendlyName: room,
          callSid,
          startConferenceOnEnter: joinOptions.startConferenceOnEnter ?? false,
          ...(joinOptions.statusCallback
            ? { statusCallback: joinOptions.statusCallback, statusCallbackEvent: ['leave'] }
            : {}),
        }),
      });
      if (!response.ok) throw new Error(`join failed: ${response.status} ${await response.text()}`);
      await response.body?.cancel();
    },
    async released(callSid, timeoutMs) {
      const answer = (await (
        await control(`/calls/${callSid}/released?timeoutMs=${Math.round(timeoutMs)}`)
      ).json()) as { released: boolean; reason?: string; conferenceSid?: string; url?: string };
      return { ...answer, at: performance.now() };
    },
    async hangup(callSid) {
      await (await control(`/calls/${callSid}/hangup`, { method: 'POST' })).body?.cancel();
    },
    async executionFor(flowSid, contact, timeoutMs) {
      const query = new URLSearchParams({ flowSid, contact, timeoutMs: String(Math.round(timeoutMs)) });
      const response = await control(`/executions?${query}`);
      if (!response.ok) throw new Error(`executions: ${response.status} ${await response.text()}`);
      const { executions } = (await response.json()) as {
        executions: Array<{ executionSid: string; data: Record<string, unknown> }>;
      };
      return executions[0];
    },
  };
}

/** Twilio's REST API straight at the emulator (not through the proxy, so not counted): a job's document, a flow. */
function emulatorRecords(emulatorUrl: string): Pick<BenchStack, 'jobDocument' | 'createFlow'> {
  return {
    async jobDocument(jobId) {
      const response = await fetch(`${emulatorUrl}/sync/v1/Services/default/Documents/job_${jobId}`, {
        headers: { authorization: EMULATOR_AUTH },
      });
      if (!response.ok) return undefined;
      return ((await response.json()) as { data: Record<string, unknown> }).data;
    },
    async createFlow(definition) {
      const response = await fetch(`${emulatorUrl}/studio/v2/Flows`, {
        method: 'POST',
        headers: { authorization: EMULATOR_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          FriendlyName: 'capacity',
          Status: 'published',
          Definition: JSON.stringify(definition),
        }),
      });
      if (!response.ok) throw new Error(`flow create failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { sid: string }).sid;
    },
  };
}

/** A form POST like Studio's Run Function or Twilio's webhooks; `ms` is the reply time. */
export async function post(
  url: string,
  params: Record<string, string | number> = {},
  timeoutMs = 30_000,
): Promise<Answer> {
  const began = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    body: new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  const ms = performance.now() - began;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, ms };
}

/** Counts that changed between two stats() snapshots (without `total`). */
export function statsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    if (name === 'total') continue;
    const diff = value - (before[name] ?? 0);
    if (diff !== 0) out[name] = diff;
  }
  return out;
}

export const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Waits until the emulator has seen no new call for `quietMs` (bounded by `maxMs`). */
export async function settle(stats: () => Record<string, number>, quietMs = 300, maxMs = 5000): Promise<void> {
  const until = performance.now() + maxMs;
  let last = stats().total ?? 0;
  let quietSince = performance.now();
  while (performance.now() < until) {
    await sleep(50);
    const now = stats().total ?? 0;
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= quietMs) {
      return;
    }
  }
}
