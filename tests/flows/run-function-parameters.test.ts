/**
 * Every shipped flow's /jobs/start parameters, sent the way Studio sends them, reach the backend
 * unchanged: each Run Function widget's parameters are rendered with a Studio Liquid context,
 * POSTed form-encoded to the real function (twilio-run serving dist/, against the emulator), and
 * the dispatch the example backend receives must carry exactly those values as `input`, minus the
 * start control parameters. A parameter the runtime swallows (see studio/runtime-event.ts), a
 * value turned into a number, or text re-encoded on the way fails here.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import { PATHS, START_CONTROL_PARAMS, START_NOTIFY_PARAMS, type DispatchRequest } from '../../src/lib/contracts';
import type { FlowDefinition, FlowState, KeyValue } from '../../studio/flow-model';
import { PROJECT_ROOT, projectFlowFiles } from '../../dev/paths';
import { flowFileForPlaceholder, runSubflowSids } from '../../studio/project-subflows';
import { callFields, triggerData } from '../../studio/runner/trigger-fields';
import { withStartParameters } from '../../studio/runner/scenarios';
import { StudioContext, type TriggerData } from '../../studio/runner/studio-context';
import { RESERVED_EVENT_KEYS } from '../../studio/runtime-event';
import { startService, type ServiceUnderTest } from '../support/service-client';

const SECRET = 'whsec_' + Buffer.from('run-function-parameters-test').toString('base64');
const ACCOUNT_SID = 'AC' + '0'.repeat(32);
const SERVICE_BASE = 'https://__SERVICE_DOMAIN__';

const sid = (prefix: string) => prefix + crypto.randomBytes(16).toString('hex');

/** What Twilio puts into `trigger.call.*` for an inbound call (the runner's own call fields). */
function callTrigger(fields: Record<string, string> = {}): TriggerData {
  return { kind: 'call', call: callFields({ kind: 'call', from: '+14155550143', to: '+14155550100', fields }, ACCOUNT_SID, sid('CA')) };
}

/** What Twilio puts into `trigger.message.*` for an inbound SMS (the runner's own message fields). */
function messageTrigger(body: string): TriggerData {
  return triggerData({ kind: 'message', body, from: '+14155550143', to: '+14155550100' }, { accountSid: ACCOUNT_SID, flowSid: sid('FW') }).data;
}

/** Text that breaks any re-encoding: accents, a combining mark (NFD), CJK, an emoji, a + and a &. */
const NON_ASCII = 'Où est ma commande ? Größe 42, cafe\u0301, 注文番号 🚚 + & = ok';
/** Values a parser might turn into numbers (and lose the zeros or the digits of). */
const INTEGER_LIKE = '0012345678901234567890';

/** Extra parameters a user adds to the start widget, as scenarios do (studio/runner/scenarios.ts). */
const ADDED = { orderNumber: INTEGER_LIKE, quantity: '7', note: NON_ASCII, empty: '' };

interface Case {
  name: string;
  trigger: () => TriggerData;
  /** A subflow's `trigger.parent.parameters` (what the parent's Run Subflow passes). */
  parent?: Record<string, string>;
  /** Parameters added to the widget; none: the flow exactly as shipped. */
  added?: Record<string, string>;
  /** Rendered values the case must send (so it tests what its name says). */
  carries: string[];
}

function startsOnCall(flow: FlowDefinition): boolean {
  return flow.states[0]!.transitions.some((t) => t.event === 'incomingCall' && t.next !== undefined);
}

const ADDED_CASE: Omit<Case, 'trigger'> = {
  name: 'with non-ASCII, integer-like and empty parameters added',
  added: ADDED,
  carries: [NON_ASCII, INTEGER_LIKE, '7', ''],
};

function startsAsSubflow(flow: FlowDefinition): boolean {
  return flow.states[0]!.transitions.some((t) => t.event === 'incomingParent' && t.next !== undefined);
}

/** What voice-hold.json's Run Subflow passes, with the input a parent might give. */
const PARENT = { task: 'demo', input: NON_ASCII, flowSid: sid('FW'), wait: '2', maxHoldSeconds: '120' };

/** What each flow is sent: its own trigger, as shipped, then with parameters a user might add. */
function casesFor(flow: FlowDefinition): Case[] {
  if (startsAsSubflow(flow)) {
    return [
      { name: "as shipped, the parent's task and a non-ASCII input, in a call", trigger: () => callTrigger(), parent: PARENT, carries: ['demo', NON_ASCII, 'US'] },
      { name: 'as shipped, an integer-like input and the defaults', trigger: () => callTrigger(), parent: { task: 'demo', input: INTEGER_LIKE }, carries: ['demo', INTEGER_LIKE] },
      { ...ADDED_CASE, trigger: () => callTrigger({ FromCountry: 'GB' }), parent: PARENT, carries: [...ADDED_CASE.carries, 'GB'] },
    ];
  }
  if (startsOnCall(flow)) {
    return [
      { name: 'as shipped, an inbound call', trigger: () => callTrigger(), carries: ['US'] },
      { ...ADDED_CASE, trigger: () => callTrigger({ FromCountry: 'GB' }), carries: [...ADDED_CASE.carries, 'GB'] },
    ];
  }
  return [
    { name: 'as shipped, message text in non-ASCII', trigger: () => messageTrigger(NON_ASCII), carries: [NON_ASCII] },
    { name: 'as shipped, integer-like message text', trigger: () => messageTrigger(INTEGER_LIKE), carries: [INTEGER_LIKE] },
    { ...ADDED_CASE, trigger: () => messageTrigger('When does my order arrive?'), carries: [...ADDED_CASE.carries, 'When does my order arrive?'] },
  ];
}

function callsStart(state: FlowState): boolean {
  return state.type === 'run-function' && String(state.properties.url).split('?')[0] === `${SERVICE_BASE}${PATHS.start}`;
}

const flows = projectFlowFiles().map((file) => ({
  file: path.relative(PROJECT_ROOT, file),
  definition: JSON.parse(fs.readFileSync(file, 'utf8')) as FlowDefinition,
}));
const widgets = flows.flatMap((flow) => flow.definition.states.filter(callsStart).map((state) => ({ ...flow, state: state.name })));

let backend: ExampleBackend;
let service: ServiceUnderTest;
beforeAll(async () => {
  backend = await startExampleBackend({ secret: SECRET });
  service = await startService({ BACKEND_URL: backend.url, WEBHOOK_SECRET: SECRET });
});
afterAll(async () => {
  await service?.stop();
  await backend?.close();
});
afterEach(() => expect(service.stack.emulator.violations()).toEqual([]));

/** Renders the widget's parameters in a fresh execution and sends them the way Studio does. */
async function sendLikeStudio(state: FlowState, trigger: TriggerData, parent?: Record<string, string>): Promise<{ sent: Array<[string, string]>; dispatch: DispatchRequest }> {
  const context = new StudioContext({ accountSid: ACCOUNT_SID, flowSid: sid('FW'), executionSid: sid('FN') }, trigger, parent ? { parentParameters: parent } : {});
  const sent = await context.renderKeyValues(state.properties.parameters);
  const url = String(state.properties.url).replace(SERVICE_BASE, service.stack.baseUrl);
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(sent) }); // form-encoded, UTF-8
  const reply = (await response.json()) as { jobId?: string };
  expect({ status: response.status, jobId: typeof reply.jobId }).toEqual({ status: 200, jobId: 'string' });
  const until = Date.now() + 5000;
  let dispatch = backend.dispatches.find((d) => d.jobId === reply.jobId);
  while (!dispatch && Date.now() < until) {
    await sleep(25);
    dispatch = backend.dispatches.find((d) => d.jobId === reply.jobId);
  }
  if (!dispatch) throw new Error(`no dispatch for job ${reply.jobId}`);
  return { sent, dispatch };
}

describe('Run Function parameters of the shipped flows reach the backend byte for byte', () => {
  it('covers every /jobs/start widget of every flow', () => {
    expect(flows.length).toBeGreaterThanOrEqual(2);
    // A flow starts the job itself, or runs a project subflow that does (voice-hold.json).
    const covered = (file: string, definition: FlowDefinition) =>
      widgets.some((w) => w.file === file) || runSubflowSids(definition).some((flowSid) => flowFileForPlaceholder(flowSid) !== undefined);
    for (const flow of flows) expect([flow.file, covered(flow.file, flow.definition)]).toEqual([flow.file, true]);
  });

  const table = widgets.flatMap((widget) => casesFor(widget.definition).map((c) => [`${widget.file} ${widget.state}, ${c.name}`, widget, c] as const));

  it.each(table)('%s', async (_name, widget, testCase) => {
    const definition = testCase.added ? withStartParameters(widget.definition, testCase.added) : widget.definition;
    const state = definition.states.find((s) => s.name === widget.state)!;
    const { sent, dispatch } = await sendLikeStudio(state, testCase.trigger(), testCase.parent);

    const keys = sent.map(([key]) => key);
    expect(new Set(keys).size).toBe(keys.length); // one value per key, as Studio's form has
    for (const key of START_CONTROL_PARAMS) expect(keys).toContain(key);
    // Steering parameters are not job input (a messaging flow's notify parameters render empty outside an SMS).
    const steering: readonly string[] = [...START_CONTROL_PARAMS, ...START_NOTIFY_PARAMS];
    const expected = Object.fromEntries(sent.filter(([key]) => !steering.includes(key)));

    expect(dispatch.input).toStrictEqual(expected);
    for (const [key, value] of Object.entries(expected)) {
      const got = dispatch.input[key];
      expect(typeof got).toBe('string');
      expect(Buffer.from(got as string, 'utf8').equals(Buffer.from(value, 'utf8'))).toBe(true);
    }
    // The case sends what its name says.
    expect(Object.values(expected)).toEqual(expect.arrayContaining(testCase.carries));
  });

  it('would lose a parameter named like a key the runtime reserves (why the checker refuses it)', async () => {
    const widget = widgets[0]!;
    const reserved = RESERVED_EVENT_KEYS[0]!;
    const definition = withStartParameters(widget.definition, { [reserved]: NON_ASCII, kept: 'yes' });
    const state = definition.states.find((s) => s.name === widget.state)!;
    expect((state.properties.parameters as KeyValue[]).some((p) => p.key === reserved)).toBe(true);
    const { dispatch } = await sendLikeStudio(state, callTrigger(), startsAsSubflow(widget.definition) ? PARENT : undefined);
    expect(dispatch.input).toMatchObject({ kept: 'yes' });
    expect(dispatch.input).not.toHaveProperty(reserved);
  });
});
