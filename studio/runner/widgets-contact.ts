/**
 * Widgets that wait on someone: the caller (Gather, Record Voicemail, Capture Payments), the
 * contact's reply (Send & Wait for Reply), a party the call goes to (Connect Call To, Make Outgoing
 * Call), a queue or an agent (Enqueue Call, Send to Flex), a bot (Connect Virtual Agent, Send to
 * Autopilot). Each asks the run's Contact (contact.ts) what happens and fires the widget's event
 * with the outputs Studio gives it. Waits on the caller's side (a Gather's timeout, a conversation,
 * a recording) last their length scaled by timeScale; a text reply's timeout does not hold the run.
 *
 * Where Studio's exact behaviour is not documented, the plain reading is played (README.md, "What
 * it simulates").
 */
import crypto from 'node:crypto';
import type { FlowState } from '../flow-model';
import { widgetSpec } from '../widget-catalog';
import { sayDurationSeconds } from './audio';
import { RunInterrupted, waitInRun } from './clock';
import type { ContactAsk, ContactStep } from './contact';
import type { WidgetEnv, WidgetResult } from './widgets';

type Handler = (state: FlowState, env: WidgetEnv) => Promise<WidgetResult>;

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
const sid = (prefix: string) => prefix + crypto.randomBytes(16).toString('hex');
const flag = (value: unknown, otherwise: boolean): boolean =>
  value === undefined || value === '' ? otherwise : value === true || String(value).toLowerCase() === 'true';
const num = (value: unknown, otherwise: number): number => {
  const n = Number(value);
  return value === undefined || value === '' || !Number.isFinite(n) ? otherwise : n;
};

/** A widget that needs a phone call ran in an execution without one (a message, a REST request). */
export class NeedsACallError extends Error {}

/** A scenario step that does not fit the widget that took it. */
export class ContactStepError extends Error {}

function needCall(state: FlowState, env: WidgetEnv) {
  if (env.call) return env.call;
  throw new NeedsACallError(
    `${state.type} "${state.name}" needs a phone call, but this execution has none (it was started by ${env.triggerEvent})`,
  );
}

/** Waits on the caller's side for `seconds` (scaled like Say and Play). */
function pass(env: WidgetEnv, seconds: number): Promise<void> {
  return waitInRun(Math.max(0, seconds) * 1000 * env.execution.timeScale, env.execution.signal);
}

function ask(
  state: FlowState,
  env: WidgetEnv,
  kind: ContactAsk['kind'],
  extra: Partial<ContactAsk> = {},
): ContactStep | undefined {
  const events = widgetSpec(state.type)?.events ?? state.transitions.map((t) => t.event);
  const step = env.contact.answer({ widget: env.widgetName, type: state.type, kind, events, ...extra });
  if (step?.event !== undefined && !events.includes(step.event)) {
    throw new ContactStepError(
      `the step for ${env.widgetName} asks for event "${step.event}", which ${state.type} does not have (${events.join(', ')})`,
    );
  }
  return step;
}

/** The caller hangs up at this widget: its `hangup` event, or the execution ends. */
function callerHangsUp(state: FlowState, env: WidgetEnv, outputs?: Record<string, unknown>): WidgetResult {
  env.execution.log(env.widgetName, 'voice', 'the caller hangs up');
  void env.call?.hangUp();
  if (state.transitions.some((t) => t.event === 'hangup'))
    return { event: 'hangup', outputs, summary: 'the caller hung up' };
  throw new RunInterrupted({ kind: 'hangup' });
}

/** A Say or Play prompt (Gather, Capture Payments); returns once it has been heard. */
async function prompt(state: FlowState, env: WidgetEnv): Promise<void> {
  const { execution } = env;
  const props = state.properties;
  if (props.say !== undefined && str(props.say) !== '') {
    const text = await execution.context.render(str(props.say));
    const seconds = sayDurationSeconds(text);
    await execution.listen(
      env.widgetName,
      { kind: 'say', content: text, seconds },
      { label: `says "${text}" (${seconds.toFixed(1)} s)` },
    );
  } else if (props.play !== undefined && str(props.play) !== '') {
    const url = execution.urls.resolve(await execution.context.render(str(props.play)));
    const length = await execution.audio.of(url);
    if (length.note) execution.log(env.widgetName, 'note', length.note, 1);
    await execution.listen(
      env.widgetName,
      { kind: 'play', content: url, seconds: length.seconds },
      { label: `plays ${execution.urls.display(url)} (${length.seconds.toFixed(1)} s)` },
    );
  }
}

const gather: Handler = async (state, env) => {
  needCall(state, env);
  const props = state.properties;
  const timeout = num(props.timeout, 5);
  const finishOnKey = props.finish_on_key === undefined ? '#' : str(props.finish_on_key);
  const numberOfDigits = Math.max(0, Math.floor(num(props.number_of_digits, 0)));
  await prompt(state, env);
  const step = ask(state, env, 'gather', { numberOfDigits });
  if (step?.hangUp) return callerHangsUp(state, env);
  const timedOut = async (why: string): Promise<WidgetResult> => {
    await pass(env, timeout);
    return { event: 'timeout', summary: `${why}: no input within ${timeout} s` };
  };
  if (step?.event === 'timeout' || step?.silent || step === undefined)
    return timedOut('the caller says and presses nothing');
  if (step.say !== undefined || step.event === 'speech') {
    const speech = step.say ?? 'yes';
    await pass(env, sayDurationSeconds(speech));
    return {
      event: 'speech',
      outputs: { SpeechResult: speech, Confidence: '0.9', ...step.outputs },
      summary: `the caller says "${speech}"`,
    };
  }
  const keys = step.press ?? (step.event === 'keypress' ? '1' : '');
  let digits = keys;
  let finishedOnKey = '';
  const at = finishOnKey === '' ? -1 : keys.indexOf(finishOnKey);
  if (at !== -1) {
    digits = keys.slice(0, at);
    finishedOnKey = finishOnKey;
  }
  let complete = finishedOnKey !== '';
  if (numberOfDigits > 0 && digits.length >= numberOfDigits) {
    digits = digits.slice(0, numberOfDigits);
    complete = true;
  }
  await pass(env, keys.length * 0.3);
  // Without the finish key or enough digits, Twilio waits `timeout` seconds, then takes what came.
  if (!complete && digits !== '') await pass(env, timeout);
  if (digits === '') return timedOut(`the caller presses ${keys === '' ? 'nothing' : `only ${JSON.stringify(keys)}`}`);
  const how = complete ? (finishedOnKey ? ` then ${finishedOnKey}` : '') : ` (then ${timeout} s of nothing)`;
  return {
    event: 'keypress',
    outputs: { Digits: digits, FinishedOnKey: finishedOnKey, ...step.outputs },
    summary: `the caller presses ${digits}${how}`,
  };
};

const DIAL_EVENTS: Record<NonNullable<ContactStep['dial']>, string> = {
  answered: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
};

const connectCallTo: Handler = async (state, env) => {
  needCall(state, env);
  const { execution } = env;
  const props = state.properties;
  const noun = str(props.noun) || 'number';
  const to = await execution.context.render(str(props.to ?? props.sip_endpoint));
  const timeout = num(props.timeout, 30);
  const timeLimit = num(props.time_limit, 14_400);
  const step = ask(state, env, 'outcome');
  if (step?.hangUp || step?.event === 'hangup')
    return callerHangsUp(state, env, { DialCallStatus: 'completed', DialCallDuration: '0' });
  const dial = step?.dial ?? 'answered';
  const dialSid = sid('CA');
  execution.act(env.widgetName, state.type, `dials ${noun} ${to || '(nobody)'}: ${dial}`);
  let seconds = 0;
  if (dial === 'answered') {
    seconds = Math.min(step?.seconds ?? 5, timeLimit);
    execution.log(
      env.widgetName,
      'voice',
      `connects the caller to ${noun} ${to || '(nobody)'}: answered; they talk for ${seconds} s`,
    );
    await pass(env, seconds);
  } else if (dial === 'no-answer') {
    execution.log(
      env.widgetName,
      'voice',
      `connects the caller to ${noun} ${to || '(nobody)'}: no answer within ${timeout} s`,
    );
    await pass(env, timeout);
  } else {
    execution.log(env.widgetName, 'voice', `connects the caller to ${noun} ${to || '(nobody)'}: ${dial}`);
  }
  const status = DIAL_EVENTS[dial];
  return {
    event: 'callCompleted',
    outputs: { DialCallStatus: status, DialCallDuration: String(seconds), DialCallSid: dialSid, ...step?.outputs },
    summary: `the dialled call ends: DialCallStatus=${status}`,
  };
};

const recordVoicemail: Handler = async (state, env) => {
  needCall(state, env);
  const { execution } = env;
  const props = state.properties;
  if (flag(props.play_beep, true))
    await execution.listen(env.widgetName, { kind: 'play', content: 'beep', seconds: 0.5 }, { label: 'beep' });
  const step = ask(state, env, 'outcome');
  const timeout = num(props.timeout, 5);
  const maxLength = num(props.max_length, 3600);
  const recording = (seconds: number) => {
    const recordingSid = sid('RE');
    const outputs: Record<string, unknown> = {
      RecordingSid: recordingSid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${execution.context.ids.accountSid}/Recordings/${recordingSid}`,
      RecordingDuration: String(seconds),
      Digits: str(props.finish_on_key) || 'hangup',
    };
    if (flag(props.transcribe, false)) outputs.TranscriptionText = step?.say ?? '(a message)';
    return { ...outputs, ...step?.outputs };
  };
  if (step?.event === 'noAudio' || step?.silent) {
    await pass(env, timeout);
    return { event: 'noAudio', summary: `the caller says nothing for ${timeout} s` };
  }
  const seconds = Math.min(step?.seconds ?? 5, maxLength);
  await pass(env, seconds);
  execution.act(env.widgetName, state.type, `records a voicemail of ${seconds} s`);
  if (step?.hangUp || step?.event === 'hangup') return callerHangsUp(state, env, recording(seconds));
  return {
    event: 'recordingComplete',
    outputs: recording(seconds),
    summary: `the caller leaves a ${seconds} s message`,
  };
};

const recordCall: Handler = async (state, env) => {
  if (!env.call)
    return { event: 'failed', summary: `no call to record (the execution was started by ${env.triggerEvent})` };
  const on = flag(state.properties.record_call, true);
  env.execution.act(env.widgetName, state.type, on ? 'starts recording the call' : 'stops recording the call');
  return {
    event: 'success',
    outputs: on ? { RecordingSid: sid('RE') } : {},
    summary: on ? 'starts recording the call' : 'stops recording the call',
  };
};

const enqueueCall: Handler = async (state, env) => {
  needCall(state, env);
  const { execution } = env;
  const props = state.properties;
  const queue = await execution.context.render(str(props.queue_name));
  const workflow = await execution.context.render(str(props.workflow_sid));
  if (queue === '' && workflow === '')
    return { event: 'failedToEnqueue', summary: 'no queue name and no workflow: nothing to enqueue on' };
  const where = workflow ? `workflow ${workflow}` : `queue ${queue}`;
  const step = ask(state, env, 'outcome');
  const queueSid = sid('QU');
  if (step?.event === 'failedToEnqueue' || step?.event === 'callFailure')
    return {
      event: step.event,
      outputs: { QueueSid: queueSid, QueueResult: 'error' },
      summary: `${where}: ${step.event}`,
    };
  const seconds = step?.seconds ?? 5;
  if (props.wait_url)
    execution.log(
      env.widgetName,
      'note',
      `the caller waits in ${where}; its wait URL's music is heard as silence here`,
    );
  await pass(env, seconds);
  if (step?.hangUp) {
    void env.call?.hangUp();
    return {
      event: 'callComplete',
      outputs: { QueueSid: queueSid, QueueResult: 'hangup', QueueTime: String(seconds) },
      summary: `the caller hangs up after ${seconds} s in ${where}`,
    };
  }
  execution.act(env.widgetName, state.type, `enqueues the call on ${where}; an agent takes it after ${seconds} s`);
  return {
    event: 'callComplete',
    outputs: { QueueSid: queueSid, QueueResult: 'bridged', QueueTime: String(seconds), ...step?.outputs },
    summary: `waits ${seconds} s in ${where}; an agent takes the call`,
  };
};

const PAYMENT_EVENTS = ['success', 'maxFailedAttempts', 'providerError', 'payInterrupted', 'hangup', 'validationError'];

const capturePayments: Handler = async (state, env) => {
  needCall(state, env);
  const { execution } = env;
  const props = state.properties;
  const amount = await execution.context.render(str(props.payment_amount));
  const step = ask(state, env, 'outcome');
  if (step?.hangUp || step?.event === 'hangup') return callerHangsUp(state, env, { Result: 'call-interrupted' });
  await pass(env, step?.seconds ?? 10);
  const event = step?.event && PAYMENT_EVENTS.includes(step.event) ? step.event : 'success';
  const outputs: Record<string, unknown> =
    event === 'success'
      ? {
          Result: 'success',
          PaymentConfirmationCode: `ch_${crypto.randomBytes(8).toString('hex')}`,
          PaymentCardNumber: 'xxxx-xxxx-xxxx-1111',
          PaymentCardType: 'visa',
          ExpirationDate: '1230',
          PaymentToken: `tok_${crypto.randomBytes(8).toString('hex')}`,
          PaymentAmount: amount,
        }
      : { Result: event, PaymentError: event };
  execution.act(
    env.widgetName,
    state.type,
    `captures a payment of ${amount || '(no amount)'} ${str(props.currency) || 'usd'}: ${event}`,
  );
  return { event, outputs: { ...outputs, ...step?.outputs }, summary: `the caller enters a card: ${event}` };
};

const makeOutgoingCall: Handler = async (state, env) => {
  const { execution } = env;
  const { contact, flow } = execution.context.addresses();
  const to = (await execution.context.render(str(state.properties.to))) || contact;
  const from = (await execution.context.render(str(state.properties.from))) || flow;
  if (env.call) return { event: 'failed', summary: 'the execution already has a call: a second one is not placed' };
  const step = ask(state, env, 'outcome');
  const dial =
    step?.dial ??
    (step?.event === 'busy'
      ? 'busy'
      : step?.event === 'noAnswer'
        ? 'no-answer'
        : step?.event === 'failed'
          ? 'failed'
          : 'answered');
  const event = { answered: 'answered', busy: 'busy', 'no-answer': 'noAnswer', failed: 'failed' }[dial];
  execution.act(env.widgetName, state.type, `calls ${to} from ${from}: ${dial}`);
  if (dial !== 'answered')
    return { event, outputs: { CallStatus: dial, To: to, From: from }, summary: `calls ${to}: ${dial}` };
  const call = env.placeCall(to, from);
  const outputs: Record<string, unknown> = {
    CallSid: call.callSid,
    CallStatus: 'in-progress',
    To: to,
    From: from,
    ...step?.outputs,
  };
  if (flag(state.properties.detect_answering_machine, false) || str(state.properties.machine_detection) !== '')
    outputs.AnsweredBy = 'human';
  return { event, outputs, summary: `calls ${to} from ${from}: answered` };
};

const forkStream: Handler = async (state, env) => {
  needCall(state, env);
  const { execution } = env;
  const action = str(state.properties.stream_action) || 'start';
  const url = await execution.context.render(str(state.properties.stream_url));
  const name = await execution.context.render(str(state.properties.stream_name));
  const text =
    action === 'stop'
      ? `stops media stream ${name || '(unnamed)'}`
      : `starts a media stream ${name ? `${name} ` : ''}to ${url || '(no URL)'} (${str(state.properties.stream_track) || 'inbound_track'})`;
  execution.act(env.widgetName, state.type, text);
  return { event: 'next', outputs: action === 'stop' ? {} : { StreamSid: sid('MZ') }, summary: text };
};

const connectVirtualAgent: Handler = async (state, env) => {
  needCall(state, env);
  const step = ask(state, env, 'outcome');
  if (step?.hangUp || step?.event === 'hangup') return callerHangsUp(state, env);
  await pass(env, step?.seconds ?? 5);
  const connector = await env.execution.context.render(str(state.properties.connector));
  env.execution.act(env.widgetName, state.type, `talks with virtual agent ${connector || '(no connector)'}`);
  return {
    event: step?.event ?? 'return',
    outputs: { VirtualAgentStatus: 'completed', ...step?.outputs },
    summary: `the virtual agent ${connector} hands the call back`,
  };
};

const connectVirtualAgentV2: Handler = async (state, env) => {
  const voice =
    str(state.properties.channel).toLowerCase() !== 'conversation' &&
    str(state.properties.channel).toLowerCase() !== 'messaging';
  if (voice) needCall(state, env);
  const step = ask(state, env, 'outcome');
  if (step?.hangUp) return callerHangsUp(state, env);
  await pass(env, step?.seconds ?? 5);
  const connector = await env.execution.context.render(str(state.properties.connector_name));
  const event = step?.event ?? 'completed';
  env.execution.act(
    env.widgetName,
    state.type,
    `a session with virtual agent ${connector || '(no connector)'}: ${event}`,
  );
  return {
    event,
    outputs: { Status: event, SessionId: sid('VS'), ...step?.outputs },
    summary: `the virtual agent ${connector || ''} session ends: ${event}`,
  };
};

const sendToAutopilot: Handler = async (state, env) => {
  const { execution } = env;
  const body = await execution.context.render(str(state.properties.body));
  const assistant = await execution.context.render(str(state.properties.autopilot_assistant_sid));
  const step = ask(state, env, 'outcome');
  const event = step?.event ?? 'sessionEnded';
  execution.act(env.widgetName, state.type, `hands "${body}" to Autopilot assistant ${assistant}: ${event}`);
  return {
    event,
    outputs: { CurrentTask: str(state.properties.target_task) || 'fallback', memory: {}, ...step?.outputs },
    summary: `Autopilot assistant ${assistant || '(none)'} (retired; played as a session that ends): ${event}`,
  };
};

const startConversation: Handler = async (state, env) => {
  if (env.triggerEvent !== 'incomingRequest' || env.call)
    return { event: 'failed', summary: 'the execution already has a channel' };
  const conversationSid = sid('CH');
  env.execution.act(env.widgetName, state.type, `opens Conversation ${conversationSid}`);
  return {
    event: 'created',
    outputs: { ConversationSid: conversationSid },
    summary: `opens Conversation ${conversationSid}`,
  };
};

const sendAndWaitForReply: Handler = async (state, env) => {
  const { execution } = env;
  const { context } = execution;
  const message = await composeMessage(state, env);
  const timeout = num(state.properties.timeout, 3600);
  const outbound = { Body: message.body, To: message.to, From: message.from, Sid: sid('SM') };
  const step = ask(state, env, 'reply');
  if (step?.event === 'deliveryFailure')
    return {
      event: 'deliveryFailure',
      outputs: { outbound },
      summary: `texts ${message.to}: "${message.body}"; delivery fails`,
    };
  execution.messages.push({ atMs: execution.clock.now(), widget: env.widgetName, ...message });
  if (step?.reply === undefined && step?.event !== 'incomingMessage') {
    return {
      event: 'timeout',
      outputs: { outbound },
      summary: `texts ${message.to || '(no one)'}: "${message.body}"; no reply within ${timeout} s`,
    };
  }
  const body = step.reply ?? 'yes';
  const fields = context.triggerFields();
  const inbound = {
    Body: body,
    From: message.to,
    To: message.from,
    MessageSid: sid('SM'),
    AccountSid: context.ids.accountSid,
    NumMedia: '0',
    ...(fields.ChannelSid ? { ChannelSid: fields.ChannelSid } : {}),
    ...step.outputs,
  };
  return {
    event: 'incomingMessage',
    outputs: { inbound, outbound },
    summary: `texts ${message.to || '(no one)'}: "${message.body}"; the contact replies "${body}"`,
  };
};

/** Body (or Content Template), from and to of a message widget, with Studio's defaults for an empty from/to. */
export async function composeMessage(
  state: FlowState,
  env: WidgetEnv,
): Promise<{ from: string; to: string; body: string }> {
  const { context } = env.execution;
  const props = state.properties;
  const { contact, flow } = context.addresses();
  let body = await context.render(str(props.body));
  const template = str(props.content_sid);
  if (body === '' && template !== '') {
    const variables = await context.renderKeyValues(props.content_variables);
    body = `[content template ${template}${variables.length ? ` ${variables.map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}]`;
  }
  const from = (await context.render(str(props.from))) || flow;
  const to = (await context.render(str(props.to))) || contact;
  return { from, to, body };
}

export const CONTACT_HANDLERS: Record<string, Handler> = {
  'gather-input-on-call': gather,
  'connect-call-to': connectCallTo,
  'record-voicemail': recordVoicemail,
  'record-call': recordCall,
  'enqueue-call': enqueueCall,
  'capture-payments': capturePayments,
  'make-outgoing-call-v2': makeOutgoingCall,
  'make-outgoing-call-v1': makeOutgoingCall,
  'fork-stream': forkStream,
  'connect-virtual-agent': connectVirtualAgent,
  'connect-virtual-agent-v2': connectVirtualAgentV2,
  'send-to-auto-pilot': sendToAutopilot,
  'start-conversation': startConversation,
  'send-and-wait-for-reply': sendAndWaitForReply,
};

/** Ask whether a Send Message is delivered (only a step naming the widget, or the explorer, says it fails). */
export function deliveryOutcome(state: FlowState, env: WidgetEnv): ContactStep | undefined {
  return ask(state, env, 'outcome', { namedOnly: true });
}

/** Ask the contact how a Send to Flex ends (an agent takes it, by default). */
export function flexOutcome(state: FlowState, env: WidgetEnv): ContactStep | undefined {
  return ask(state, env, 'outcome');
}
