/**
 * runFlow: executes a Studio Flow definition against the local service the way Studio and Twilio
 * Voice would, and returns what happened (timeline, audio heard, messages, variables, where the
 * flow ended). Reentrant: every run is one FlowRunner holding all of its state; bounded by
 * maxRunMs; leaves no timers.
 *
 * A run's stages, in order: arm its limits (the caller's hang-up, maxRunMs, the outside signal);
 * run the first execution (register the call and the execution with the emulator, walk the
 * widgets); end the last call; close the execution; run the execution the service promised to
 * start through the REST API, if any; report.
 */
import path from 'node:path';
import { DEFAULT_ACCOUNT_SID, isSid, newSid } from '../../emulator/sids';
import { DEFAULT_PROFILE, describeProfile, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { findState, type FlowDefinition, type FlowState, type Transition } from '../flow-model';
import { STUDIO_STEP_LIMIT, STUDIO_WIDGET_RUN_LIMIT } from '../platform';
import { FUNCTIONS_SRC_DIR, PROJECT_ROOT } from '../../dev/paths';
import { listServiceFunctions } from '../checker/service-functions';
import { RunInterrupted } from './clock';
import { SILENT_CONTACT } from './contact';
import { EmulatorControl, type ControlExecution } from './emulator-control';
import { Execution } from './execution';
import { describeEnd, endOfInterruptedRun, ExecutionEnded } from './flow-end';
import { subflowsFor } from './flow-inputs';
import { UnmockedRequestError } from './http-fixtures';
import {
  claimRestExecution,
  DEFAULT_REST_EXECUTION_WAIT_MS,
  handlesRestExecutions,
  promisedExecution,
} from './rest-executions';
import { ServiceUrls } from './service-urls';
import { StudioContext, type WidgetOutputs } from './studio-context';
import { placedCallFields, startingTrigger, triggerData } from './trigger-fields';
import {
  TRIGGER_EVENTS,
  type FlowEnd,
  type FlowRun,
  type FlowTrigger,
  type RunExecution,
  type RunFlowOptions,
} from './types';
import { VoiceCall } from './voice-call';
import { ContactStepError } from './widgets-contact';
import { NEEDS_THE_CALLER, runWidget, type WidgetEnv, type WidgetResult } from './widgets';

/** A Run Subflow names a flow whose definition the run was not given. */
export class MissingSubflowError extends Error {}

/** Errors that must reach the top of the run as they are, also from inside a subflow. */
const LOUD_ERRORS = [UnmockedRequestError, ContactStepError, MissingSubflowError, ExecutionEnded];

const DEFAULT_MAX_RUN_MS = 30 * 60_000;
const DEFAULT_ASSET_DIRS = [path.join(PROJECT_ROOT, 'dist', 'assets'), path.join(PROJECT_ROOT, 'src', 'assets')];

export async function runFlow(options: RunFlowOptions): Promise<FlowRun> {
  return new FlowRunner(options).run();
}

/** One run of a flow: Studio's side (executions, widgets, limits) and the calls Voice plays. */
class FlowRunner {
  private readonly definition: FlowDefinition;
  private readonly trigger: FlowTrigger;
  private readonly accountSid: string;
  private readonly flowSid: string;
  private readonly executionSid = newSid('FN');
  /** The inbound call's SID, then that of the call the flow placed last. */
  private callSid: string | undefined;
  /** The Liquid context of the first execution. */
  private readonly context: StudioContext;
  private readonly execution: Execution;
  private readonly behaviour: TwilioBehaviour;
  private readonly control: EmulatorControl | undefined;
  /** The inbound call, then the call the flow placed last. */
  private call: VoiceCall | undefined;
  private readonly subflows: Record<string, FlowDefinition>;
  private readonly env: WidgetEnv;
  private readonly maxRunMs: number;

  /** The widget running now, as the run names it (`RUN_SUBFLOW_WIDGET/inner` inside a subflow). */
  private current: string;
  private readonly timers: NodeJS.Timeout[] = [];
  private runTimeout: NodeJS.Timeout | undefined;
  private hangUpScheduled = false;
  private finished = false;

  /** How often each widget ran in the execution running now (Studio's limit is per execution). */
  private readonly runs = new Map<string, number>();
  /** Steps of the execution running now (Studio's limit is per execution), and of the whole run. */
  private steps = 0;
  private totalSteps = 0;
  private readonly pathTaken: string[] = [];
  private readonly taken: NonNullable<FlowRun['taken']> = [];
  private subflowDepth = 0;
  /** The outputs of subflow widgets, as `RUN_SUBFLOW_WIDGET/inner`, for the report. */
  private readonly subflowWidgets: Record<string, Record<string, unknown>> = {};

  private readonly executions: RunExecution[] = [];
  private readonly firstExecution: RunExecution;
  /** The execution the emulator knows (registered, or REST-created): Studio may end it from outside. */
  private watched: string | undefined;

  constructor(private readonly options: RunFlowOptions) {
    const { definition, trigger } = options;
    this.definition = definition;
    this.trigger = trigger;
    this.accountSid = options.accountSid ?? DEFAULT_ACCOUNT_SID;
    this.flowSid = options.flowSid ?? newSid('FW');
    const base = startingTrigger(trigger);
    this.callSid = base.kind === 'call' ? (base.callSid ?? newSid('CA')) : undefined;
    const { data, extras } = triggerData(trigger, {
      accountSid: this.accountSid,
      flowSid: this.flowSid,
      callSid: this.callSid,
    });
    this.context = new StudioContext(
      { accountSid: this.accountSid, flowSid: this.flowSid, executionSid: this.executionSid },
      data,
      extras,
    );
    this.execution = this.newExecution();
    this.behaviour = options.behaviour ?? DEFAULT_PROFILE;
    this.execution.log('(run)', 'note', `Twilio behaviour: ${describeProfile(this.behaviour)}`);
    this.control = options.emulatorUrl ? new EmulatorControl(options.emulatorUrl) : undefined;
    this.call =
      data.kind === 'call' ? this.newCall(this.callSid!, { ...data.call, CallStatus: 'in-progress' }) : undefined;
    this.current = definition.initial_state;
    this.maxRunMs = options.maxRunMs ?? DEFAULT_MAX_RUN_MS;
    this.subflows = subflowsFor(definition, options.subflows);
    this.env = this.widgetEnv();
    this.firstExecution = {
      sid: this.executionSid,
      trigger: TRIGGER_EVENTS[trigger.kind],
      startedBy: trigger.kind === 'request' ? 'rest' : 'inbound',
      status: 'active',
      startedAtMs: 0,
      end: { kind: 'error', widget: definition.initial_state, message: 'not run' },
    };
    this.executions.push(this.firstExecution);
  }

  async run(): Promise<FlowRun> {
    this.armLimits();
    let end = await this.runFirstExecution();
    await this.endLastCall();
    if (this.executions.includes(this.firstExecution)) await this.closeExecution(this.firstExecution, end);
    this.execution.log(end.widget, 'end', describeEnd(end));

    const variables = { ...this.context.variables };
    const widgets: Record<string, WidgetOutputs> = { ...this.context.widgets, ...this.subflowWidgets };
    try {
      const follow = await this.runPromisedExecution(widgets);
      if (follow) {
        end = follow.end;
        Object.assign(variables, follow.context.variables);
        Object.assign(widgets, follow.context.widgets);
      }
    } finally {
      this.disarmLimits();
    }
    return this.report(end, variables, widgets);
  }

  private newExecution(): Execution {
    const { options } = this;
    return new Execution({
      context: this.context,
      urls: new ServiceUrls(options.baseUrl, options.serviceDomain, options.functionPaths ?? projectFunctionPaths),
      assetDirs: options.assetDirs ?? DEFAULT_ASSET_DIRS,
      timeScale: options.timeScale ?? 1,
      onEntry: options.onEntry,
      http: options.http,
    });
  }

  private newCall(sid: string, callParams: Record<string, string>): VoiceCall {
    const { options } = this;
    return new VoiceCall({
      execution: this.execution,
      control: this.control,
      accountSid: this.accountSid,
      flowSid: this.flowSid,
      callSid: sid,
      callParams,
      joinDelayMs: options.joinDelayMs ?? 0,
      behaviour: this.behaviour,
      fallbackUrl: options.fallbackUrl,
      onJoinedRoom: () => {
        if (options.hangUpInRoomAfterMs !== undefined && !this.hangUpScheduled)
          this.scheduleHangUp(options.hangUpInRoomAfterMs);
      },
    });
  }

  /** What the widgets see of the run; the call and the trigger event change as executions and subflows go. */
  private widgetEnv(): WidgetEnv {
    return {
      execution: this.execution,
      call: this.call,
      triggerEvent: TRIGGER_EVENTS[this.trigger.kind],
      nextOf: () => '(end)',
      contact: this.options.contact ?? SILENT_CONTACT,
      widgetName: this.current,
      placeCall: (to, from) => this.placeCall(to, from),
      runSubflow: (state) => this.runSubflow(state),
    };
  }

  /** Make Outgoing Call: the execution gets a call to `to` (answered). */
  private placeCall(to: string, from: string): VoiceCall {
    const callSid = newSid('CA');
    this.callSid = callSid;
    const placed = this.newCall(callSid, placedCallFields(this.accountSid, callSid, to, from));
    this.call = placed;
    this.env.call = placed;
    return placed;
  }

  /** The run's bounds: maxRunMs over every execution, the scenario's hang-up, the outside signal. */
  private armLimits(): void {
    const { options, execution, maxRunMs } = this;
    // Bounds the whole run, executions that follow the first included.
    this.runTimeout = setTimeout(() => execution.interrupt({ kind: 'run-timeout', afterMs: maxRunMs }), maxRunMs);
    if (options.hangUpAfterMs !== undefined) this.scheduleHangUp(options.hangUpAfterMs);
    if (options.signal?.aborted) this.onOutsideAbort();
    options.signal?.addEventListener('abort', this.onOutsideAbort, { once: true });
  }

  private disarmLimits(): void {
    clearTimeout(this.runTimeout);
    this.options.signal?.removeEventListener('abort', this.onOutsideAbort);
  }

  private readonly onOutsideAbort = () =>
    this.execution.interrupt({ kind: 'aborted', reason: String(this.options.signal?.reason ?? 'stopped') });

  private scheduleHangUp(afterMs: number): void {
    if (!this.call || this.finished) return;
    this.hangUpScheduled = true;
    this.timers.push(
      setTimeout(() => {
        this.execution.log(this.current, 'end', 'the caller hangs up');
        void this.call?.hangUp(); // reaches the emulator before the run stops waiting
        this.execution.interrupt({ kind: 'hangup' });
      }, afterMs),
    );
  }

  /** The execution the inbound contact (or the REST request) starts, to its end. */
  private async runFirstExecution(): Promise<FlowEnd> {
    try {
      await this.call?.register();
      const refused = await this.registerInbound();
      return refused ?? (await this.walk(this.definition, this.definition.initial_state, ''));
    } catch (error) {
      return endOfInterruptedRun(error, this.current);
    } finally {
      this.finished = true;
      for (const timer of this.timers) clearTimeout(timer);
    }
  }

  /**
   * The flow is over, so is the call (Studio hangs up when it has no TwiML left to give); this
   * also waits for a hang-up already on its way to the emulator. TwiML still followed in the
   * background (a widget's timeout passed without a take-back) stops here: the run is bounded.
   */
  private async endLastCall(): Promise<void> {
    const lastCall = this.call;
    if (!lastCall) return;
    await lastCall.finish();
    await lastCall.hangUp();
  }

  /** Runs the widgets of `flow` from `start` until a transition without a next widget (or a limit). */
  private async walk(flow: FlowDefinition, start: string, prefix: string): Promise<FlowEnd> {
    let here = start;
    for (;;) {
      const name = prefix + here;
      this.current = name;
      const state = findState(flow, here);
      if (!state) return { kind: 'error', widget: name, message: `no state named "${here}"` };
      const cutOff = await this.limitReached(name);
      if (cutOff) return cutOff;
      this.countStep(name, state);
      const callGone = await this.untilTheCallerIsBack(name, state);
      if (callGone) return callGone;

      const result = await runWidget(state, this.env);
      if (result.outputs) this.execution.context.widgets[state.name] = result.outputs;
      if (result.callEnded !== undefined) return { kind: 'call-ended', widget: name, reason: result.callEnded };
      const next = this.takeTransition(name, prefix, state, result);
      if (!next) return { kind: 'completed', widget: name, event: result.event };
      here = next;
    }
  }

  /** The end Studio gives the execution before `name` runs (its limits, or an end from outside). */
  private async limitReached(name: string): Promise<FlowEnd | undefined> {
    const done = this.runs.get(name) ?? 0;
    if (done + 1 >= STUDIO_WIDGET_RUN_LIMIT) return { kind: 'widget-limit', widget: name, runs: done + 1 };
    if (this.steps >= STUDIO_STEP_LIMIT) return { kind: 'step-limit', widget: name, steps: this.steps };
    if (this.watched && this.control) {
      // Studio may have ended the execution from outside (REST Status=ended, or replaced it).
      const known = await this.control.execution(this.watched, this.execution.signal).catch(() => undefined);
      if (known?.status === 'ended') return { kind: 'execution-ended', widget: name, by: known.endedBy ?? 'rest' };
    }
    return undefined;
  }

  private countStep(name: string, state: FlowState): void {
    this.runs.set(name, (this.runs.get(name) ?? 0) + 1);
    this.steps += 1;
    this.totalSteps += 1;
    this.pathTaken.push(name);
    this.env.widgetName = name;
    this.env.nextOf = (event: string) => state.transitions.find((t) => t.event === event)?.next ?? '(end)';
  }

  /** A widget that needs the caller waits until the call is back in Studio; the end when it never comes back. */
  private async untilTheCallerIsBack(name: string, state: FlowState): Promise<FlowEnd | undefined> {
    const { call } = this;
    if (!call || !NEEDS_THE_CALLER.has(state.type)) return undefined;
    if (call.hungUp) return { kind: 'caller-hung-up', widget: name };
    // The call may still be in TwiML an earlier widget handed out (its timeout passed, S4).
    const back = await call.untilBackInStudio(name, this.execution.signal);
    return back.kind === 'call-ended' ? { kind: 'call-ended', widget: name, reason: back.reason } : undefined;
  }

  /** Records the transition the widget's result takes; returns the next widget, if any. */
  private takeTransition(name: string, prefix: string, state: FlowState, result: WidgetResult): string | undefined {
    const transition = transitionFor(state, result);
    const next = transition?.next;
    this.taken.push({
      widget: name,
      event: result.event,
      index: transition ? state.transitions.indexOf(transition) : -1,
      ...(next ? { next: prefix + next } : {}),
    });
    if (result.summary !== undefined)
      this.execution.log(name, 'widget', `${result.summary} ⇒ ${result.event} → ${next ?? '(end)'}`);
    return next;
  }

  /** Run Subflow: the subflow's widgets run in this execution, with its own variables (Studio's Subflows page). */
  private async runSubflow(state: FlowState): Promise<WidgetResult> {
    const name = this.env.widgetName;
    const sid = String(state.properties.flow_sid ?? '');
    if (this.subflowDepth > 0)
      return { event: 'failed', summary: 'a subflow cannot run another subflow (Studio allows one level)' };
    const parameters = Object.fromEntries(await this.context.renderKeyValues(state.properties.parameters));
    const subflow = this.subflows[sid] ?? this.subflows['*'];
    if (!subflow) return this.missingSubflow(name, sid);
    const entry = findState(subflow, subflow.initial_state)?.transitions.find(
      (t) => t.event === 'incomingParent',
    )?.next;
    if (!entry)
      return {
        event: 'failed',
        summary: `subflow ${sid} has nothing connected to its Subflow trigger (incomingParent)`,
      };
    const parentContext = this.execution.context;
    const subContext = new StudioContext(parentContext.ids, parentContext.trigger, {
      parentParameters: parameters,
      data: parentContext.extras.data,
    });
    this.execution.log(
      name,
      'widget',
      `runs subflow ${sid} with trigger.parent.parameters ${JSON.stringify(parameters)}`,
    );
    const subEnd = await this.walkSubflow(subflow, sid, name, subContext);
    return subflowResult(subEnd, subContext);
  }

  /** A subflow whose definition was not given: completes (--auto) or stops the run saying so. */
  private missingSubflow(name: string, sid: string): WidgetResult {
    if (this.options.missingSubflow === 'complete') {
      this.execution.log(
        name,
        'note',
        `the definition of subflow ${sid} was not given (--subflow ${sid}=FILE): taken as a subflow that completes and sets no variables`,
      );
      return { event: 'completed', outputs: {}, summary: `subflow ${sid} (not given) completes` };
    }
    throw new MissingSubflowError(
      `Run Subflow "${name}" runs flow ${sid || '(no flow_sid)'}, whose definition was not given: name it with --subflow ${sid || 'FW…'}=FILE (or "subflows" in the scenario file)`,
    );
  }

  /** Walks the subflow's widgets with its own context and trigger event, then gives the parent its own back. */
  private async walkSubflow(
    subflow: FlowDefinition,
    sid: string,
    name: string,
    subContext: StudioContext,
  ): Promise<FlowEnd> {
    const { execution, env } = this;
    const parentContext = execution.context;
    const parentTrigger = env.triggerEvent;
    execution.context = subContext;
    env.triggerEvent = 'incomingParent';
    this.subflowDepth += 1;
    // The subflow's own webhook: its SID, or one made up for a placeholder. Whether Studio takes a
    // call back at the subflow's webhook is not documented; Voice returning there or at the
    // parent's is taken as the return to this execution (voice-call.ts).
    const subflowCall = env.call;
    if (subflowCall) subflowCall.subflowSid = isSid(sid, 'FW') ? sid : newSid('FW');
    try {
      return await this.walk(subflow, subflow.initial_state, `${name}/`);
    } catch (error) {
      if (error instanceof RunInterrupted || LOUD_ERRORS.some((kind) => error instanceof kind)) throw error;
      return { kind: 'error', widget: this.current, message: error instanceof Error ? error.message : String(error) };
    } finally {
      if (subflowCall) subflowCall.subflowSid = undefined;
      for (const [inner, outputs] of Object.entries(subContext.widgets))
        this.subflowWidgets[`${name}/${inner}`] = outputs;
      execution.context = parentContext;
      env.triggerEvent = parentTrigger;
      env.widgetName = name;
      this.subflowDepth -= 1;
    }
  }

  /**
   * Studio starts an execution for the inbound message or call, held to one active execution
   * per contact in the flow; the emulator keeps it so the REST API sees it. Returns the end of a
   * run Studio would not start (the contact has one active already).
   */
  private async registerInbound(): Promise<FlowEnd | undefined> {
    const { control, definition, execution } = this;
    if (!control || this.trigger.kind === 'request') return undefined;
    const { contact, flow } = this.context.addresses();
    const registered = await control.registerExecution({
      flowSid: this.flowSid,
      executionSid: this.executionSid,
      accountSid: this.accountSid,
      contact,
      flowAddress: flow,
      trigger: TRIGGER_EVENTS[this.trigger.kind],
      // A call into a flow that allows concurrent calls is not held to one execution per caller.
      concurrent: startingTrigger(this.trigger).kind === 'call' && definition.flags?.allow_concurrent_calls === true,
      definition,
    });
    if (registered.kind === 'unsupported') {
      execution.log(
        '(run)',
        'note',
        'the emulator does not keep Studio executions (404): the one-active-execution rule is not played',
      );
      return undefined;
    }
    if (registered.kind === 'refused') {
      this.executions.length = 0; // Studio started none
      return {
        kind: 'error',
        widget: definition.initial_state,
        message: `Studio starts no execution: ${contact} already has execution ${registered.activeExecutionSid} active in this flow (one active execution per contact)`,
      };
    }
    this.watched = this.executionSid;
    return undefined;
  }

  /** The execution's flow ended: so does the execution (unless Studio ended it first). */
  private async closeExecution(record: RunExecution, how: FlowEnd): Promise<void> {
    const { control, execution } = this;
    record.end = how;
    record.endedAtMs = execution.clock.now();
    const sid = this.watched;
    this.watched = undefined;
    if (!control || sid !== record.sid) {
      record.status = 'ended';
      record.endedBy = 'flow-ended';
      return;
    }
    try {
      const ended = await control.endExecution(sid);
      record.status = ended.status;
      record.endedBy = ended.endedBy ?? 'flow-ended';
      if (ended.alreadyEnded)
        execution.log(
          how.widget,
          'note',
          `Studio had already ended execution ${sid} (${ended.endedBy ?? 'from outside'})`,
        );
    } catch (error) {
      execution.log(how.widget, 'note', `could not end execution ${sid} in the emulator: ${(error as Error).message}`);
    }
  }

  /**
   * After an inbound execution whose service promised to start one with the job's outcome
   * (StartReply.delivery = execution): wait for it (bounded, in the run's time), claim it and run
   * it as Studio would, trigger `incomingRequest`, in the same report.
   */
  private async runPromisedExecution(
    seen: Record<string, WidgetOutputs>,
  ): Promise<{ end: FlowEnd; context: StudioContext } | undefined> {
    const claimed = await this.claimPromisedExecution(seen);
    return claimed ? this.runRestExecution(claimed) : undefined;
  }

  /** The REST-created execution the service promised, claimed once it came (undefined when none did in time). */
  private async claimPromisedExecution(seen: Record<string, WidgetOutputs>): Promise<ControlExecution | undefined> {
    const { control, execution, trigger } = this;
    if (!control || trigger.kind === 'request' || trigger.kind === 'parent' || execution.signal.aborted)
      return undefined;
    if (!handlesRestExecutions(this.definition) || !promisedExecution(seen)) return undefined;
    const { contact } = this.context.addresses();
    const waitMs = Math.min(
      this.options.restExecutionWaitMs ?? DEFAULT_REST_EXECUTION_WAIT_MS,
      Math.max(0, this.maxRunMs - execution.clock.now()),
    );
    execution.log(
      '(run)',
      'note',
      `the service said it will start an execution with the outcome: waiting up to ${Math.round(waitMs / 1000)} s for it`,
    );
    let claimed;
    try {
      claimed = await claimRestExecution(
        control,
        { flowSid: this.flowSid, contact },
        Date.now() + waitMs,
        execution.signal,
      );
    } catch (error) {
      if (error instanceof RunInterrupted || execution.signal.aborted) return undefined;
      execution.log('(run)', 'note', `could not read the emulator's executions: ${(error as Error).message}`);
      return undefined;
    }
    if (!claimed)
      execution.log('(run)', 'note', `no execution for ${contact} came within ${Math.round(waitMs / 1000)} s`);
    return claimed;
  }

  /** Runs a claimed REST-created execution of the flow (`incomingRequest`, its `flow.data`), to its end. */
  private async runRestExecution(claimed: ControlExecution): Promise<{ end: FlowEnd; context: StudioContext }> {
    const { execution, env, accountSid, flowSid } = this;
    const restContext = new StudioContext(
      { accountSid, flowSid, executionSid: claimed.executionSid },
      {
        kind: 'request',
        request: { To: claimed.contact, From: claimed.flowAddress, AccountSid: accountSid, FlowSid: flowSid },
      },
      { data: claimed.data },
    );
    const record: RunExecution = {
      sid: claimed.executionSid,
      trigger: 'incomingRequest',
      startedBy: 'rest',
      status: 'active',
      startedAtMs: execution.clock.now(),
      data: claimed.data,
      end: this.firstExecution.end,
    };
    this.executions.push(record);
    execution.log(
      '(run)',
      'note',
      `Studio runs execution ${claimed.executionSid}, started through the REST API (incomingRequest, flow.data ${JSON.stringify(claimed.data).slice(0, 200)})`,
    );
    execution.context = restContext;
    env.call = undefined;
    env.triggerEvent = 'incomingRequest';
    this.runs.clear();
    this.steps = 0;
    this.watched = claimed.executionSid;
    let restEnd: FlowEnd;
    try {
      restEnd = await this.walk(this.definition, this.definition.initial_state, '');
    } catch (error) {
      restEnd = endOfInterruptedRun(error, this.current);
    }
    await this.closeExecution(record, restEnd);
    execution.log(restEnd.widget, 'end', describeEnd(restEnd));
    return { end: restEnd, context: restContext };
  }

  private report(end: FlowEnd, variables: Record<string, string>, widgets: Record<string, WidgetOutputs>): FlowRun {
    const { execution } = this;
    return {
      behaviour: this.behaviour,
      startedAt: execution.clock.startedAt,
      flowSid: this.flowSid,
      executionSid: this.executionSid,
      callSid: this.callSid,
      timeline: execution.timeline,
      heard: execution.heard,
      messages: execution.messages,
      flexTasks: execution.flexTasks,
      actions: execution.actions,
      requests: execution.requests,
      rooms: execution.rooms,
      variables,
      widgets,
      path: this.pathTaken,
      taken: this.taken,
      end,
      executions: this.executions,
      steps: this.totalSteps,
      durationMs: execution.clock.now(),
    };
  }
}

/** What the subflow's end means for the Run Subflow widget; an end that ends the execution is thrown. */
function subflowResult(subEnd: FlowEnd, subContext: StudioContext): WidgetResult {
  if (subEnd.kind === 'completed') {
    const back = { ...subContext.variables };
    const listed = Object.entries(back)
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ');
    return {
      event: 'completed',
      outputs: back,
      summary: `the subflow ends after ${subEnd.widget}${listed ? `; back to the parent: ${listed}` : ''}`,
    };
  }
  if (subEnd.kind === 'error')
    return { event: 'failed', outputs: {}, summary: `the subflow failed in ${subEnd.widget}: ${subEnd.message}` };
  throw new ExecutionEnded(subEnd);
}

function transitionFor(state: FlowState, result: WidgetResult): Transition | undefined {
  return result.transition ?? state.transitions.find((transition) => transition.event === result.event);
}

/** The service's function paths from src/functions (read only when a widget needs them). */
function projectFunctionPaths(): string[] {
  return listServiceFunctions(FUNCTIONS_SRC_DIR) ?? [];
}
