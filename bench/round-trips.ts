/**
 * Part 1: Twilio API round trips per job, counted by the emulator, phase by phase, in push, poll
 * and simulated mode (plus a 50 KB push result), against the floor and the naive baseline.
 *
 * Each job is driven one request at a time, the way Studio and Twilio would drive it, so every
 * Twilio call between a request and its reply belongs to that request. The latency proxy's
 * timings give each request's critical path: how many calls it made one after the other.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveBaseline } from './baseline/serve';
import type { BenchBackend } from './lib/backend';
import { criticalPath } from './lib/latency-proxy';
import { LONG_POLL_SECONDS, MESSAGING_START_WAIT, readMessagingFlow, SERVICE_NUMBER } from './lib/messaging-flow';
import {
  attribute,
  FLOW_SID,
  joinStartedRoom,
  newCallSid,
  pathOf,
  post,
  settle,
  statsDelta,
  sum,
  type Answer,
  type BenchStack,
} from './lib/stack';

export interface PhaseCount {
  phase: string;
  /** The request (or event) that made these calls. */
  request: string;
  calls: Record<string, number>;
  total: number;
  /** Calls made one after the other (what the request waited for). */
  criticalPath: number;
  chain: string[];
  /** Function execution time the phase took (the local host's count; with a gate only). */
  executionMs?: number;
  /** Function invocations in the phase (with a gate only). */
  invocations?: number;
}

export interface ScenarioTrips {
  scenario: string;
  description: string;
  phases: PhaseCount[];
  /** Calls per pending hold-loop turn (one turn every loop period while the caller waits). */
  perPendingTurn: number;
  /** Calls per job with no pending turn (released on the first turn after the work finished). */
  fixedTotal: number;
  floor: number;
  notes: string[];
  /** Function invocations and execution ms per job without pending turns, and per pending turn (or waiting second). */
  invocations?: number;
  executionMs?: number;
  executionMsPerPendingTurn?: number;
}

export interface RoundTripResults {
  latencyMs: number;
  scenarios: ScenarioTrips[];
  /** Text conversations (no hold loop): the Executions path and the long-poll path. */
  messaging?: ScenarioTrips[];
  baseline: ScenarioTrips & { releasedWhenForked: boolean };
}

/** One create, one finalize, one call redirect, one result read; chunks both ways. */
export const FLOOR_BASE = 4;
const SYNC_DOCUMENT_BYTES = 16 * 1024;

class PhaseRecorder {
  readonly phases: PhaseCount[] = [];
  constructor(private readonly stack: BenchStack) {}

  async run<T>(
    phase: string,
    request: string,
    action: () => Promise<T>,
    options: { settleAfter?: boolean } = {},
  ): Promise<T> {
    await settle(this.stack.stats, 200, 3000);
    const before = this.stack.stats();
    const mark = this.stack.proxy.records.length;
    this.stack.resetGate();
    const result = await action();
    if (options.settleAfter) await settle(this.stack.stats, 400, 5000);
    await this.stack.proxy.idle();
    const calls = statsDelta(before, this.stack.stats());
    const { depth, chain } = criticalPath(this.stack.proxy.records.slice(mark));
    const gate = this.stack.gate();
    const execution = gate ? { executionMs: gate.executionMs, invocations: gate.total - gate.refused } : {};
    this.phases.push({ phase, request, calls, total: sum(calls), criticalPath: depth, chain, ...execution });
    return result;
  }
}

function expectOk(answer: Answer, what: string): Answer {
  if (answer.status !== 200) throw new Error(`${what} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return answer;
}

type Mode = 'push' | 'poll' | 'simulated';

/** Receives the emulator's conference status callbacks (form posts), to replay them later. */
async function startCallbackRecorder() {
  const received: Array<Record<string, string>> = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    async next(callSid: string, event: string, timeoutMs: number): Promise<Record<string, string>> {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const index = received.findIndex((r) => r.CallSid === callSid && r.StatusCallbackEvent === event);
        if (index >= 0) return received.splice(index, 1)[0]!;
        if (performance.now() > until) throw new Error(`no ${event} callback for ${callSid}`);
        await sleep(20);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type CallbackRecorder = Awaited<ReturnType<typeof startCallbackRecorder>>;

async function driveJob(
  stack: BenchStack,
  backend: BenchBackend,
  callbacks: CallbackRecorder,
  mode: Mode,
  resultBytes = 0,
): Promise<PhaseCount[]> {
  const recorder = new PhaseRecorder(stack);
  const call = (path: string, params: Record<string, string | number> = {}) =>
    stack.post(path, params).then((a) => expectOk(a, path));
  const input: Record<string, string | number> =
    mode === 'simulated'
      ? { task: 'bench', simulateSeconds: 1.5 }
      : { task: 'bench', benchMode: mode, ...(resultBytes ? { resultBytes } : {}) };
  const start = await recorder.run('start', '/jobs/start', () => call('/jobs/start', input));
  const jobId = String(start.body.jobId);
  const callSid = newCallSid();
  const hold = await recorder.run('hold', '/hold', () =>
    call(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid }),
  );
  // The room's status callback goes to a recorder first: the leave callback the emulator sends
  // when the room ends is then replayed to the service as its own step, so its calls are not
  // mixed into the request that ended the room.
  const statusCallback = pathOf(attribute(hold.text, 'statusCallback')!);
  await stack.join(`hold_${jobId}`, callSid, { statusCallback: callbacks.url });
  const waitUrl = pathOf(attribute(hold.text, 'waitUrl')!);
  const turn1 = await recorder.run('wait turn (pending)', '/hold/wait', () => call(waitUrl));
  const nextTurn = redirectOf(turn1.text);
  if (mode === 'push') {
    // A second pending turn: every turn costs the same.
    await recorder.run('wait turn (pending)', '/hold/wait', () => call(nextTurn));
    await recorder.run('completion', '/jobs/complete', async () => {
      const sent = await backend.complete(jobId);
      if (sent.status !== 200) throw new Error(`completion answered ${sent.status}`);
      return sent;
    });
  } else {
    if (mode === 'poll') backend.markReady(jobId);
    // The poll is due one Retry-After (1 s) after the last; simulated work is ready after 1.5 s.
    await sleep(mode === 'poll' ? 1100 : 1600);
    await recorder.run('completion (wait turn)', '/hold/wait', () => call(nextTurn));
  }
  const released = await stack.released(callSid, 5000);
  if (!released.released) throw new Error(`${mode}: the caller was not released`);
  const leave = await callbacks.next(callSid, 'participant-leave', 5000);
  await recorder.run('leave callback', '/hold/events', () =>
    stack.post(statusCallback, leave).then((a) => {
      if (a.status !== 204) throw new Error(`leave callback answered ${a.status}`);
      return a;
    }),
  );
  // A released caller's call runs the after-hold URL it was redirected to (the Dial action only
  // when the room ended instead).
  const afterHold =
    released.reason === 'call-redirected' && released.url
      ? pathOf(released.url)
      : pathOf(attribute(hold.text, 'action')!);
  await recorder.run(
    'after hold',
    released.reason === 'call-redirected' ? '/hold (after-hold URL)' : '/hold (Dial action)',
    () => call(afterHold),
  );
  const result = await recorder.run('result', '/jobs/result', () => call('/jobs/result', { jobId }));
  if (result.body?.status !== 'COMPLETED') throw new Error(`${mode}: result ${result.text.slice(0, 200)}`);
  return recorder.phases;
}

/** Work the messaging jobs take here: longer than the start's own reply. */
const MESSAGING_WORK_MS = 2500;

/**
 * A text conversation. `execution`: the messaging flow's start with its notify parameters, then
 * the backend's completion, which starts the flow again through Studio's Executions API; nothing
 * runs while the work does. `long-poll`: the flow's other path (poll and simulated jobs, and all
 * jobs before the Executions path): /jobs/status long-polls until the job is final, then
 * /jobs/result.
 */
async function driveConversation(
  stack: BenchStack,
  backend: BenchBackend,
  flowSid: string,
  design: 'execution' | 'long-poll',
): Promise<PhaseCount[]> {
  const recorder = new PhaseRecorder(stack);
  const call = (path: string, params: Record<string, string | number> = {}) =>
    stack.post(path, params).then((a) => expectOk(a, path));
  const contact = `+1555${String(Date.now()).slice(-7)}`;
  const notify: Record<string, string> =
    design === 'execution' ? { notifyFlowSid: flowSid, notifyTo: contact, notifyFrom: SERVICE_NUMBER } : {};
  const start = await recorder.run('start', '/jobs/start', () =>
    call('/jobs/start', {
      task: 'bench',
      message: 'hello',
      benchMode: design === 'execution' ? 'push' : 'poll',
      wait: MESSAGING_START_WAIT,
      ...notify,
    }),
  );
  const jobId = String(start.body.jobId);
  if (design === 'execution') {
    if (start.body.delivery !== 'execution')
      throw new Error(`messaging: start answered delivery ${start.body.delivery}`);
    await sleep(MESSAGING_WORK_MS);
    await recorder.run('completion', '/jobs/complete', async () => {
      const sent = await backend.complete(jobId);
      if (sent.status !== 200) throw new Error(`completion answered ${sent.status}`);
    });
    const execution = await stack.executionFor(flowSid, contact, 5000);
    if (execution?.data.jobId !== jobId) throw new Error('messaging: no execution carried the outcome');
    return recorder.phases;
  }
  setTimeout(() => backend.markReady(jobId), MESSAGING_WORK_MS).unref();
  let status = start;
  while (status.body.status === 'PENDING') {
    status = await recorder.run('status (long-poll)', '/jobs/status', () =>
      call('/jobs/status', { jobId, wait: LONG_POLL_SECONDS }),
    );
  }
  await recorder.run('result', '/jobs/result', () => call('/jobs/result', { jobId }));
  return recorder.phases;
}

function redirectOf(twiml: string): string {
  const match = /<Redirect[^>]*>([^<]*)<\/Redirect>/.exec(twiml);
  if (!match) throw new Error(`no <Redirect> in ${twiml.slice(0, 200)}`);
  return pathOf(match[1]!.replace(/&amp;/g, '&'));
}

/** Folds repeated phases (two pending turns) into one row each, checking they agree. */
function scenario(
  name: string,
  description: string,
  phases: PhaseCount[],
  floor: number,
  notes: string[] = [],
): ScenarioTrips {
  const rows: PhaseCount[] = [];
  for (const phase of phases) {
    const same = rows.find((row) => row.phase === phase.phase);
    if (!same) rows.push(phase);
    else if (same.total !== phase.total) notes.push(`${phase.phase}: ${same.total} then ${phase.total} calls`);
  }
  const pendingTurn = rows.find((row) => row.phase === 'wait turn (pending)');
  const perPendingTurn = pendingTurn?.total ?? 0;
  const fixed = rows.filter((row) => row !== pendingTurn);
  const fixedTotal = fixed.reduce((a, row) => a + row.total, 0);
  const timed = rows.every((row) => row.executionMs !== undefined);
  const execution = timed
    ? {
        invocations: fixed.reduce((a, row) => a + (row.invocations ?? 0), 0),
        executionMs: Math.round(fixed.reduce((a, row) => a + row.executionMs!, 0)),
        ...(pendingTurn ? { executionMsPerPendingTurn: Math.round(pendingTurn.executionMs!) } : {}),
      }
    : {};
  return { scenario: name, description, phases: rows, perPendingTurn, fixedTotal, floor, notes, ...execution };
}

export function floorFor(resultBytes: number): number {
  const chunks = resultBytes > SYNC_DOCUMENT_BYTES ? Math.ceil(resultBytes / SYNC_DOCUMENT_BYTES) : 0;
  return FLOOR_BASE + 2 * chunks;
}

async function measureBaseline(stack: BenchStack, assetsFolder: string): Promise<RoundTripResults['baseline']> {
  const phases: PhaseCount[] = [];
  const warm = await serveBaseline({ mode: 'warm', twilioApiBaseUrl: stack.proxy.url, assetsFolder });
  const recorder = new PhaseRecorder(stack);
  try {
    const room = `baseline_${newCallSid()}`;
    const callSid = newCallSid();
    await recorder.run('start', '/start', () => post(`${warm.baseUrl}/start`, { room, delayMs: 600 }));
    await recorder.run('hold', '/hold', () => post(`${warm.baseUrl}/hold`, { room }));
    // The baseline's waitUrl is the music file itself: no function runs while the caller waits.
    await joinStartedRoom(stack, room, callSid);
    await recorder.run('completion', 'in-memory timer', async () => {
      const released = await stack.released(callSid, 5000);
      if (!released.released) throw new Error('baseline (warm): the caller was not released');
    });
    await recorder.run('result', '/result', () => post(`${warm.baseUrl}/result`));
    phases.push(...recorder.phases);
  } finally {
    await warm.stop();
  }
  // The same baseline as twilio-run serves it by default (a process per request, ended after the
  // reply, like the platform ending execution at callback()): the timer never fires.
  const forked = await serveBaseline({ mode: 'fork', twilioApiBaseUrl: stack.proxy.url, assetsFolder });
  let releasedWhenForked: boolean;
  try {
    const room = `baseline_${newCallSid()}`;
    const callSid = newCallSid();
    await post(`${forked.baseUrl}/start`, { room, delayMs: 300 });
    await joinStartedRoom(stack, room, callSid);
    releasedWhenForked = (await stack.released(callSid, 3000)).released;
    await stack.hangup(callSid);
  } finally {
    await forked.stop();
  }
  return {
    ...scenario(
      'baseline',
      'naive 2020-style sample: in-memory timer, list in-progress room by name + update, static result',
      phases,
      FLOOR_BASE,
      [
        'stores nothing: no status, no result, no idempotency; the 2 calls are the whole cost',
        `caller released when twilio-run forks per request (its default, and the platform's "execution stops at callback()"): ${releasedWhenForked}`,
        'lists status=in-progress only: a caller waiting alone (the room stays init until a second participant joins) is never found; measured here with a second participant in the room',
      ],
    ),
    perPendingTurn: 0,
    releasedWhenForked,
  };
}

/** The hold-loop jobs: push, poll, simulated, and push with a result that needs chunk documents. */
async function holdScenarios(
  withBackend: BenchStack,
  simulated: BenchStack,
  backend: BenchBackend,
  callbacks: CallbackRecorder,
): Promise<ScenarioTrips[]> {
  const cases: Array<[name: string, description: string, stack: BenchStack, mode: Mode, resultBytes: number]> = [
    [
      'push',
      'backend accepts (202), completes later with a POST to its capability callbackUrl',
      withBackend,
      'push',
      0,
    ],
    ['poll', 'backend answers 202 + statusUrl; the hold loop polls it', withBackend, 'poll', 0],
    ['simulated', 'no BACKEND_URL: the built-in simulated work (1.5 s)', simulated, 'simulated', 0],
    ['push, 50 KB result', 'push with a 50,000-byte result (chunk documents)', withBackend, 'push', 50_000],
  ];
  const scenarios: ScenarioTrips[] = [];
  for (const [name, description, stack, mode, resultBytes] of cases) {
    const phases = await driveJob(stack, backend, callbacks, mode, resultBytes);
    scenarios.push(scenario(name, description, phases, floorFor(resultBytes)));
  }
  return scenarios;
}

/** The text conversations, on a messaging flow of their own: the Executions path, then the long-poll path. */
async function messagingScenarios(withBackend: BenchStack, backend: BenchBackend): Promise<ScenarioTrips[]> {
  const flowSid = await withBackend.createFlow(readMessagingFlow());
  const seconds = MESSAGING_WORK_MS / 1000;
  return [
    scenario(
      'messaging, execution',
      `text conversation, push job (${seconds} s): the completion starts the flow again`,
      await driveConversation(withBackend, backend, flowSid, 'execution'),
      0,
    ),
    scenario(
      'messaging, long-poll',
      `text conversation, poll job (${seconds} s): the flow long-polls /jobs/status`,
      await driveConversation(withBackend, backend, flowSid, 'long-poll'),
      0,
    ),
  ];
}

export async function measureRoundTrips(
  withBackend: BenchStack,
  simulated: BenchStack,
  backend: BenchBackend,
  latencyMs: number,
  assetsFolder: string,
): Promise<RoundTripResults> {
  const callbacks = await startCallbackRecorder();
  let scenarios: ScenarioTrips[];
  let messaging: ScenarioTrips[];
  try {
    scenarios = await holdScenarios(withBackend, simulated, backend, callbacks);
    messaging = await messagingScenarios(withBackend, backend);
  } finally {
    await callbacks.close();
  }
  return { latencyMs, scenarios, messaging, baseline: await measureBaseline(withBackend, assetsFolder) };
}
