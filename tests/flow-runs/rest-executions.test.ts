/**
 * The flow runner and executions started through Studio's REST API: after an inbound execution
 * whose service promised one (`delivery: "execution"`), the runner waits for it in the emulator,
 * claims it and runs it (trigger incomingRequest, flow.data = Parameters, contact = To, flow
 * address = From) in the same report; and it holds every execution it plays to Studio's
 * one-active-execution-per-contact rule. A fake service and an emulator in this process.
 */
import { startEmulator, type EmulatorHandle } from '../../emulator/server';
import { createEmulatorTwilioClient } from '../../dev/emulator-client';
import { flowWith, type FlowDefinition } from '../../studio/flow-model';
import { formatRun, runFlow, type RunFlowOptions } from '../../studio/runner';
import { runToJson } from '../../studio/runner/run-json';
import { json, startFakeService, type FakeService } from './fake-service';
import { functionState, sendState } from './support';

const CONTACT = '+15005550006';
const NUMBER = '+15005550001';

let emulator: EmulatorHandle;
let fake: FakeService;
/** What the fake /start does after answering: start the promised execution, or nothing. */
let afterStart: (form: URLSearchParams) => Promise<void>;

beforeAll(async () => {
  emulator = await startEmulator();
  const client = createEmulatorTwilioClient(emulator.url);
  fake = await startFakeService({
    '/start': (request) => {
      const promised = request.form.get('promise') === 'yes';
      setTimeout(() => void afterStart(request.form).catch(() => undefined), 150);
      return json({ jobId: `JB${'1'.repeat(32)}`, status: 'PENDING', ...(promised ? { delivery: 'execution' } : {}) });
    },
    '/end-me': async (request) => {
      // Studio ends this execution from outside while a widget runs.
      await client.studio.v2
        .flows(request.form.get('flowSid')!)
        .executions(request.form.get('sid')!)
        .update({ status: 'ended' });
      return json({ ok: true });
    },
  });
  afterStart = async (form) => {
    if (form.get('promise') !== 'yes' || form.get('deliver') === 'no') return;
    await client.studio.v2.flows(form.get('flowSid')!).executions.create({
      to: form.get('to')!,
      from: form.get('from')!,
      parameters: {
        jobId: `JB${'1'.repeat(32)}`,
        status: 'COMPLETED',
        result: { message: 'Your order ships tomorrow.' },
      },
    });
  };
});
afterAll(async () => {
  await fake?.close();
  await emulator?.close();
});
afterEach(() => expect(emulator.violations()).toEqual([]));

function flow(startParams: Record<string, string>, handlesRequest = true): FlowDefinition {
  return flowWith(
    'rest executions test',
    [
      { event: 'incomingMessage', next: 'start' },
      { event: 'incomingRequest', ...(handlesRequest ? { next: 'tell' } : {}) },
    ],
    [
      functionState(
        'start',
        'https://__SERVICE_DOMAIN__/start',
        [
          { key: 'flowSid', value: '{{flow.flow_sid}}' },
          { key: 'to', value: '{{contact.channel.address}}' },
          { key: 'from', value: '{{flow.channel.address}}' },
          ...Object.entries(startParams).map(([key, value]) => ({ key, value })),
        ],
        { success: 'working' },
      ),
      sendState('working', 'Working on that; the answer follows.'),
      sendState(
        'tell',
        '{{flow.data.result.message}} (job {{flow.data.jobId}}, for {{contact.channel.address}} from {{flow.channel.address}}; trigger.message is "{{trigger.message.Body}}")',
      ),
    ],
  );
}

const run = (definition: FlowDefinition, options: Partial<RunFlowOptions> = {}) =>
  runFlow({
    definition,
    baseUrl: fake.url,
    emulatorUrl: emulator.url,
    trigger: { kind: 'message', body: 'Where is my order?', from: CONTACT, to: NUMBER },
    maxRunMs: 20_000,
    ...options,
  });

describe('an execution the service starts through the REST API', () => {
  it('is waited for, claimed and run after the inbound one: the messages in order, both executions listed', async () => {
    const definition = flow({ promise: 'yes' });
    const result = await run(definition);
    const text = formatRun(result, definition);
    expect(result.messages.map((m) => [m.widget, m.to, m.from, m.body])).toEqual([
      ['working', CONTACT, NUMBER, 'Working on that; the answer follows.'],
      [
        'tell',
        CONTACT,
        NUMBER,
        `Your order ships tomorrow. (job JB${'1'.repeat(32)}, for ${CONTACT} from ${NUMBER}; trigger.message is "")`,
      ],
    ]);
    expect(result.path).toEqual(['Trigger', 'start', 'working', 'Trigger', 'tell']);
    expect(result.end).toEqual({ kind: 'completed', widget: 'tell', event: 'sent' });
    expect(result.executions?.map((e) => [e.startedBy, e.trigger, e.status, e.endedBy])).toEqual([
      ['inbound', 'incomingMessage', 'ended', 'flow-ended'],
      ['rest', 'incomingRequest', 'ended', 'flow-ended'],
    ]);
    expect(result.executions![0]!.sid).toBe(result.executionSid);
    expect(result.executions![1]!.data).toEqual({
      jobId: `JB${'1'.repeat(32)}`,
      status: 'COMPLETED',
      result: { message: 'Your order ships tomorrow.' },
    });
    // The --json report lists them; the text says which was started through the REST API.
    const report = runToJson(result, []);
    expect(
      report.executions.map((e) => ({ sid: e.sid, trigger: e.trigger, startedBy: e.startedBy, status: e.status })),
    ).toEqual([
      { sid: result.executionSid, trigger: 'incomingMessage', startedBy: 'inbound', status: 'ended' },
      { sid: result.executions![1]!.sid, trigger: 'incomingRequest', startedBy: 'rest', status: 'ended' },
    ]);
    expect(report.messages).toHaveLength(2);
    expect(text).toMatch(
      /Executions:\n.*incomingMessage \(inbound\)[^\n]*\n.*incomingRequest \(started through the REST API\)/,
    );
    expect(
      emulator
        .state()
        .executions.filter((e) => e.flowSid === result.flowSid)
        .map((e) => e.status),
    ).toEqual(['ended', 'ended']);
  });

  it('is not waited for when no reply promised one', async () => {
    const result = await run(flow({ promise: 'no' }));
    expect(result.executions?.map((e) => e.startedBy)).toEqual(['inbound']);
    expect(result.end).toEqual({ kind: 'completed', widget: 'working', event: 'sent' });
    expect(result.timeline.some((entry) => /waiting up to/.test(entry.text))).toBe(false);
  });

  it('not coming within the wait: a note, and the inbound execution is where the run ended', async () => {
    const result = await run(flow({ promise: 'yes', deliver: 'no' }), { restExecutionWaitMs: 300 });
    expect(result.executions?.map((e) => e.startedBy)).toEqual(['inbound']);
    expect(result.end).toEqual({ kind: 'completed', widget: 'working', event: 'sent' });
    expect(result.timeline.some((entry) => /no execution for \+15005550006 came within/.test(entry.text))).toBe(true);
  });

  it('is not run for a flow that has nothing on incomingRequest', async () => {
    const result = await run(flow({ promise: 'yes', deliver: 'no' }, false));
    expect(result.executions).toHaveLength(1);
  });
});

describe("Studio's one active execution per contact", () => {
  it('a message from a contact with an active execution in the flow starts none', async () => {
    const flowSid = `FW${'7'.repeat(32)}`;
    const busy = await fetch(`${emulator.url}/_emulator/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flowSid, contact: CONTACT, flowAddress: NUMBER, trigger: 'incomingMessage' }),
    });
    const { executionSid } = (await busy.json()) as { executionSid: string };
    const result = await run(flow({ promise: 'no' }), { flowSid });
    expect(result.end).toEqual({
      kind: 'error',
      widget: 'Trigger',
      message: expect.stringContaining(`already has execution ${executionSid} active in this flow`),
    });
    expect(result.path).toEqual([]);
    expect(result.messages).toEqual([]);
    expect(result.executions).toEqual([]);
  });

  it('an execution Studio ends from outside stops before its next widget', async () => {
    const definition = flow({ promise: 'no' });
    const start = definition.states.find((s) => s.name === 'start')!;
    start.properties.url = 'https://__SERVICE_DOMAIN__/end-me';
    start.properties.parameters = [
      { key: 'flowSid', value: '{{flow.flow_sid}}' },
      { key: 'sid', value: '{{flow.sid}}' },
    ];
    const result = await run(definition);
    expect(result.end).toEqual({ kind: 'execution-ended', widget: 'working', by: 'rest' });
    expect(result.messages).toEqual([]);
    expect(result.executions?.[0]).toMatchObject({ status: 'ended', endedBy: 'rest' });
  });
});
