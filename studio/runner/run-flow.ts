/**
 * runFlow: executes a Studio Flow definition against the local service the way Studio and Twilio
 * Voice would, and returns what happened (timeline, audio heard, messages, variables, where the
 * flow ended). Reentrant: every run has its own state; bounded by maxRunMs; leaves no timers.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { DEFAULT_PROFILE, describeProfile } from '../../emulator/twilio-behaviour';
import { findState, type FlowState, type Transition } from '../flow-model';
import { STUDIO_WIDGET_RUN_LIMIT } from '../widget-catalog';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../project-paths';
import { listServiceFunctions } from '../checker/service-functions';
import { RunInterrupted } from './clock';
import { EmulatorControl } from './emulator-control';
import { Execution } from './execution';
import { ServiceUrls } from './service-urls';
import { StudioContext, type TriggerData } from './studio-context';
import type { CallTrigger, FlowEnd, FlowRun, MessageTrigger, RunFlowOptions } from './types';
import { VoiceCall } from './voice-call';
import { NEEDS_THE_CALLER, runWidget, type WidgetEnv, type WidgetResult } from './widgets';

/** Studio ends an execution after this many steps. */
export const STUDIO_STEP_LIMIT = 1000;
const DEFAULT_MAX_RUN_MS = 30 * 60_000;
/** The local stack's account (tools/credentials.ts LOCAL_ACCOUNT_SID). */
const LOCAL_ACCOUNT_SID = 'AC' + '0'.repeat(32);
const DEFAULT_ASSET_DIRS = [path.join(PROJECT_ROOT, 'dist', 'assets'), path.join(PROJECT_ROOT, 'src', 'assets')];

export const newSid = (prefix: string) => prefix + crypto.randomBytes(16).toString('hex');

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

function transitionFor(state: FlowState, result: WidgetResult): Transition | undefined {
  return result.transition ?? state.transitions.find((transition) => transition.event === result.event);
}

export async function runFlow(options: RunFlowOptions): Promise<FlowRun> {
  const { definition } = options;
  const accountSid = options.accountSid ?? LOCAL_ACCOUNT_SID;
  const flowSid = options.flowSid ?? newSid('FW');
  const executionSid = newSid('FN');
  const trigger = options.trigger;
  const callSid = trigger.kind === 'call' ? (trigger.callSid ?? newSid('CA')) : undefined;
  const triggerData: TriggerData =
    trigger.kind === 'call' ? { kind: 'call', call: callFields(trigger, accountSid, callSid!) } : { kind: 'message', message: messageFields(trigger, accountSid) };

  const context = new StudioContext({ accountSid, flowSid, executionSid }, triggerData);
  const urls = new ServiceUrls(options.baseUrl, options.serviceDomain, options.functionPaths ?? projectFunctionPaths);
  const execution = new Execution({
    context,
    urls,
    assetDirs: options.assetDirs ?? DEFAULT_ASSET_DIRS,
    timeScale: options.timeScale ?? 1,
    onEntry: options.onEntry,
  });
  const behaviour = options.behaviour ?? DEFAULT_PROFILE;
  execution.log('(run)', 'note', `Twilio behaviour: ${describeProfile(behaviour)}`);
  const control = options.emulatorUrl ? new EmulatorControl(options.emulatorUrl) : undefined;
  const call =
    triggerData.kind === 'call'
      ? new VoiceCall({
          execution,
          control,
          accountSid,
          flowSid,
          callSid: callSid!,
          callParams: { ...triggerData.call, CallStatus: 'in-progress' },
          joinDelayMs: options.joinDelayMs ?? 0,
          behaviour,
          fallbackUrl: options.fallbackUrl,
          onJoinedRoom: () => {
            if (options.hangUpInRoomAfterMs !== undefined && !hangUpScheduled) scheduleHangUp(options.hangUpInRoomAfterMs);
          },
        })
      : undefined;

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
        void call.hangUp(); // reaches the emulator before the run stops waiting
        execution.interrupt({ kind: 'hangup' });
      }, afterMs),
    );
  };
  const maxRunMs = options.maxRunMs ?? DEFAULT_MAX_RUN_MS;
  timers.push(setTimeout(() => execution.interrupt({ kind: 'run-timeout', afterMs: maxRunMs }), maxRunMs));
  if (options.hangUpAfterMs !== undefined) scheduleHangUp(options.hangUpAfterMs);
  const onOutsideAbort = () => execution.interrupt({ kind: 'aborted', reason: String(options.signal?.reason ?? 'stopped') });
  if (options.signal?.aborted) onOutsideAbort();
  options.signal?.addEventListener('abort', onOutsideAbort, { once: true });

  const runs = new Map<string, number>();
  const pathTaken: string[] = [];
  let steps = 0;
  let end: FlowEnd;
  const env: WidgetEnv = {
    execution,
    call,
    triggerEvent: trigger.kind === 'call' ? 'incomingCall' : 'incomingMessage',
    nextOf: () => '(end)',
  };

  try {
    await call?.register();
    for (;;) {
      const state = findState(definition, current);
      if (!state) {
        end = { kind: 'error', widget: current, message: `no state named "${current}"` };
        break;
      }
      const done = runs.get(state.name) ?? 0;
      if (done + 1 >= STUDIO_WIDGET_RUN_LIMIT) {
        end = { kind: 'widget-limit', widget: state.name, runs: done + 1 };
        break;
      }
      if (steps >= STUDIO_STEP_LIMIT) {
        end = { kind: 'step-limit', widget: state.name, steps };
        break;
      }
      runs.set(state.name, done + 1);
      steps += 1;
      pathTaken.push(state.name);
      env.nextOf = (event: string) => state.transitions.find((t) => t.event === event)?.next ?? '(end)';
      if (call && NEEDS_THE_CALLER.has(state.type)) {
        // The call may still be in TwiML an earlier widget handed out (its timeout passed, S4).
        const back = await call.untilBackInStudio(state.name, execution.signal);
        if (back.kind === 'call-ended') {
          end = { kind: 'call-ended', widget: state.name, reason: back.reason };
          break;
        }
      }

      const result = await runWidget(state, env);
      if (result.outputs) context.widgets[state.name] = result.outputs;
      if (result.callEnded !== undefined) {
        end = { kind: 'call-ended', widget: state.name, reason: result.callEnded };
        break;
      }
      const next = transitionFor(state, result)?.next;
      if (result.summary !== undefined) execution.log(state.name, 'widget', `${result.summary} ⇒ ${result.event} → ${next ?? '(end)'}`);
      if (!next) {
        end = { kind: 'completed', widget: state.name, event: result.event };
        break;
      }
      current = next;
    }
  } catch (error) {
    end = endOfInterruptedRun(error, current);
  } finally {
    finished = true;
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOutsideAbort);
  }

  // The flow is over, so is the call (Studio hangs up when it has no TwiML left to give); this
  // also waits for a hang-up already on its way to the emulator. TwiML still followed in the
  // background (a widget's timeout passed without a take-back) stops here: the run is bounded.
  if (call) {
    await call.finish();
    await call.hangUp();
  }
  execution.log(end.widget, 'end', describeEnd(end));

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
    requests: execution.requests,
    rooms: execution.rooms,
    variables: { ...context.variables },
    widgets: context.widgets,
    path: pathTaken,
    end,
    steps,
    durationMs: execution.clock.now(),
  };
}

function endOfInterruptedRun(error: unknown, widget: string): FlowEnd {
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
    case 'error':
      return `the run failed in ${end.widget}: ${end.message}`;
  }
}

/** The service's function paths from src/functions (read only when a widget needs them). */
function projectFunctionPaths(): string[] {
  return listServiceFunctions(FUNCTIONS_DIR) ?? [];
}
