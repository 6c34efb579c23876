/**
 * The JSON shape of a Studio REST API v2 definition:
 * `{description, states[], initial_state, flags: {allow_concurrent_calls}}`, each state
 * `{name, type, transitions: [{event, next?, conditions?}], properties: {offset: {x, y}, ...}}`.
 *
 * Returns a definition the later checks can trust: states whose name or type is unusable are
 * dropped (after being reported), broken transitions or properties are read as empty.
 *
 * Source: Studio's flow definition schema (twilio.com/docs/studio/rest-api/v2/schemas): states
 * (1 to 1000, studio/platform.ts; only "at least one" is checked), initial_state (non-empty),
 * flags {allow_concurrent_calls: boolean}, description a string. A value of the wrong JSON type is
 * an error (the Flows API refuses it, error 81022); a missing description, flags or widget offset
 * is a warning, as whether Studio requires them is not known (its exports always carry them).
 */
import type { FlowDefinition, FlowState, Transition } from '../flow-model';
import { describeValue, FaultList } from './fault';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkShape(input: unknown, faults: FaultList): FlowDefinition | null {
  if (!isObject(input)) {
    faults.error(null, '(definition)', `must be a JSON object, got ${describeValue(input)}`);
    return null;
  }
  if (input.description === undefined) {
    faults.warning(
      null,
      'description',
      "is missing; Studio's exports carry one, whether Studio requires it is not known",
    );
  } else if (typeof input.description !== 'string') {
    faults.error(null, 'description', `must be a string, got ${describeValue(input.description)}`);
  }
  if (typeof input.initial_state !== 'string') {
    faults.error(
      null,
      'initial_state',
      `must be the name of the Trigger state, got ${describeValue(input.initial_state)}`,
    );
  }
  if (input.flags === undefined) {
    faults.warning(
      null,
      'flags',
      `is missing; Studio's exports carry {"allow_concurrent_calls": true|false}, whether Studio requires it is not known`,
    );
  } else if (!isObject(input.flags) || typeof input.flags.allow_concurrent_calls !== 'boolean') {
    faults.error(null, 'flags', `must be {"allow_concurrent_calls": true|false}, got ${describeValue(input.flags)}`);
  }
  if (!Array.isArray(input.states) || input.states.length === 0) {
    faults.error(null, 'states', `must be a non-empty array, got ${describeValue(input.states)}`);
    return null;
  }

  const states: FlowState[] = [];
  input.states.forEach((raw: unknown, index: number) => {
    const state = checkState(raw, index, faults);
    if (state) states.push(state);
  });
  return {
    description: typeof input.description === 'string' ? input.description : '',
    states,
    initial_state: typeof input.initial_state === 'string' ? input.initial_state : '',
    flags: { allow_concurrent_calls: isObject(input.flags) && input.flags.allow_concurrent_calls === true },
  };
}

function checkState(raw: unknown, index: number, faults: FaultList): FlowState | null {
  const label = `states[${index}]`;
  if (!isObject(raw)) {
    faults.error(label, '(state)', `must be a JSON object, got ${describeValue(raw)}`);
    return null;
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    faults.error(label, 'name', `must be a non-empty string, got ${describeValue(raw.name)}`);
    return null;
  }
  const name = raw.name;
  if (typeof raw.type !== 'string') {
    faults.error(name, 'type', `must be a widget type string, got ${describeValue(raw.type)}`);
    return null;
  }

  let properties: FlowState['properties'] = { offset: { x: 0, y: 0 } };
  if (!isObject(raw.properties)) {
    faults.error(name, 'properties', `must be a JSON object, got ${describeValue(raw.properties)}`);
  } else {
    properties = raw.properties as FlowState['properties'];
    const offset = raw.properties.offset;
    if (offset === undefined) {
      faults.warning(
        name,
        'offset',
        `is missing; Studio places every widget on the canvas by {"x": number, "y": number}, whether it requires one is not known`,
      );
    } else if (!isObject(offset) || typeof offset.x !== 'number' || typeof offset.y !== 'number') {
      faults.error(
        name,
        'offset',
        `must be {"x": number, "y": number} (Studio places every widget by it), got ${describeValue(offset)}`,
      );
    }
  }

  const transitions: Transition[] = [];
  if (!Array.isArray(raw.transitions)) {
    faults.error(name, 'transitions', `must be an array, got ${describeValue(raw.transitions)}`);
  } else {
    raw.transitions.forEach((transition: unknown, i: number) => {
      const checked = checkTransition(transition, `transitions[${i}]`, name, faults);
      // Keep the index aligned with the JSON so later messages name the right entry.
      transitions.push(checked ?? { event: '' });
    });
  }
  return { name, type: raw.type, transitions, properties };
}

function checkTransition(raw: unknown, path: string, state: string, faults: FaultList): Transition | null {
  if (!isObject(raw)) {
    faults.error(state, path, `must be {"event", "next"?}, got ${describeValue(raw)}`);
    return null;
  }
  if (typeof raw.event !== 'string' || raw.event === '') {
    faults.error(state, `${path}.event`, `must be an event name, got ${describeValue(raw.event)}`);
    return null;
  }
  const transition: Transition = { event: raw.event };
  if (raw.next !== undefined) {
    if (typeof raw.next !== 'string') {
      faults.error(state, `${path}.next`, `must be a state name, got ${describeValue(raw.next)}`);
    } else {
      transition.next = raw.next;
    }
  }
  if (raw.conditions !== undefined) {
    if (!Array.isArray(raw.conditions)) {
      faults.error(state, `${path}.conditions`, `must be an array, got ${describeValue(raw.conditions)}`);
    } else {
      transition.conditions = raw.conditions as Transition['conditions'];
    }
  }
  return transition;
}
