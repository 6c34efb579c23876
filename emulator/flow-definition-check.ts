/**
 * The structural checks Studio applies to a flow definition before it accepts it. Widget-specific
 * property rules live in the offline flow checker (studio/); this is the part every flow must pass:
 * `{description?, states[], initial_state, flags?: {allow_concurrent_calls?}}`, uniquely named
 * states with a type, transitions that point at existing states, and a trigger as initial state.
 */

export interface FlowDefinitionError {
  message: string;
  /** JSON pointer into the definition, as Studio reports it. */
  property_path: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkFlowDefinition(definition: unknown): FlowDefinitionError[] {
  const errors: FlowDefinitionError[] = [];
  const fail = (property_path: string, message: string) => errors.push({ message, property_path });

  if (!isObject(definition)) {
    fail('#', 'Flow definition must be a JSON object');
    return errors;
  }
  if (definition.description !== undefined && typeof definition.description !== 'string') {
    fail('#/description', 'description must be a string');
  }
  if (definition.flags !== undefined) {
    if (!isObject(definition.flags)) fail('#/flags', 'flags must be an object');
    else if (
      definition.flags.allow_concurrent_calls !== undefined &&
      typeof definition.flags.allow_concurrent_calls !== 'boolean'
    ) {
      fail('#/flags/allow_concurrent_calls', 'allow_concurrent_calls must be a boolean');
    }
  }
  const states = definition.states;
  if (!Array.isArray(states) || states.length === 0) {
    fail('#/states', 'states must be a non-empty array');
    return errors;
  }

  const names = new Map<string, string>();
  states.forEach((state, i) => {
    if (!isObject(state)) return fail(`#/states/${i}`, 'state must be an object');
    if (typeof state.name !== 'string' || state.name === '')
      return fail(`#/states/${i}/name`, 'state name must be a non-empty string');
    if (names.has(state.name)) fail(`#/states/${i}/name`, `duplicate state name "${state.name}"`);
    names.set(state.name, typeof state.type === 'string' ? state.type : '');
  });

  states.forEach((state, i) => {
    if (!isObject(state)) return;
    const at = `#/states/${i}`;
    if (typeof state.type !== 'string' || state.type === '')
      fail(`${at}/type`, 'state type must be a non-empty string');
    if (!isObject(state.properties)) fail(`${at}/properties`, 'properties must be an object');
    if (!Array.isArray(state.transitions)) return fail(`${at}/transitions`, 'transitions must be an array');
    state.transitions.forEach((transition, j) => {
      const tAt = `${at}/transitions/${j}`;
      if (!isObject(transition)) return fail(tAt, 'transition must be an object');
      if (typeof transition.event !== 'string' || transition.event === '')
        fail(`${tAt}/event`, 'event must be a non-empty string');
      if (transition.next !== undefined && transition.next !== null && transition.next !== '') {
        if (typeof transition.next !== 'string') fail(`${tAt}/next`, 'next must be a string');
        else if (!names.has(transition.next)) fail(`${tAt}/next`, `next names unknown state "${transition.next}"`);
      }
      if (transition.conditions !== undefined && !Array.isArray(transition.conditions)) {
        fail(`${tAt}/conditions`, 'conditions must be an array');
      }
    });
  });

  if (typeof definition.initial_state !== 'string') {
    fail('#/initial_state', 'initial_state must be a string');
  } else if (!names.has(definition.initial_state)) {
    fail('#/initial_state', `initial_state names unknown state "${definition.initial_state}"`);
  } else if (names.get(definition.initial_state) !== 'trigger') {
    fail('#/initial_state', 'initial_state must be the trigger state');
  }
  return errors;
}
