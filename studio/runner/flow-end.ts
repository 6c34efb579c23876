/** How an execution ends: the end an error stands for, and the sentence a report gives it. */
import { STUDIO_STEP_LIMIT, STUDIO_WIDGET_RUN_LIMIT } from '../platform';
import { RunInterrupted } from './clock';
import { LiquidRenderError } from './studio-context';
import type { FlowEnd } from './types';
import { NeedsACallError } from './widgets-contact';

/** The subflow's execution ended in a way that ends the whole execution (limits, hang-up, call ended). */
export class ExecutionEnded extends Error {
  constructor(readonly end: FlowEnd) {
    super(end.kind);
  }
}

/** The end of an execution that a thrown error stopped while `widget` ran. */
export function endOfInterruptedRun(error: unknown, widget: string): FlowEnd {
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
        return {
          kind: 'error',
          widget,
          message: `stopped: ${interruption.kind === 'aborted' ? interruption.reason : interruption.kind}`,
        };
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
