/**
 * Executions started through Studio's REST API for the run's contact: a messaging flow that did
 * not wait for a job's outcome ends, and the service later starts a new execution of the same
 * flow (trigger `incomingRequest`, `flow.data` = the outcome) when the job is final. The runner
 * plays Studio there too: it waits for that execution in the emulator, claims it and runs it.
 */
import type { Delivery } from '../../src/lib/contracts';
import type { FlowDefinition } from '../flow-model';
import { findState } from '../flow-model';
import type { EmulatorControl, ControlExecution } from './emulator-control';
import type { WidgetOutputs } from './studio-context';

export const DEFAULT_REST_EXECUTION_WAIT_MS = 120_000;
const EXECUTION_DELIVERY: Delivery = 'execution';

/** The flow starts widgets on `incomingRequest` (a REST-created execution has something to run). */
export function handlesRestExecutions(definition: FlowDefinition): boolean {
  const trigger = findState(definition, definition.initial_state);
  return Boolean(trigger?.transitions.some((t) => t.event === 'incomingRequest' && t.next));
}

/** A Run Function reply of the run said the service will start an execution with the outcome (StartReply.delivery). */
export function promisedExecution(widgets: Record<string, WidgetOutputs>): boolean {
  return Object.values(widgets).some((outputs) => {
    const parsed = (outputs as { parsed?: unknown }).parsed;
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { delivery?: unknown }).delivery === EXECUTION_DELIVERY
    );
  });
}

/**
 * Waits, until `deadline` (epoch ms) at the latest, for a REST-created execution of the flow for
 * the contact, and claims it. Undefined when none came in time.
 */
export async function claimRestExecution(
  control: EmulatorControl,
  where: { flowSid: string; contact: string },
  deadline: number,
  signal: AbortSignal,
): Promise<ControlExecution | undefined> {
  while (!signal.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    const found = await control.unclaimedExecutions(where.flowSid, where.contact, left, signal);
    for (const candidate of found) {
      const claimed = await control.claimExecution(candidate.executionSid);
      if (claimed) return claimed;
    }
  }
  return undefined;
}
