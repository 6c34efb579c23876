/**
 * What each widget type does when it runs. A handler logs what happened and returns the event
 * it fires (and, for a split, the transition it chose); run-flow.ts follows the transition.
 */
import { isSid } from '../../emulator/sids';
import type { FlowState, Transition } from '../flow-model';
import { RunInterrupted } from './clock';
import { digitsDurationSeconds, sayDurationSeconds } from './audio';
import type { Execution } from './execution';
import { conditionHolds } from './split-conditions';
import { describeParams, studioHttp } from './studio-http';
import type { WidgetOutputs } from './studio-context';
import type { TwimlOutcome, VoiceCall } from './voice-call';
import type { Contact } from './contact';
import { CONTACT_HANDLERS, composeMessage, deliveryOutcome, flexOutcome } from './widgets-contact';

export interface WidgetResult {
  event: string;
  /** The transition taken, when the widget chooses among several with one event (split). */
  transition?: Transition;
  outputs?: WidgetOutputs;
  /** Text of the widget's closing timeline line (before "→ next"); omitted for widgets that logged it. */
  summary?: string;
  /** The call ended inside the widget (TwiML outside Studio): the execution ends here. */
  callEnded?: string;
}

export interface WidgetEnv {
  execution: Execution;
  call?: VoiceCall;
  /** The trigger's event: `incomingCall`, `incomingMessage`, `incomingRequest`, ... */
  triggerEvent: string;
  /** The widget's transition for an event, to show "→ next" while it is still running. */
  nextOf(event: string): string;
  /** Who answers the widgets that wait on someone. */
  contact: Contact;
  /** The running widget's name as the run reports it (`RUN_SUBFLOW_WIDGET/inner` inside a subflow). */
  widgetName: string;
  /** Make Outgoing Call: the execution gets a call to `to` (answered). */
  placeCall(to: string, from: string): VoiceCall;
  /** Run Subflow: runs the subflow's widgets in this execution. */
  runSubflow(state: FlowState): Promise<WidgetResult>;
}

export class UnsupportedWidgetError extends Error {}

type Handler = (state: FlowState, env: WidgetEnv) => Promise<WidgetResult>;

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

const trigger: Handler = async (_state, env) => {
  const { context } = env.execution;
  const fields = context.triggerFields();
  const { contact, flow } = context.addresses();
  const what: Record<string, string> = {
    call: `a call from ${contact} to ${flow}`,
    message: `a message "${fields.Body ?? ''}" from ${contact} to ${flow}`,
    conversation: `a Conversation message "${fields.Body ?? ''}" from ${contact}`,
    request: `a REST API request: the flow contacts ${contact} from ${flow}${context.extras.data && Object.keys(context.extras.data).length ? ` (flow.data ${JSON.stringify(context.extras.data)})` : ''}`,
  };
  const parent = context.extras.parentParameters;
  const summary =
    env.triggerEvent === 'incomingParent'
      ? `run as a subflow (trigger.parent.parameters ${JSON.stringify(parent ?? {})}) of ${what[context.trigger.kind]}`
      : what[context.trigger.kind]!;
  return { event: env.triggerEvent, summary };
};

const sayPlay: Handler = async (state, env) => {
  const { execution } = env;
  const props = state.properties;
  const loops = Math.max(1, Number(props.loop ?? 1) || 1);
  const repeat = loops > 1 ? ` x${loops}` : '';
  const then = `→ ${env.nextOf('audioComplete')}`;
  if (props.say !== undefined) {
    const text = await execution.context.render(str(props.say));
    const seconds = sayDurationSeconds(text) * loops;
    const label =
      text.trim() === ''
        ? `says nothing: the text is empty ${then}`
        : `says "${text}"${repeat} (${seconds.toFixed(1)} s) ${then}`;
    await execution.listen(env.widgetName, { kind: 'say', content: text, seconds }, { label });
  } else if (props.play !== undefined) {
    const url = execution.urls.resolve(await execution.context.render(str(props.play)));
    const length = await execution.audio.of(url);
    if (length.note) execution.log(env.widgetName, 'note', length.note, 1);
    const seconds = length.seconds * loops;
    await execution.listen(
      env.widgetName,
      { kind: 'play', content: url, seconds },
      { label: `plays ${execution.urls.display(url)}${repeat} (${seconds.toFixed(1)} s) ${then}` },
    );
  } else {
    const digits = await execution.context.render(str(props.digits));
    await execution.listen(
      env.widgetName,
      { kind: 'play', content: `digits ${digits}`, seconds: digitsDurationSeconds(digits) },
      { label: `plays digits ${digits} ${then}` },
    );
  }
  return { event: 'audioComplete' };
};

const splitBasedOn: Handler = async (state, env) => {
  const { context } = env.execution;
  const input = await context.render(str(state.properties.input));
  for (const transition of state.transitions) {
    if (transition.event !== 'match') continue;
    const conditions = transition.conditions ?? [];
    let holds = conditions.length > 0;
    const described: string[] = [];
    for (const condition of conditions) {
      const subject = condition.arguments?.[0] !== undefined ? await context.render(condition.arguments[0]) : input;
      const value = await context.render(str(condition.value));
      described.push(`"${subject}" ${condition.type} "${value}"`);
      if (!conditionHolds(condition.type, subject, value)) {
        holds = false;
        break;
      }
    }
    if (holds) return { event: 'match', transition, summary: described.join(' and ') };
  }
  return { event: 'noMatch', summary: `"${input}" matches no condition` };
};

const setVariables: Handler = async (state, env) => {
  const { context } = env.execution;
  const set: string[] = [];
  const list = Array.isArray(state.properties.variables) ? state.properties.variables : [];
  for (const item of list) {
    const { key, value } = (item ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key !== 'string' || key === '') continue;
    // One at a time, so a later variable can read an earlier one.
    context.variables[key] = await context.render(str(value));
    set.push(`${key}="${context.variables[key]}"`);
  }
  return { event: 'next', summary: set.length > 0 ? `sets ${set.join(', ')}` : 'sets nothing' };
};

const runFunction: Handler = async (state, env) => {
  const { execution } = env;
  const url = execution.urls.resolveFunction(state.properties.url, state.properties.function_sid);
  if (!url) return { event: 'fail', summary: `no URL to call (url ${JSON.stringify(state.properties.url)})` };
  const target = execution.urls.resolve(await execution.context.render(url));
  const form = await execution.context.renderKeyValues(state.properties.parameters);
  execution.log(env.widgetName, 'http', `POST ${execution.urls.display(target)}  ${describeParams(form)}`);
  const result = await studioHttp(execution, {
    widget: env.widgetName,
    method: 'POST',
    url: target,
    form,
    failEvent: 'fail',
  });
  return { event: result.event, outputs: result.outputs, summary: `← ${result.summary}` };
};

const makeHttpRequest: Handler = async (state, env) => {
  const { execution } = env;
  const props = state.properties;
  const method = str(props.method).toUpperCase() === 'GET' ? 'GET' : 'POST';
  const target = execution.urls.resolve(await execution.context.render(str(props.url)));
  const isJson = /json/i.test(str(props.content_type));
  const form = isJson ? undefined : await execution.context.renderKeyValues(props.parameters);
  const json = isJson ? await execution.context.render(str(props.body)) : undefined;
  execution.log(
    env.widgetName,
    'http',
    `${method} ${execution.urls.display(target)}  ${form ? describeParams(form) : (json ?? '')}`,
  );
  const result = await studioHttp(execution, {
    widget: env.widgetName,
    method,
    url: target,
    form,
    json,
    failEvent: 'failed',
  });
  return { event: result.event, outputs: result.outputs, summary: `← ${result.summary}` };
};

const DEFAULT_REDIRECT_TIMEOUT_SECONDS = 14_400;

const twimlRedirect: Handler = async (state, env) => {
  const { execution, call } = env;
  if (!call)
    return {
      event: 'fail',
      summary: `a TwiML Redirect needs a phone call; this execution has none (started by ${env.triggerEvent})`,
    };
  const url = await execution.context.render(str(state.properties.url));
  const method = str(state.properties.method || 'POST').toUpperCase();
  const timeoutRaw = str(state.properties.timeout).trim();
  const timeoutSeconds = timeoutRaw === '' ? DEFAULT_REDIRECT_TIMEOUT_SECONDS : Number(timeoutRaw);
  execution.log(
    env.widgetName,
    'voice',
    `hands the call to ${method} ${execution.urls.display(execution.urls.resolve(url))} (Studio waits ${timeoutSeconds} s for it to return)`,
  );

  // Studio's own timer: when it passes before the call comes back, the widget fires `timeout`.
  // Voice follows the TwiML under its own scope: Studio taking the call back (S4) ends it; when
  // Studio cannot, Voice goes on in the background while the flow moves on.
  const voiceScope = new AbortController();
  const following = call.follow(env.widgetName, url, method, AbortSignal.any([execution.signal, voiceScope.signal]));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutSeconds > 0) timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
  });
  const timeoutResult = (extra = ''): WidgetResult => ({
    event: 'timeout',
    summary: `the call did not return within ${timeoutSeconds} s${extra}`,
  });
  try {
    const first = await Promise.race([following, timedOut]);
    if (first !== 'timeout') return redirectOutcome(first);
    if (call.behaviour.switches.studioTakesCallBackOnTimeout) {
      voiceScope.abort(new RunInterrupted({ kind: 'widget-timeout' }));
      const late = await following.catch((error: unknown) => {
        if (
          error instanceof RunInterrupted &&
          error.interruption.kind === 'widget-timeout' &&
          !execution.signal.aborted
        )
          return undefined;
        throw error;
      });
      return late ? redirectOutcome(late) : timeoutResult();
    }
    execution.log(
      env.widgetName,
      'voice',
      `the widget's timeout passed: Studio moves on along \`timeout\` but cannot take the call back (profile ${call.behaviour.name}: studioTakesCallBackOnTimeout=false); the caller stays in the TwiML${call.room ? ` (room ${call.room.friendlyName})` : ''}`,
    );
    call.carryOn(env.widgetName, following, voiceScope);
    return timeoutResult('; the call stays outside Studio');
  } finally {
    clearTimeout(timer);
  }
};

function redirectOutcome(outcome: TwimlOutcome): WidgetResult {
  switch (outcome.kind) {
    case 'returned': {
      const extra = Object.entries(outcome.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      return {
        event: 'return',
        outputs: outcome.params,
        summary: `the call returns to Studio${extra ? ` (${extra})` : ''}`,
      };
    }
    case 'call-ended':
      // Also when Voice could not use the first TwiML: Studio never fetched it, so no `fail`.
      return { event: 'callEnded', callEnded: outcome.reason };
  }
}

/** Widget types that can only run on a phone call (the others also run on messages and requests). */
const VOICE_ONLY = new Set([
  'say-play',
  'gather-input-on-call',
  'connect-call-to',
  'record-voicemail',
  'enqueue-call',
  'capture-payments',
  'connect-virtual-agent',
  'fork-stream',
]);

/** Widget types that speak to the caller: they need the call to be fetching TwiML from Studio. */
export const NEEDS_THE_CALLER = new Set([
  ...VOICE_ONLY,
  'add-twiml-redirect',
  'send-to-flex',
  'connect-virtual-agent-v2',
]);

const sendMessage: Handler = async (state, env) => {
  const { execution } = env;
  const { from, to, body } = await composeMessage(state, env);
  if (deliveryOutcome(state, env)?.event === 'failed')
    return { event: 'failed', summary: `texts ${to || '(no one)'}: "${body}"; the message fails` };
  execution.messages.push({ atMs: execution.clock.now(), widget: env.widgetName, from, to, body });
  return { event: 'sent', summary: `texts ${to || '(no one)'}: "${body}"` };
};

const sendToFlex: Handler = async (state, env) => {
  const { execution } = env;
  const { context } = execution;
  const workflow = await context.render(str(state.properties.workflow));
  if (!isSid(workflow, 'WW'))
    return { event: 'failedToEnqueue', summary: `cannot enqueue: workflow "${workflow}" is not a Workflow SID` };
  const channel = await context.render(str(state.properties.channel));
  const attributes = await context.render(str(state.properties.attributes));
  const step = flexOutcome(state, env);
  if (step?.event === 'failedToEnqueue')
    return { event: 'failedToEnqueue', summary: `the task cannot be created on ${workflow}` };
  execution.flexTasks.push({ atMs: execution.clock.now(), widget: env.widgetName, workflow, channel, attributes });
  if (step?.event === 'callFailure')
    return { event: 'callFailure', summary: `enqueues a task on ${workflow}; the call fails` };
  if (step?.hangUp) void env.call?.hangUp();
  const who = env.call ? 'the call' : 'the conversation';
  return {
    event: 'callComplete',
    summary: `enqueues a ${channel || 'voice'} task on ${workflow}; ${step?.hangUp ? 'the caller hangs up while waiting' : `an agent takes ${who}`}`,
  };
};

const HANDLERS: Record<string, Handler> = {
  trigger,
  'say-play': sayPlay,
  'split-based-on': splitBasedOn,
  'set-variables': setVariables,
  'run-function': runFunction,
  'make-http-request': makeHttpRequest,
  'add-twiml-redirect': twimlRedirect,
  'send-message': sendMessage,
  'send-to-flex': sendToFlex,
  'run-subflow': (state, env) => env.runSubflow(state),
  ...CONTACT_HANDLERS,
};

export function runWidget(state: FlowState, env: WidgetEnv): Promise<WidgetResult> {
  const handler = Object.prototype.hasOwnProperty.call(HANDLERS, state.type) ? HANDLERS[state.type] : undefined;
  if (!handler) throw new UnsupportedWidgetError(`widget type "${state.type}" is not simulated`);
  return handler(state, env);
}
