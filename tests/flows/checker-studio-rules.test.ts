/**
 * Studio's own rules, on small flows built here: errors only for what Studio refuses or what surely
 * mis-runs, warnings for what Studio allows or where its rule is not known.
 */
import { checkFlow, formatFault, type Fault } from '../../studio/checker';
import { flowWith, type FlowDefinition, type FlowState, type Transition } from '../../studio/flow-model';

const FILE = 'synthetic.json';

function widget(name: string, type: string, transitions: Transition[], properties: Record<string, unknown> = {}): FlowState {
  return { name, type, transitions, properties: { offset: { x: 0, y: 0 }, ...properties } };
}

/** A flow whose Trigger starts `first` on `event`, followed by `states`. */
function flow(event: string, first: string, states: FlowState[]): FlowDefinition {
  return flowWith('synthetic', [{ event, next: first }], states);
}

function check(definition: FlowDefinition): Fault[] {
  return checkFlow(definition, { fileName: FILE, serviceFunctions: null });
}

const lines = (faults: Fault[], severity: Fault['severity']) =>
  faults.filter((fault) => fault.severity === severity).map(formatFault);

const sendMessage = (name: string, properties: Record<string, unknown>) =>
  widget(name, 'send-message', [{ event: 'sent' }, { event: 'failed' }], { from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', ...properties });

describe('content templates', () => {
  it.each<[string, FlowDefinition]>([
    [
      'accepts Send Message with a content_sid and no body',
      flow('incomingMessage', 'welcome', [
        sendMessage('welcome', {
          message_type: 'content_template',
          content_sid: 'HX0123456789abcdef0123456789abcdef',
          content_variables: [{ key: '1', value: '{{trigger.message.ProfileName}}' }],
        }),
      ]),
    ],
    [
      'accepts Send & Wait for Reply with a content_sid and no body',
      flow('incomingConversationMessage', 'ask', [
        widget('ask', 'send-and-wait-for-reply', [{ event: 'incomingMessage' }, { event: 'timeout' }, { event: 'deliveryFailure' }], {
          from: '{{flow.channel.address}}',
          timeout: '3600',
          content_sid: 'HX0123456789abcdef0123456789abcdef',
        }),
      ]),
    ],
  ])('%s', (_name, definition) => {
    expect(check(definition).map(formatFault)).toEqual([]);
  });

  it('rejects a message with neither body nor content_sid, and a content template with an empty content_sid', () => {
    const definition = flow('incomingMessage', 'blank', [
      widget('blank', 'send-message', [{ event: 'sent', next: 'template' }, { event: 'failed' }], { from: '+15550100', to: '+15550101', body: '  ' }),
      sendMessage('template', { message_type: 'content_template', content_sid: '', body: 'fallback' }),
    ]);
    expect(lines(check(definition), 'error')).toEqual([
      `${FILE}: state "blank", property "body|content_sid": send-message needs one of body, content_sid, and all are missing or empty`,
      `${FILE}: state "template", property "content_sid": is required by send-message when message_type is "content_template", and is missing or empty`,
    ]);
  });
});

describe('widgets of the current library', () => {
  it('accepts Connect Virtual Agent v2 with its documented transitions', () => {
    const definition = flow('incomingCall', 'agent', [
      widget(
        'agent',
        'connect-virtual-agent-v2',
        [{ event: 'completed' }, { event: 'live-agent-handoff', next: 'to_flex' }, { event: 'hangup' }, { event: 'failed' }],
        { channel: 'voice', connector_name: 'my-dialogflow-cx', status_callback_method: 'POST', timeout: 300 },
      ),
      widget('to_flex', 'send-to-flex', [{ event: 'callComplete' }, { event: 'failedToEnqueue' }, { event: 'callFailure' }], {
        workflow: 'WW0123456789abcdef0123456789abcdef',
        channel: 'TC0123456789abcdef0123456789abcdef',
        attributes: '{"handoff": {{widgets.agent.VirtualAgentProviderData.AgentHandoffParameters | to_json}}}',
      }),
    ]);
    expect(check(definition).map(formatFault)).toEqual([]);
  });

  it('warns, saying so, about an event of a widget whose events are known only in part', () => {
    const definition = flow('incomingCall', 'agent', [
      widget('agent', 'connect-virtual-agent-v2', [{ event: 'sessionEnded' }], { channel: 'voice', connector_name: 'cx' }),
    ]);
    const faults = check(definition);
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "agent", property "transitions[0].event": warning: "sessionEnded" is not an event connect-virtual-agent-v2 is known to fire (its events are known only in part: completed, live-agent-handoff, hangup, failed, paused, timeout); whether Studio accepts it is not known, and if the widget never fires it this transition is never taken`,
    ]);
  });

  it('accepts Connect Call To without a caller_id (Studio defaults it)', () => {
    const definition = flow('incomingCall', 'dial', [
      widget('dial', 'connect-call-to', [{ event: 'callCompleted' }, { event: 'hangup' }], { noun: 'number', to: '+15550100', timeout: 30 }),
    ]);
    expect(check(definition).map(formatFault)).toEqual([]);
  });

  it('accepts every Trigger event: call, message, Conversation, REST API and subflow', () => {
    const say = widget('hello', 'say-play', [{ event: 'audioComplete' }], { say: 'Hello' });
    const definition = flow('incomingCall', 'hello', [say]);
    definition.states[0]!.transitions.push(
      { event: 'incomingMessage' },
      { event: 'incomingConversationMessage' },
      { event: 'incomingRequest' },
      { event: 'incomingParent' },
    );
    expect(check(definition).map(formatFault)).toEqual([]);
  });

  it('warns, without rejecting, about a widget type it does not know, saying the rule is unknown', () => {
    const definition = flow('incomingCall', 'future', [widget('future', 'ask-the-oracle', [{ event: 'answered' }], { question: 42 })]);
    const faults = check(definition);
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "future", property "type": warning: "ask-the-oracle" is not a widget type this checker knows, so Studio's rule for it is not known: its properties and events are not checked`,
    ]);
  });
});

describe('graph rules', () => {
  it('warns about a disconnected widget (Studio keeps it)', () => {
    const definition = flow('incomingCall', 'hello', [
      widget('hello', 'say-play', [{ event: 'audioComplete' }], { say: 'Hello' }),
      widget('spare', 'say-play', [{ event: 'audioComplete' }], { say: 'Never heard' }),
    ]);
    const faults = check(definition);
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "spare", property "name": warning: is disconnected: no transition from the Trigger leads here, so it never runs (Studio keeps such widgets)`,
    ]);
  });

  it('rejects a dangling next, even on a disconnected widget', () => {
    const definition = flow('incomingCall', 'hello', [
      widget('hello', 'say-play', [{ event: 'audioComplete' }], { say: 'Hello' }),
      widget('spare', 'say-play', [{ event: 'audioComplete', next: 'Goodbye' }], { say: 'Never heard' }),
    ]);
    expect(lines(check(definition), 'error')).toEqual([
      `${FILE}: state "spare", property "transitions[0].next": names state "Goodbye", which this flow does not have`,
    ]);
  });

  it('reads an empty next as the end of the execution', () => {
    const definition = flow('incomingCall', 'hello', [widget('hello', 'say-play', [{ event: 'audioComplete', next: '' }], { say: 'Hello' })]);
    expect(check(definition).map(formatFault)).toEqual([]);
  });

  it('rejects Liquid reading a widget the flow does not have', () => {
    const definition = flow('incomingMessage', 'reply', [sendMessage('reply', { body: 'Open {{widgets.check_hours.parsed.open}}' })]);
    expect(lines(check(definition), 'error')).toEqual([
      `${FILE}: state "reply", property "body": reads widgets.check_hours, but this flow has no state named "check_hours"`,
    ]);
  });

  it('rejects Liquid that does not parse', () => {
    const definition = flow('incomingMessage', 'reply', [sendMessage('reply', { body: 'Hi {% if trigger.message.Body %}there' })]);
    const errors = lines(check(definition), 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^synthetic\.json: state "reply", property "body": Liquid does not parse: /);
  });
});

describe('required fields', () => {
  it('rejects a required field that is empty, as a template committed with it blank', () => {
    const definition = flow('incomingCall', 'route', [
      widget('route', 'split-based-on', [{ event: 'noMatch' }], { input: '' }),
    ]);
    expect(lines(check(definition), 'error')).toEqual([`${FILE}: state "route", property "input": is required by split-based-on and is empty`]);
  });

  it('rejects a required field that is missing', () => {
    const definition = flow('incomingCall', 'fn', [widget('fn', 'run-function', [{ event: 'success' }, { event: 'fail' }], {})]);
    expect(lines(check(definition), 'error')).toEqual([`${FILE}: state "fn", property "url": is required by run-function and is missing`]);
  });
});

describe('loops (Studio stops an execution at run time, so they are warnings)', () => {
  const retry = () =>
    flow('incomingCall', 'lookup', [
      widget('lookup', 'run-function', [{ event: 'success', next: 'found' }, { event: 'fail' }], { url: 'https://example.com/lookup' }),
      widget('found', 'split-based-on', [
        { event: 'noMatch', next: 'create' },
        { event: 'match', conditions: [{ friendly_name: 'yes', arguments: ['{{widgets.lookup.parsed.id}}'], type: 'is_not_blank', value: '' }] },
      ], { input: '{{widgets.lookup.parsed.id}}' }),
      widget('create', 'run-function', [{ event: 'success', next: 'lookup' }, { event: 'fail' }], { url: 'https://example.com/create' }),
    ]);

  it('warns about a loop without a counter', () => {
    const faults = check(retry());
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "lookup", property "transitions[0].next": warning: starts a loop that no counter bounds (lookup -> found -> create -> lookup): ` +
        'Studio ends the execution when one widget runs 10 times; count passes in Set Variables and leave the loop from a Split on the count',
    ]);
  });

  it('warns about a counter that lets a widget run 10 times in a row', () => {
    const definition = flow('incomingCall', 'count', [
      widget('count', 'set-variables', [{ event: 'next', next: 'enough' }], { variables: [{ key: 'n', value: '{{flow.variables.n | plus: 1}}' }] }),
      widget('enough', 'split-based-on', [
        { event: 'noMatch', next: 'count' },
        { event: 'match', conditions: [{ friendly_name: 'done', arguments: ['{{flow.variables.n}}'], type: 'equal_to', value: '10' }] },
      ], { input: '{{flow.variables.n}}' }),
    ]);
    const faults = check(definition);
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "enough", property "transitions[1].conditions[0].value": warning: lets the loop run 10 times on flow.variables.n; ` +
        'Studio ends the execution when one widget runs 10 times, so leave the loop well before that',
    ]);
  });
});

describe('other rules Studio does not state', () => {
  it('warns about a split condition type not documented, and about an event listed twice', () => {
    const definition = flow('incomingCall', 'route', [
      widget('route', 'split-based-on', [
        { event: 'noMatch', next: 'hello' },
        { event: 'noMatch' },
        { event: 'match', next: 'hello', conditions: [{ friendly_name: 'x', arguments: ['{{trigger.call.From}}'], type: 'sounds_like', value: 'x' }] },
      ], { input: '{{trigger.call.From}}' }),
      widget('hello', 'say-play', [{ event: 'audioComplete' }], { say: 'Hello' }),
    ]);
    const faults = check(definition);
    expect(lines(faults, 'error')).toEqual([]);
    expect(lines(faults, 'warning')).toEqual([
      `${FILE}: state "route", property "transitions[1].event": warning: "noMatch" appears more than once; which transition Studio takes, or whether it accepts this, is not known`,
      `${FILE}: state "route", property "transitions[2].conditions[0].type": warning: "sounds_like" is not a documented split condition type; Studio's rule for it is not known`,
    ]);
  });
});
