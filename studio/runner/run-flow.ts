/**
 * runFlow: executes a Studio Flow definition against the local service the way Studio and Twilio
 * Voice would, and returns what happened (timeline, audio heard, messages, variables, where the
 * flow ended). Reentrant: every run has its own state; bounded by maxRunMs; leaves no timers.
 */
import path from 'node:path';
import { DEFAULT_ACCOUNT_SID, isSid, newSid } from '../../emulator/sids';
import { DEFAULT_PROFILE, describeProfile } from '../../emulator/twilio-behaviour';
import { findState, type FlowState, type Transition } from '../flow-model';
import { STUDIO_STEP_LIMIT, STUDIO_WIDGET_RUN_LIMIT } from '../platform';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../project-paths';
import { listServiceFunctions } from '../checker/service-functions';
import { RunInterrupted } from './clock';
import { EmulatorControl } from './emulator-control';
import { Execution } from './execution';
import { ServiceUrls } from './service-urls';
import { claimRestExecution, DEFAULT_REST_EXECUTION_WAIT_MS, handlesRestExecutions, promisedExecution } from './rest-executions';
import { StudioContext, LiquidRenderError, type ContextExtras, type TriggerData, type WidgetOutputs } from './studio-context';
import { TRIGGER_EVENTS, type CallTrigger, type ConversationTrigger, type FlowEnd, type FlowRun, type MessageTrigger, type RunExecution, type RunFlowOptions } from './types';
import type { FlowDefinition } from '../flow-model';
import { SILENT_CONTACT } from './contact';
import { subflowsFor } from './flow-inputs';
import { UnmockedRequestError } from './http-fixtures';
import { VoiceCall } from './voice-call';
import { ContactStepError, NeedsACallError } from './widgets-contact';
import { NEEDS_THE_CALLER, runWidget, type WidgetEnv, type WidgetResult } from './widgets';

/** A Run Subflow names a flow whose definition the run was not given. */
export class MissingSubflowError extends Error {}

/** The subflow's execution ended in a way that ends the whole execution (limits, hang-up, call ended). */
class ExecutionEnded extends Error {
  constructor(readonly end: FlowEnd) {
    super(end.kind);
  }
}

/** Errors that must reach the top of the run as they are, also from inside a subflow. */
const LOUD_ERRORS = [UnmockedRequestError, ContactStepError, MissingSubflowError, ExecutionEnded];

const DEFAULT_MAX_RUN_MS = 30 * 60_000;
const DEFAULT_ASSET_DIRS = [path.join(PROJECT_ROOT, 'dist', 'assets'), path.join(PROJECT_ROOT, 'src', 'assets')];

/** What Twilio puts in `trigger.call.*` for an inbound call (and sends with each voice request). */
export function callFields(trigger: CallTrigger, accountSid: string, callSid: string): Record<string, string> {
  const from = trigger.from ?? '+15005550006';
  const to = trigger.to ?? '+15005550001';
  return {
    CallSid: callSid,
    AccountSid: accountSid,
    From: from,
    To: to,
    Caller: from,
    Called: to,
    CallStatus: 'ringing',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    FromCountry: 'US',
    FromState: 'CA',
    FromCity: 'SAN FRANCISCO',
    FromZip: '94105',
    CallerCountry: 'US',
    ToCountry: 'US',
    ToState: 'CA',
    CalledCountry: 'US',
    ...trigger.fields,
  };
}

function messageFields(trigger: MessageTrigger, accountSid: string): Record<string, string> {
  return {
    MessageSid: newSid('SM'),
    SmsSid: '',
    AccountSid: accountSid,
    From: trigger.from ?? '+15005550006',
    To: trigger.to ?? '+15005550001',
    Body: trigger.body,
    NumMedia: '0',
    NumSegments: '1',
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
    FromCountry: 'US',
    ToCountry: 'US',
    ...trigger.fields,
  };
}

/** What Studio puts in `trigger.conversation.*` for a message in a Conversation (the plain reading of the docs). */
function conversationFields(trigger: ConversationTrigger, accountSid: string): Record<string, string> {
  return {
    ConversationSid: newSid('CH'),
    MessageSid: newSid('IM'),
    ParticipantSid: newSid('MB'),
    AccountSid: accountSid,
    Author: trigger.author ?? '+15005550006',
    Body: trigger.body,
    Source: 'SMS',
    EventType: 'onMessageAdded',
    ...trigger.fields,
  };
}

function transitionFor(state: FlowState, result: WidgetResult): Transition | undefined {
  return result.transition ?? state.transitions.find((transition) => transition.event === result.event);
}

export async function runFlow(options: RunFlowOptions): Promise<FlowRun> {
  const { definition } = options;
  const accountSid = options.accountSid ?? DEFAULT_ACCOUNT_SID;
  const flowSid = options.flowSid ?? newSid('FW');
  const executionSid = newSid('FN');
  const trigger = options.trigger;
  // A subflow run on its own gets its parent's trigger (a call unless told otherwise).
  const base = trigger.kind === 'parent' ? (trigger.via ?? { kind: 'call' }) : trigger;
  let callSid = base.kind === 'call' ? (base.callSid ?? newSid('CA')) : undefined;
  let triggerData: TriggerData;
  const extras: ContextExtras = {};
  switch (base.kind) {
    case 'call':
      triggerData = { kind: 'call', call: callFields(base, accountSid, callSid!) };
      break;
    case 'message':
      triggerData = { kind: 'message', message: messageFields(base, accountSid) };
      break;
    case 'conversation':
      triggerData = { kind: 'conversation', conversation: conversationFields(base, accountSid) };
      break;
    case 'request':
      triggerData = { kind: 'request', request: { To: base.to ?? '+15005550006', From: base.from ?? '+15005550001', AccountSid: accountSid, FlowSid: flowSid } };
      extras.data = base.parameters ?? {};
      break;
  }
  if (trigger.kind === 'parent') extras.parentParameters = trigger.parameters ?? {};

  const context = new StudioContext({ accountSid, flowSid, executionSid }, triggerData, extras);
  const urls = new ServiceUrls(options.baseUrl, options.serviceDomain, options.functionPaths ?? projectFunctionPaths);
  const execution = new Execution({
    context,
    urls,
    assetDirs: options.assetDirs ?? DEFAULT_ASSET_DIRS,
    timeScale: options.timeScale ?? 1,
    onEntry: options.onEntry,
    http: options.http,
  });
  const behaviour = options.behaviour ?? DEFAULT_PROFILE;
  execution.log('(run)', 'note', `Twilio behaviour: ${describeProfile(behaviour)}`);
  const control = options.emulatorUrl ? new EmulatorControl(options.emulatorUrl) : undefined;
  const newCall = (sid: string, callParams: Record<string, string>) =>
    new VoiceCall({
      execution,
      control,
      accountSid,
      flowSid,
      callSid: sid,
      callParams,
      joinDelayMs: options.joinDelayMs ?? 0,
      behaviour,
      fallbackUrl: options.fallbackUrl,
      onJoinedRoom: () => {
        if (options.hangUpInRoomAfterMs !== undefined && !hangUpScheduled) scheduleHangUp(options.hangUpInRoomAfterMs);
      },
    });
  let call = triggerData.kind === 'call' ? newCall(callSid!, { ...triggerData.call, CallStatus: 'in-progress' }) : undefined;

  let current = definition.initial_state;
  const timers: NodeJS.Timeout[] = [];
  let hangUpScheduled = false;
  let finished = false;
  const scheduleHangUp = (afterMs: number) => {
    if (!call || finished) return;
    hangUpScheduled = true;
    timers.push(
      setTimeout(() => {
        execution.log(current, 'end', 'the caller hangs up');
        void call?.hangUp(); // reaches the emulator before the run stops waiting
        execution.interrupt({ kind: 'hangup' });
      }, afterMs),
    );
  };
  const maxRunMs = options.maxRunMs ?? DEFAULT_MAX_RUN_MS;
  // Bounds the whole run, executions that follow the first included.
  const runTimeout = setTimeout(() => execution.interrupt({ kind: 'run-timeout', afterMs: maxRunMs }), maxRunMs);
  if (options.hangUpAfterMs !== undefined) scheduleHangUp(options.hangUpAfterMs);
  const onOutsideAbort = () => execution.interrupt({ kind: 'aborted', reason: String(options.signal?.reason ?? 'stopped') });
  if (options.signal?.aborted) onOutsideAbort();
  options.signal?.addEventListener('abort', onOutsideAbort, { once: true });

  const runs = new Map<string, number>();
  const pathTaken: string[] = [];
  const taken: NonNullable<FlowRun['taken']> = [];
  /** Steps of the execution running now (Studio's limit is per execution), and of the whole run. */
  let steps = 0;
  let totalSteps = 0;
  let end: FlowEnd;
  let subflowDepth = 0;
  const subflows = subflowsFor(definition, options.subflows);
  /** The outputs of subflow widgets, as `RUN_SUBFLOW_WIDGET/inner`, for the report. */
  const subflowWidgets: Record<string, Record<string, unknown>> = {};
  const env: WidgetEnv = {
    execution,
    call,
    triggerEvent: TRIGGER_EVENTS[trigger.kind],
    nextOf: () => '(end)',
    contact: options.contact ?? SILENT_CONTACT,
    widgetName: current,
    placeCall: (to, from) => {
      callSid = newSid('CA');
      const placed = newCall(callSid, {
        CallSid: callSid,
        AccountSid: accountSid,
        From: from,
        To: to,
        Caller: from,
        Called: to,
        CallStatus: 'in-progress',
        Direction: 'outbound-api',
        ApiVersion: '2010-04-01',
      });
      call = placed;
      env.call = placed;
      return placed;
    },
    runSubflow: (state) => runSubflow(state),
  };

  /** Runs the widgets of `flow` from `start` until a transition without a next widget (or a limit). */
  const walk = async (flow: FlowDefinition, start: string, prefix: string): Promise<FlowEnd> => {
    let here = start;
    for (;;) {
      const name = prefix + here;
      current = name;
      const state = findState(flow, here);
      if (!state) return { kind: 'error', widget: name, message: `no state named "${here}"` };
      const done = runs.get(name) ?? 0;
      if (done + 1 >= STUDIO_WIDGET_RUN_LIMIT) return { kind: 'widget-limit', widget: name, runs: done + 1 };
      if (steps >= STUDIO_STEP_LIMIT) return { kind: 'step-limit', widget: name, steps };
      if (watched && control) {
        // Studio may have ended the execution from outside (REST Status=ended, or replaced it).
        const known = await control.execution(watched, execution.signal).catch(() => undefined);
        if (known?.status === 'ended') return { kind: 'execution-ended', widget: name, by: known.endedBy ?? 'rest' };
      }
      runs.set(name, done + 1);
      steps += 1;
      totalSteps += 1;
      pathTaken.push(name);
      env.widgetName = name;
      env.nextOf = (event: string) => state.transitions.find((t) => t.event === event)?.next ?? '(end)';
      if (call && NEEDS_THE_CALLER.has(state.type)) {
        if (call.hungUp) return { kind: 'caller-hung-up', widget: name };
        // The call may still be in TwiML an earlier widget handed out (its timeout passed, S4).
        const back = await call.untilBackInStudio(name, execution.signal);
        if (back.kind === 'call-ended') return { kind: 'call-ended', widget: name, reason: back.reason };
      }

      const result = await runWidget(state, env);
      if (result.outputs) execution.context.widgets[state.name] = result.outputs;
      if (result.callEnded !== undefined) return { kind: 'call-ended', widget: name, reason: result.callEnded };
      const transition = transitionFor(state, result);
      const next = transition?.next;
      taken.push({ widget: name, event: result.event, index: transition ? state.transitions.indexOf(transition) : -1, ...(next ? { next: prefix + next } : {}) });
      if (result.summary !== undefined) execution.log(name, 'widget', `${result.summary} ⇒ ${result.event} → ${next ?? '(end)'}`);
      if (!next) return { kind: 'completed', widget: name, event: result.event };
      here = next;
    }
  };

  /** Run Subflow: the subflow's widgets run in this execution, with its own variables (Studio's Subflows page). */
  const runSubflow = async (state: FlowState): Promise<WidgetResult> => {
    const name = env.widgetName;
    const sid = String(state.properties.flow_sid ?? '');
    if (subflowDepth > 0) return { event: 'failed', summary: 'a subflow cannot run another subflow (Studio allows one level)' };
    const parameters = Object.fromEntries(await context.renderKeyValues(state.properties.parameters));
    const subflow = subflows[sid] ?? subflows['*'];
    if (!subflow) {
      if (options.missingSubflow === 'complete') {
        execution.log(name, 'note', `the definition of subflow ${sid} was not given (--subflow ${sid}=FILE): taken as a subflow that completes and sets no variables`);
        return { event: 'completed', outputs: {}, summary: `subflow ${sid} (not given) completes` };
      }
      throw new MissingSubflowError(`Run Subflow "${name}" runs flow ${sid || '(no flow_sid)'}, whose definition was not given: name it with --subflow ${sid || 'FW…'}=FILE (or "subflows" in the scenario file)`);
    }
    const entry = findState(subflow, subflow.initial_state)?.transitions.find((t) => t.event === 'incomingParent')?.next;
    if (!entry) return { event: 'failed', summary: `subflow ${sid} has nothing connected to its Subflow trigger (incomingParent)` };
    const parentContext = execution.context;
    const subContext = new StudioContext(parentContext.ids, parentContext.trigger, { parentParameters: parameters, data: parentContext.extras.data });
    execution.log(name, 'widget', `runs subflow ${sid} with trigger.parent.parameters ${JSON.stringify(parameters)}`);
    const parentTrigger = env.triggerEvent;
    execution.context = subContext;
    env.triggerEvent = 'incomingParent';
    subflowDepth += 1;
    // The subflow's own webhook: its SID, or one made up for a placeholder. Whether Studio takes a
    // call back at the subflow's webhook is not documented; Voice returning there or at the
    // parent's is taken as the return to this execution (voice-call.ts).
    const subflowCall = env.call;
    if (subflowCall) subflowCall.subflowSid = isSid(sid, 'FW') ? sid : newSid('FW');
    let subEnd: FlowEnd;
    try {
      subEnd = await walk(subflow, subflow.initial_state, `${name}/`);
    } catch (error) {
      if (error instanceof RunInterrupted || LOUD_ERRORS.some((kind) => error instanceof kind)) throw error;
      subEnd = { kind: 'error', widget: current, message: error instanceof Error ? error.message : String(error) };
    } finally {
      if (subflowCall) subflowCall.subflowSid = undefined;
      for (const [inner, outputs] of Object.entries(subContext.widgets)) subflowWidgets[`${name}/${inner}`] = outputs;
      execution.context = parentContext;
      env.triggerEvent = parentTrigger;
      env.widgetName = name;
      subflowDepth -= 1;
    }
    if (subEnd.kind === 'completed') {
      const back = { ...subContext.variables };
      const listed = Object.entries(back).map(([k, v]) => `${k}="${v}"`).join(', ');
      return { event: 'completed', outputs: back, summary: `the subflow ends after ${subEnd.widget}${listed ? `; back to the parent: ${listed}` : ''}` };
    }
    if (subEnd.kind === 'error') return { event: 'failed', outputs: {}, summary: `the subflow failed in ${subEnd.widget}: ${subEnd.message}` };
    throw new ExecutionEnded(subEnd);
  };

  const executions: RunExecution[] = [];
  /** The execution the emulator knows (registered, or REST-created): Studio may end it from outside. */
  let watched: string | undefined;
  const firstExecution: RunExecution = {
    sid: executionSid,
    trigger: TRIGGER_EVENTS[trigger.kind],
    startedBy: trigger.kind === 'request' ? 'rest' : 'inbound',
    status: 'active',
    startedAtMs: 0,
    end: { kind: 'error', widget: definition.initial_state, message: 'not run' },
  };
  executions.push(firstExecution);
  try {
    await call?.register();
    const refused = await registerInbound();
    end = refused ?? (await walk(definition, definition.initial_state, ''));
  } catch (error) {
    end = endOfInterruptedRun(error, current);
  } finally {
    finished = true;
    for (const timer of timers) clearTimeout(timer);
  }

  // The flow is over, so is the call (Studio hangs up when it has no TwiML left to give); this
  // also waits for a hang-up already on its way to the emulator. TwiML still followed in the
  // background (a widget's timeout passed without a take-back) stops here: the run is bounded.
  const lastCall = call as VoiceCall | undefined;
  if (lastCall) {
    await lastCall.finish();
    await lastCall.hangUp();
  }
  if (executions.includes(firstExecution)) await closeExecution(firstExecution, end);
  execution.log(end.widget, 'end', describeEnd(end));

  const variables = { ...context.variables };
  const widgets: Record<string, WidgetOutputs> = { ...context.widgets, ...subflowWidgets };
  try {
    const follow = await followUp(widgets);
    if (follow) {
      end = follow.end;
      Object.assign(variables, follow.context.variables);
      Object.assign(widgets, follow.context.widgets);
    }
  } finally {
    clearTimeout(runTimeout);
    options.signal?.removeEventListener('abort', onOutsideAbort);
  }

  return {
    behaviour,
    startedAt: execution.clock.startedAt,
    flowSid,
    executionSid,
    callSid,
    timeline: execution.timeline,
    heard: execution.heard,
    messages: execution.messages,
    flexTasks: execution.flexTasks,
    actions: execution.actions,
    requests: execution.requests,
    rooms: execution.rooms,
    variables,
    widgets,
    path: pathTaken,
    taken,
    end,
    executions,
    steps: totalSteps,
    durationMs: execution.clock.now(),
  };

  /**
   * Studio starts an execution for the inbound message or call, held to one active execution
   * per contact in the flow; the emulator keeps it so the REST API sees it. Returns the end of a
   * run Studio would not start (the contact has one active already).
   */
  async function registerInbound(): Promise<FlowEnd | undefined> {
    if (!control || trigger.kind === 'request') return undefined;
    const { contact, flow } = context.addresses();
    const registered = await control.registerExecution({
      flowSid,
      executionSid,
      accountSid,
      contact,
      flowAddress: flow,
      trigger: TRIGGER_EVENTS[trigger.kind],
      // A call into a flow that allows concurrent calls is not held to one execution per caller.
      concurrent: base.kind === 'call' && definition.flags?.allow_concurrent_calls === true,
      definition,
    });
    if (registered.kind === 'unsupported') {
      execution.log('(run)', 'note', 'the emulator does not keep Studio executions (404): the one-active-execution rule is not played');
      return undefined;
    }
    if (registered.kind === 'refused') {
      executions.length = 0; // Studio started none
      return { kind: 'error', widget: definition.initial_state, message: `Studio starts no execution: ${contact} already has execution ${registered.activeExecutionSid} active in this flow (one active execution per contact)` };
    }
    watched = executionSid;
    return undefined;
  }

  /** The execution's flow ended: so does the execution (unless Studio ended it first). */
  async function closeExecution(record: RunExecution, how: FlowEnd): Promise<void> {
    record.end = how;
    record.endedAtMs = execution.clock.now();
    const sid = watched;
    watched = undefined;
    if (!control || sid !== record.sid) {
      record.status = 'ended';
      record.endedBy = 'flow-ended';
      return;
    }
    try {
      const ended = await control.endExecution(sid);
      record.status = ended.status;
      record.endedBy = ended.endedBy ?? 'flow-ended';
      if (ended.alreadyEnded) execution.log(how.widget, 'note', `Studio had already ended execution ${sid} (${ended.endedBy ?? 'from outside'})`);
    } catch (error) {
      execution.log(how.widget, 'note', `could not end execution ${sid} in the emulator: ${(error as Error).message}`);
    }
  }

  /**
   * After an inbound execution whose service promised to start one with the job's outcome
   * (StartReply.delivery = execution): wait for it (bounded, in the run's time), claim it and run
   * it as Studio would, trigger `incomingRequest`, in the same report.
   */
  async function followUp(seen: Record<string, WidgetOutputs>): Promise<{ end: FlowEnd; context: StudioContext } | undefined> {
    if (!control || trigger.kind === 'request' || trigger.kind === 'parent' || execution.signal.aborted) return undefined;
    if (!handlesRestExecutions(definition) || !promisedExecution(seen)) return undefined;
    const { contact } = context.addresses();
    const waitMs = Math.min(options.restExecutionWaitMs ?? DEFAULT_REST_EXECUTION_WAIT_MS, Math.max(0, maxRunMs - execution.clock.now()));
    execution.log('(run)', 'note', `the service said it will start an execution with the outcome: waiting up to ${Math.round(waitMs / 1000)} s for it`);
    let claimed;
    try {
      claimed = await claimRestExecution(control, { flowSid, contact }, Date.now() + waitMs, execution.signal);
    } catch (error) {
      if (error instanceof RunInterrupted || execution.signal.aborted) return undefined;
      execution.log('(run)', 'note', `could not read the emulator's executions: ${(error as Error).message}`);
      return undefined;
    }
    if (!claimed) {
      execution.log('(run)', 'note', `no execution for ${contact} came within ${Math.round(waitMs / 1000)} s`);
      return undefined;
    }
    const restContext = new StudioContext(
      { accountSid, flowSid, executionSid: claimed.executionSid },
      { kind: 'request', request: { To: claimed.contact, From: claimed.flowAddress, AccountSid: accountSid, FlowSid: flowSid } },
      { data: claimed.data },
    );
    const record: RunExecution = { sid: claimed.executionSid, trigger: 'incomingRequest', startedBy: 'rest', status: 'active', startedAtMs: execution.clock.now(), data: claimed.data, end: firstExecution.end };
    executions.push(record);
    execution.log('(run)', 'note', `Studio runs execution ${claimed.executionSid}, started through the REST API (incomingRequest, flow.data ${JSON.stringify(claimed.data).slice(0, 200)})`);
    execution.context = restContext;
    env.call = undefined;
    env.triggerEvent = 'incomingRequest';
    runs.clear();
    steps = 0;
    watched = claimed.executionSid;
    let restEnd: FlowEnd;
    try {
      restEnd = await walk(definition, definition.initial_state, '');
    } catch (error) {
      restEnd = endOfInterruptedRun(error, current);
    }
    await closeExecution(record, restEnd);
    execution.log(restEnd.widget, 'end', describeEnd(restEnd));
    return { end: restEnd, context: restContext };
  }
}

function endOfInterruptedRun(error: unknown, widget: string): FlowEnd {
  if (error instanceof ExecutionEnded) return error.end;
  if (error instanceof LiquidRenderError) return { kind: 'error', widget, message: error.message };
  if (error instanceof NeedsACallError) return { kind: 'error', widget, message: error.message };
  if (error instanceof RunInterrupted) {
    const interruption = error.interruption;
    switch (interruption.kind) {
      case 'hangup':
        return { kind: 'caller-hung-up', widget };
      case 'run-timeout':
        return { kind: 'run-timeout', widget, afterMs: interruption.afterMs };
      default:
        return { kind: 'error', widget, message: `stopped: ${interruption.kind === 'aborted' ? interruption.reason : interruption.kind}` };
    }
  }
  return { kind: 'error', widget, message: error instanceof Error ? error.message : String(error) };
}

export function describeEnd(end: FlowEnd): string {
  switch (end.kind) {
    case 'completed':
      return `the flow ends after ${end.widget} (${end.event})`;
    case 'caller-hung-up':
      return `the caller hung up during ${end.widget}`;
    case 'call-ended':
      return `the call ended during ${end.widget}: ${end.reason}`;
    case 'widget-limit':
      return `Studio ends the execution: ${end.widget} would run for the ${end.runs}th time (limit ${STUDIO_WIDGET_RUN_LIMIT})`;
    case 'step-limit':
      return `Studio ends the execution: ${end.steps} steps (limit ${STUDIO_STEP_LIMIT})`;
    case 'run-timeout':
      return `the run was stopped after ${Math.round(end.afterMs / 1000)} s (maxRunMs) in ${end.widget}`;
    case 'execution-ended':
      return `Studio ended the execution before ${end.widget} (${end.by === 'replaced' ? 'a REST-created execution for the same contact replaced it' : `ended by ${end.by}`})`;
    case 'error':
      return `the run failed in ${end.widget}: ${end.message}`;
  }
}

/** The service's function paths from src/functions (read only when a widget needs them). */
function projectFunctionPaths(): string[] {
  return listServiceFunctions(FUNCTIONS_DIR) ?? [];
}
