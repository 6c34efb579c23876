/**
 * Every widget of Studio's library runs in the runner, voice and messaging, with small flows built
 * here: Gather (digits, speech, finishOnKey, numberOfDigits, timeout), Send & Wait for Reply,
 * Connect Call To, Enqueue Call, Record Voicemail, Record Call, Make Outgoing Call, Capture
 * Payments, Send to Flex, Run Subflow (parameters in, variables out), Fork Stream, Connect Virtual
 * Agent (v1 and v2), Send to Autopilot, the REST API trigger (flow.data), the trigger choice, and
 * external HTTP answered from fixtures (an unmocked one is an error naming the URL).
 */
import type { FlowDefinition } from '../../studio/flow-model';
import { runFlow, type FlowRun, type FlowTrigger, type RunFlowOptions } from '../../studio/runner';
import { ScriptedContact, type ContactStep } from '../../studio/runner/contact';
import { chooseTrigger, subflowsFor } from '../../studio/runner/flow-inputs';
import { withStartParameters } from '../../studio/runner/scenarios';
import { minimalHoldParent } from '../flows/flow-fixtures';
import { HttpFixtures } from '../../studio/runner/http-fixtures';
import { WIDGETS } from '../../studio/widget-catalog';
import { redirectState, sayState as say, smallFlow, type StateSpec } from './support';

/** A flow whose Trigger sends `events` (default a call) to `first`. */
const flowOf = (first: string, states: StateSpec[], events: string[] = ['incomingCall']): FlowDefinition =>
  smallFlow('widget library test', events, first, states);

/** Each event of the widget goes to a Set Variables named after it, so the path shows the event. */
function widget(
  name: string,
  type: string,
  properties: Record<string, unknown>,
  then: Record<string, string> = {},
): StateSpec {
  return { name, type, properties, transitions: WIDGETS[type]!.events.map((event) => ({ event, next: then[event] })) };
}

const run = (
  definition: FlowDefinition,
  steps: ContactStep[] = [],
  options: Partial<RunFlowOptions> = {},
  trigger: FlowTrigger = { kind: 'call' },
): Promise<FlowRun> =>
  runFlow({
    definition,
    baseUrl: 'http://127.0.0.1:9',
    trigger,
    contact: new ScriptedContact(steps),
    timeScale: 0.001,
    maxRunMs: 20_000,
    ...options,
  });

const said = (r: FlowRun) => r.heard.filter((a) => a.kind === 'say').map((a) => a.content);

describe('Gather Input On Call', () => {
  const menu = (props: Record<string, unknown> = {}) =>
    flowOf(
      'menu',
      [
        widget(
          'menu',
          'gather-input-on-call',
          { say: 'Press 1 for sales', timeout: 5, ...props },
          { keypress: 'pressed', speech: 'spoke', timeout: 'nothing' },
        ),
        say('pressed', 'You pressed {{widgets.menu.Digits}}'),
        say('spoke', 'You said {{widgets.menu.SpeechResult}}'),
        say('nothing', 'No input'),
      ],
      ['incomingCall', 'incomingMessage'],
    );

  it('plays its prompt, then takes the keys up to finishOnKey', async () => {
    const r = await run(menu(), [{ press: '42#9' }]);
    expect(r.path).toEqual(['Trigger', 'menu', 'pressed']);
    expect(said(r)).toEqual(['Press 1 for sales', 'You pressed 42']);
    expect(r.widgets.menu).toMatchObject({ Digits: '42', FinishedOnKey: '#' });
  });

  it('stops at numberOfDigits and takes speech as SpeechResult', async () => {
    const digits = await run(menu({ number_of_digits: 2 }), [{ widget: 'menu', press: '1234' }]);
    expect(digits.widgets.menu).toMatchObject({ Digits: '12' });
    const speech = await run(menu(), [{ say: 'sales please' }]);
    expect(speech.path.at(-1)).toBe('spoke');
    expect(said(speech).at(-1)).toBe('You said sales please');
  });

  it('times out on silence, on only the finish key, and a caller who hangs up ends the call', async () => {
    expect((await run(menu(), [{ silent: true }])).path.at(-1)).toBe('nothing');
    expect((await run(menu(), [{ press: '#' }])).path.at(-1)).toBe('nothing');
    expect((await run(menu(), [])).path.at(-1)).toBe('nothing');
    const hung = await run(menu(), [{ hangUp: true }]);
    expect(hung.end.kind).toBe('caller-hung-up');
  });

  it('needs a call: on a message the run ends saying so', async () => {
    const r = await run(menu(), [], {}, { kind: 'message', body: 'hi' });
    expect(r.end).toMatchObject({ kind: 'error', widget: 'menu' });
    expect(r.end.kind === 'error' && r.end.message).toMatch(/needs a phone call/);
  });
});

describe('Send & Wait for Reply', () => {
  const ask = flowOf(
    'ask',
    [
      widget(
        'ask',
        'send-and-wait-for-reply',
        { body: 'Reply YES to confirm', from: '{{flow.channel.address}}', timeout: '3600' },
        { incomingMessage: 'thanks', timeout: 'late' },
      ),
      {
        name: 'thanks',
        type: 'send-message',
        properties: {
          body: 'Got {{widgets.ask.inbound.Body}}',
          to: '{{contact.channel.address}}',
          from: '{{flow.channel.address}}',
        },
        transitions: [{ event: 'sent' }],
      },
      {
        name: 'late',
        type: 'send-message',
        properties: { body: 'No reply', to: '{{contact.channel.address}}', from: '{{flow.channel.address}}' },
        transitions: [{ event: 'sent' }],
      },
    ],
    ['incomingMessage'],
  );

  it('texts, then the contact replies (incomingMessage) or does not (timeout)', async () => {
    const replied = await run(ask, [{ reply: 'YES' }], {}, { kind: 'message', body: 'book', from: '+15550001111' });
    expect(replied.messages.map((m) => m.body)).toEqual(['Reply YES to confirm', 'Got YES']);
    expect(replied.messages[0]!.to).toBe('+15550001111');
    const silent = await run(ask, [], {}, { kind: 'message', body: 'book' });
    expect(silent.path.at(-1)).toBe('late');
    const failed = await run(ask, [{ event: 'deliveryFailure' }], {}, { kind: 'message', body: 'book' });
    expect(failed.end).toMatchObject({ kind: 'completed', event: 'deliveryFailure' });
  });
});

describe('voice widgets that wait on someone else', () => {
  const connect = flowOf('dial', [
    widget('dial', 'connect-call-to', { noun: 'number', to: '+15557654321', timeout: 20 }, { callCompleted: 'after' }),
    say('after', 'Dial status {{widgets.dial.DialCallStatus}}'),
  ]);

  it('Connect Call To: answered, busy, no answer, failed, and the caller hanging up', async () => {
    for (const [dial, status] of [
      ['answered', 'completed'],
      ['busy', 'busy'],
      ['no-answer', 'no-answer'],
      ['failed', 'failed'],
    ] as const) {
      const r = await run(connect, [{ dial }]);
      expect(said(r)).toEqual([`Dial status ${status}`]);
    }
    const hung = await run(connect, [{ hangUp: true }]);
    expect(hung.end).toMatchObject({ kind: 'completed', widget: 'dial', event: 'hangup' });
  });

  it('Enqueue Call, Record Voicemail, Record Call, Capture Payments, Fork Stream, virtual agents', async () => {
    const definition = flowOf('record', [
      widget('record', 'record-call', { record_call: true }, { success: 'stream' }),
      widget(
        'stream',
        'fork-stream',
        { stream_action: 'start', stream_url: 'wss://example.com/s', stream_name: 's1' },
        { next: 'pay' },
      ),
      widget('pay', 'capture-payments', { payment_amount: '10.00', currency: 'usd' }, { success: 'agent' }),
      widget('agent', 'connect-virtual-agent', { connector: 'dialogflow' }, { return: 'agent2' }),
      widget('agent2', 'connect-virtual-agent-v2', { connector_name: 'cx' }, { completed: 'voicemail' }),
      widget('voicemail', 'record-voicemail', { max_length: 60, timeout: 5 }, { recordingComplete: 'queue' }),
      widget('queue', 'enqueue-call', { queue_name: 'support' }, { callComplete: 'bye' }),
      say(
        'bye',
        'Paid {{widgets.pay.PaymentAmount}}, recorded {{widgets.voicemail.RecordingDuration}} s, queue {{widgets.queue.QueueResult}}',
      ),
    ]);
    const r = await run(definition, [{ widget: 'voicemail', seconds: 12 }]);
    expect(r.path).toEqual(['Trigger', 'record', 'stream', 'pay', 'agent', 'agent2', 'voicemail', 'queue', 'bye']);
    expect(said(r)).toEqual(['Paid 10.00, recorded 12 s, queue bridged']);
    expect(r.actions!.map((a) => a.type)).toEqual([
      'record-call',
      'fork-stream',
      'capture-payments',
      'connect-virtual-agent',
      'connect-virtual-agent-v2',
      'record-voicemail',
      'enqueue-call',
    ]);
    const failing = await run(definition, [{ widget: 'pay', event: 'maxFailedAttempts' }]);
    expect(failing.end).toMatchObject({ kind: 'completed', widget: 'pay', event: 'maxFailedAttempts' });
    const noAudio = await run(definition, [{ widget: 'voicemail', silent: true }]);
    expect(noAudio.end).toMatchObject({ widget: 'voicemail', event: 'noAudio' });
  });

  it('a step asking for an event the widget does not have ends the run saying so', async () => {
    const r = await run(connect, [{ event: 'busy' }]);
    expect(r.end.kind === 'error' && r.end.message).toMatch(/does not have/);
  });

  it('Send to Flex: an agent takes it, or the task cannot be created', async () => {
    const definition = flowOf(
      'flex',
      [
        widget('flex', 'send-to-flex', {
          workflow: `WW${'1'.repeat(32)}`,
          channel: `TC${'2'.repeat(32)}`,
          attributes: '{}',
        }),
      ],
      ['incomingCall', 'incomingMessage'],
    );
    expect((await run(definition)).end).toMatchObject({ event: 'callComplete' });
    expect((await run(definition, [{ event: 'failedToEnqueue' }])).end).toMatchObject({ event: 'failedToEnqueue' });
    expect((await run(definition, [], {}, { kind: 'message', body: 'agent' })).flexTasks).toHaveLength(1);
  });
});

describe('the REST API trigger and Make Outgoing Call', () => {
  const outbound = flowOf(
    'call_out',
    [
      widget(
        'call_out',
        'make-outgoing-call-v2',
        { to: '{{contact.channel.address}}', from: '{{flow.channel.address}}' },
        { answered: 'remind', busy: 'text' },
      ),
      say('remind', 'Hello {{flow.data.name}}, your appointment is at {{flow.data.time}}'),
      {
        name: 'text',
        type: 'send-message',
        properties: { body: 'We tried to call, {{flow.data.name}}' },
        transitions: [{ event: 'sent' }],
      },
    ],
    ['incomingRequest'],
  );

  it('flow.data holds the parameters; an answered outgoing call gives the execution a call', async () => {
    const trigger = chooseTrigger(outbound);
    expect(trigger.kind).toBe('request');
    const r = await run(
      outbound,
      [],
      {},
      { kind: 'request', to: '+15551112222', from: '+15553334444', parameters: { name: 'Ada', time: '3 pm' } },
    );
    expect(said(r)).toEqual(['Hello Ada, your appointment is at 3 pm']);
    expect(r.actions![0]!.text).toMatch(/calls \+15551112222 from \+15553334444: answered/);
    const busy = await run(
      outbound,
      [{ dial: 'busy' }],
      {},
      { kind: 'request', to: '+15551112222', parameters: { name: 'Ada' } },
    );
    expect(busy.messages).toEqual([expect.objectContaining({ to: '+15551112222', body: 'We tried to call, Ada' })]);
  });
});

describe('Send to Autopilot and Start Conversation', () => {
  it('Autopilot (retired) ends its session; a REST execution opens a Conversation', async () => {
    const bot = flowOf(
      'bot',
      [
        widget('bot', 'send-to-auto-pilot', {
          autopilot_assistant_sid: `UA${'1'.repeat(32)}`,
          body: '{{trigger.message.Body}}',
          from: 'x',
          timeout: 14400,
        }),
      ],
      ['incomingMessage'],
    );
    expect((await run(bot, [], {}, { kind: 'message', body: 'quiz' })).end).toMatchObject({
      kind: 'completed',
      event: 'sessionEnded',
    });
    const open = flowOf('open', [widget('open', 'start-conversation', {})], ['incomingRequest']);
    expect((await run(open, [], {}, { kind: 'request' })).end).toMatchObject({ event: 'created' });
  });
});

describe('Run Subflow', () => {
  const child = flowOf(
    'greet',
    [
      say('greet', 'Hello {{trigger.parent.parameters.name}} from {{trigger.call.From}}'),
      {
        name: 'result',
        type: 'set-variables',
        properties: {
          variables: [
            { key: 'tier', value: 'gold' },
            { key: 'echo', value: '{{trigger.parent.parameters.name}}' },
          ],
        },
        transitions: [{ event: 'next' }],
      },
    ].map((s, i, all) => (i === 0 ? { ...s, transitions: [{ event: 'audioComplete', next: all[1]!.name }] } : s)),
    ['incomingParent'],
  );
  const parent = flowOf('sub', [
    widget(
      'sub',
      'run-subflow',
      {
        flow_sid: `FW${'c'.repeat(32)}`,
        flow_revision: 'LatestPublished',
        parameters: [{ key: 'name', value: 'Ada' }],
      },
      { completed: 'after', failed: 'broken' },
    ),
    say('after', 'Tier {{widgets.sub.tier}} for {{widgets.sub.echo}}'),
    say('broken', 'The subflow failed'),
  ]);

  it('passes parameters in and hands Set Variables back as widgets.SUBFLOW.var', async () => {
    const r = await run(
      parent,
      [],
      { subflows: { [`FW${'c'.repeat(32)}`]: child } },
      { kind: 'call', from: '+15550009999' },
    );
    expect(r.path).toEqual(['Trigger', 'sub', 'sub/Trigger', 'sub/greet', 'sub/result', 'after']);
    expect(said(r)).toEqual(['Hello Ada from +15550009999', 'Tier gold for Ada']);
    expect(r.variables).toEqual({}); // the subflow's variables are its own
  });

  it('a subflow without a Subflow trigger fails; one not given is an error naming its SID (or completes under --auto)', async () => {
    const noEntry = flowOf('greet', [say('greet', 'hi')], ['incomingCall']);
    expect((await run(parent, [], { subflows: { '*': noEntry } })).path.at(-1)).toBe('broken');
    const missing = await run(parent);
    expect(missing.end.kind === 'error' && missing.end.message).toMatch(new RegExp(`FW${'c'.repeat(32)}.*--subflow`));
    const auto = await run(parent, [], { missingSubflow: 'complete' });
    expect(auto.path.at(-1)).toBe('after');
  });

  // A TwiML Redirect inside a subflow: Voice comes back to the parent's webhook, or to the
  // subflow's (what Studio does there is not documented): both return to this execution.
  const PARENT_SID = `FW${'a'.repeat(32)}`;
  const SUB_SID = `FW${'c'.repeat(32)}`;
  const ACCOUNT = `AC${'0'.repeat(32)}`;
  const holding = flowOf(
    'hold',
    [
      redirectState(
        'hold',
        {
          url: 'https://twiml.example.com/hold?flowSid={{trigger.parent.parameters.flowSid | default: flow.flow_sid}}',
          timeout: '60',
        },
        { return: 'done' },
      ),
      {
        name: 'done',
        type: 'set-variables',
        properties: { variables: [{ key: 'status', value: '{{widgets.hold.status}}' }] },
        transitions: [{ event: 'next' }],
      },
    ],
    ['incomingParent'],
  );
  const holdParent = (flowSid: string) =>
    flowOf('sub', [
      widget(
        'sub',
        'run-subflow',
        { flow_sid: SUB_SID, flow_revision: 'LatestPublished', parameters: [{ key: 'flowSid', value: flowSid }] },
        { completed: 'after', failed: 'broken' },
      ),
      say('after', 'Status {{widgets.sub.status}}'),
      say('broken', 'The subflow failed'),
    ]);
  /** TwiML on another host that sends the call back to the webhook of `target`. */
  const returning = (target: string) =>
    new HttpFixtures([
      {
        url: 'https://twiml.example.com/hold*',
        contentType: 'text/xml',
        body: `<Response><Redirect>https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${target}?FlowEvent=return&amp;status=COMPLETED</Redirect></Response>`,
      },
    ]);

  it("a TwiML Redirect inside the subflow returns through the parent's webhook or the subflow's", async () => {
    const viaParent = await run(holdParent('{{flow.flow_sid}}'), [], {
      flowSid: PARENT_SID,
      subflows: { [SUB_SID]: holding },
      http: returning(PARENT_SID),
    });
    expect(viaParent.path).toEqual(['Trigger', 'sub', 'sub/Trigger', 'sub/hold', 'sub/done', 'after']);
    expect(said(viaParent)).toEqual(['Status COMPLETED']);
    expect(viaParent.widgets['sub/hold']).toEqual({ status: 'COMPLETED' });

    const viaSubflow = await run(holdParent(SUB_SID), [], {
      flowSid: PARENT_SID,
      subflows: { [SUB_SID]: holding },
      http: returning(SUB_SID),
    });
    expect(said(viaSubflow)).toEqual(['Status COMPLETED']);
    expect(viaSubflow.timeline.some((e) => /the return names the subflow's webhook/.test(e.text))).toBe(true);

    // Inside the subflow flow.flow_sid is the parent's (the runner's reading; Studio's docs do not say).
    const byDefault = await run(holdParent(''), [], {
      flowSid: PARENT_SID,
      subflows: { [SUB_SID]: holding },
      http: returning(PARENT_SID),
    });
    expect(said(byDefault)).toEqual(['Status COMPLETED']);

    const elsewhere = await run(holdParent('{{flow.flow_sid}}'), [], {
      flowSid: PARENT_SID,
      subflows: { [SUB_SID]: holding },
      http: returning(`FW${'9'.repeat(32)}`),
    });
    expect(elsewhere.end).toMatchObject({
      kind: 'call-ended',
      reason: expect.stringMatching(/redirected to Studio flow FW9{32}/),
    });
  });

  it('finds a project subflow by its placeholder: __FLOW_SID_HOLD_SUBFLOW__ is flows/hold-subflow.json, unless another is given', () => {
    const parent = minimalHoldParent();
    const found = subflowsFor(parent);
    expect(Object.keys(found)).toEqual(['__FLOW_SID_HOLD_SUBFLOW__']);
    expect(found.__FLOW_SID_HOLD_SUBFLOW__!.description).toMatch(/^Subflow: the whole hold pattern/);
    expect(subflowsFor(parent, { '*': holding })).toEqual({ '*': holding });
    expect(subflowsFor(parent, { __FLOW_SID_HOLD_SUBFLOW__: holding }).__FLOW_SID_HOLD_SUBFLOW__).toBe(holding);
    // withStartParameters changes the subflow's /jobs/start too, and the copy carries it.
    const changed = subflowsFor(withStartParameters(parent, { simulateSeconds: '3' })).__FLOW_SID_HOLD_SUBFLOW__!;
    const start = changed.states.find((state) => state.name === 'start_job')!;
    expect(start.properties.parameters).toEqual(expect.arrayContaining([{ key: 'simulateSeconds', value: '3' }]));
  });
});

describe('external HTTP', () => {
  const lookup = flowOf(
    'lookup',
    [
      widget(
        'lookup',
        'make-http-request',
        {
          method: 'GET',
          content_type: 'application/json',
          url: 'https://crm.example.com/customers?phone={{contact.channel.address}}',
        },
        { success: 'hello', failed: 'sorry' },
      ),
      say('hello', 'Hello {{widgets.lookup.parsed.name}}'),
      say('sorry', 'Lookup failed with {{widgets.lookup.status_code}}'),
    ],
    ['incomingCall'],
  );

  it('is answered from the fixtures (first match, replies in turn)', async () => {
    const http = new HttpFixtures([
      {
        url: 'https://crm.example.com/customers',
        method: 'GET',
        replies: [{ body: { name: 'Ada' } }, { status: 503, body: 'down' }],
      },
    ]);
    const r = await run(lookup, [], { http });
    expect(said(r)).toEqual(['Hello Ada']);
    expect(r.requests[0]).toMatchObject({ mocked: 'fixture', status: 200 });
    expect(said(await run(lookup, [], { http }))).toEqual(['Lookup failed with 503']);
  });

  it('an unmocked request ends the run with an error naming the URL; --auto answers 200 {}', async () => {
    const r = await run(lookup);
    expect(r.end.kind).toBe('error');
    expect(r.end.kind === 'error' && r.end.message).toMatch(
      /unmocked HTTP request: GET https:\/\/crm\.example\.com\/customers\?phone=/,
    );
    const auto = await run(lookup, [], { http: new HttpFixtures([], true) });
    expect(said(auto)).toEqual(['Hello ']);
    expect(auto.requests[0]).toMatchObject({ mocked: 'generated', status: 200 });
  });
});

describe('the trigger choice and the whole library', () => {
  it('picks what the flow handles: a call first, else a message, a Conversation, a REST request, a subflow', () => {
    const only = (events: string[]) => chooseTrigger(flowOf('x', [say('x', 'hi')], events)).kind;
    expect(only(['incomingCall', 'incomingMessage'])).toBe('call');
    expect(only(['incomingMessage'])).toBe('message');
    expect(only(['incomingConversationMessage'])).toBe('conversation');
    expect(only(['incomingRequest'])).toBe('request');
    expect(only(['incomingParent'])).toBe('parent');
    expect(
      chooseTrigger(flowOf('x', [say('x', 'hi')], ['incomingCall', 'incomingMessage']), { kind: 'message', body: 'b' })
        .kind,
    ).toBe('message');
  });

  it('every widget type of the catalog has a handler (nothing is "not simulated")', async () => {
    for (const type of Object.keys(WIDGETS).filter((t) => t !== 'trigger')) {
      const definition = flowOf(
        'w',
        [{ name: 'w', type, properties: { say: 'x', url: 'https://__SERVICE_DOMAIN__/x' }, transitions: [] }],
        ['incomingCall'],
      );
      const r = await run(definition, [], { missingSubflow: 'complete', http: new HttpFixtures([], true) });
      expect(`${type}: ${r.end.kind === 'error' ? r.end.message : 'ok'}`).not.toMatch(/not simulated/);
    }
  });
});
