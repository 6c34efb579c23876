/**
 * How the states hang together: unique usable names, the Trigger first and named by
 * initial_state, every `next` naming a state, every state reachable from the Trigger.
 */
import type { FlowDefinition } from '../flow-model';
import type { FaultList } from './fault';

/** Studio widget names: letters, digits, `_` and `-` (they are used as `widgets.NAME` in Liquid). */
const WIDGET_NAME = /^[A-Za-z0-9_-]+$/;

export function checkGraph(definition: FlowDefinition, faults: FaultList): void {
  const { states } = definition;
  const counts = new Map<string, number>();
  for (const state of states) counts.set(state.name, (counts.get(state.name) ?? 0) + 1);

  const reported = new Set<string>();
  for (const state of states) {
    const count = counts.get(state.name) ?? 0;
    if (count > 1 && !reported.has(state.name)) {
      reported.add(state.name);
      faults.error(state.name, 'name', `is used by ${count} states; state names must be unique`);
    }
    if (!WIDGET_NAME.test(state.name)) {
      faults.error(
        state.name,
        'name',
        'may hold only letters, digits, "_" and "-" (Liquid reads it as widgets.NAME)',
      );
    }
  }

  const triggers = states.filter((state) => state.type === 'trigger');
  const first = states[0];
  if (first && first.type !== 'trigger') {
    faults.error(first.name, 'type', `the first state must be the Trigger, found "${first.type}"`);
  }
  if (triggers.length === 0) {
    faults.error(null, 'states', 'has no Trigger state (type "trigger")');
  }
  for (const extra of triggers.slice(1)) {
    faults.error(extra.name, 'type', 'a flow has exactly one Trigger state');
  }

  const trigger = triggers[0];
  if (definition.initial_state !== '' && trigger && definition.initial_state !== trigger.name) {
    faults.error(
      null,
      'initial_state',
      `names "${definition.initial_state}", but the Trigger state is "${trigger.name}"`,
    );
  }

  for (const state of states) {
    state.transitions.forEach((transition, index) => {
      if (transition.next !== undefined && !counts.has(transition.next)) {
        faults.error(
          state.name,
          `transitions[${index}].next`,
          `names state "${transition.next}", which this flow does not have`,
        );
      }
    });
  }

  if (trigger) reportUnreachable(definition, trigger.name, faults);
}

function reportUnreachable(definition: FlowDefinition, start: string, faults: FaultList): void {
  const byName = new Map(definition.states.map((state) => [state.name, state]));
  const reached = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const state = byName.get(queue.shift() as string);
    for (const transition of state?.transitions ?? []) {
      const next = transition.next;
      if (next !== undefined && byName.has(next) && !reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  const reportedNames = new Set<string>();
  for (const state of definition.states) {
    if (!reached.has(state.name) && !reportedNames.has(state.name)) {
      reportedNames.add(state.name);
      faults.error(state.name, 'name', 'is unreachable: no transition from the Trigger leads here');
    }
  }
}
