/**
 * How the states hang together: unique usable names, the Trigger first and named by
 * initial_state, every `next` naming a state, every state reachable from the Trigger.
 *
 * Errors are what Studio refuses: the Flows API rejects a definition whose widget names are not
 * unique or whose transitions name a widget that does not exist (error 81022, "Flow definition
 * validation failed", twilio.com/docs/api/errors/81022), and a flow needs its one Trigger (the
 * Trigger widget page: every flow begins with it and it cannot be deleted). Warnings are what
 * Studio keeps: a widget no transition leads to stays on the canvas and in exports (real exports
 * carry such widgets), it only never runs; and where Studio's rule is not known (the Trigger's
 * place in `states`, an initial_state naming another widget, the characters of a name).
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
      faults.warning(
        state.name,
        'name',
        'holds characters other than letters, digits, "_" and "-": Liquid cannot read it as widgets.NAME, and whether Studio accepts such a name is not known',
      );
    }
  }

  const triggers = states.filter((state) => state.type === 'trigger');
  const first = states[0];
  if (first && first.type !== 'trigger' && triggers.length > 0) {
    faults.warning(
      first.name,
      'type',
      `the first state is not the Trigger (found "${first.type}"); Studio's exports put it first, whether Studio requires that is not known`,
    );
  }
  if (triggers.length === 0) {
    faults.error(null, 'states', 'has no Trigger state (type "trigger")');
  }
  for (const extra of triggers.slice(1)) {
    faults.error(extra.name, 'type', 'a flow has exactly one Trigger state');
  }

  const trigger = triggers[0];
  if (definition.initial_state !== '' && !counts.has(definition.initial_state)) {
    faults.error(null, 'initial_state', `names "${definition.initial_state}", which this flow does not have`);
  } else if (definition.initial_state !== '' && trigger && definition.initial_state !== trigger.name) {
    faults.warning(
      null,
      'initial_state',
      `names "${definition.initial_state}", but the Trigger state is "${trigger.name}"; what Studio does with such a flow is not known`,
    );
  }

  for (const state of states) {
    state.transitions.forEach((transition, index) => {
      // An empty `next` ends the execution, like an absent one.
      if (transition.next !== undefined && transition.next !== '' && !counts.has(transition.next)) {
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
      faults.warning(
        state.name,
        'name',
        'is disconnected: no transition from the Trigger leads here, so it never runs (Studio keeps such widgets)',
      );
    }
  }
}
