/**
 * The structural checks Studio applies to a flow definition before it accepts it. Widget-specific
 * property rules live in the offline flow checker (studio/); this is the part every flow must pass:
 * `{description?, states[], initial_state, flags?: {allow_concurrent_calls?}}`, uniquely named
 * states with a type, transitions that point at existing states, and a trigger as initial state.
 */
import { isObject } from './json-values';

export interface FlowDefinitionError {
  message: string;
  /** JSON pointer into the definition, as Studio reports it. */
  property_path: string;
}

type Fail = (property_path: string, message: string) => void;

/** `description` and `flags`, the optional top-level members. */
function checkOptionalMembers(definition: Record<string, unknown>, fail: Fail): void {
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
}

/** Each state's name, checked for uniqueness, mapped to its type ('' when it has none). */
function stateTypesByName(states: unknown[], fail: Fail): Map<string, string> {
  const names = new Map<string, string>();
  states.forEach((state, i) => {
    if (!isObject(state)) return fail(`#/states/${i}`, 'state must be an object');
    if (typeof state.name !== 'string' || state.name === '')
      return fail(`#/states/${i}/name`, 'state name must be a non-empty string');
    if (names.has(state.name)) fail(`#/states/${i}/name`, `duplicate state name "${state.name}"`);
    names.set(state.name, typeof state.type === 'string' ? state.type : '');
  });
  return names;
}

function checkTransition(transition: unknown, tAt: string, names: Map<string, string>, fail: Fail): void {
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
}

/** A state's type, properties and transitions (states that are no object were reported already). */
function checkState(state: unknown, at: string, names: Map<string, string>, fail: Fail): void {
  if (!isObject(state)) return;
  if (typeof state.type !== 'string' || state.type === '') fail(`${at}/type`, 'state type must be a non-empty string');
  if (!isObject(state.properties)) fail(`${at}/properties`, 'properties must be an object');
  if (!Array.isArray(state.transitions)) return fail(`${at}/transitions`, 'transitions must be an array');
  state.transitions.forEach((transition, j) => checkTransition(transition, `${at}/transitions/${j}`, names, fail));
}

function checkInitialState(initialState: unknown, names: Map<string, string>, fail: Fail): void {
  if (typeof initialState !== 'string') {
    fail('#/initial_state', 'initial_state must be a string');
  } else if (!names.has(initialState)) {
    fail('#/initial_state', `initial_state names unknown state "${initialState}"`);
  } else if (names.get(initialState) !== 'trigger') {
    fail('#/initial_state', 'initial_state must be the trigger state');
  }
}

export function checkFlowDefinition(definition: unknown): FlowDefinitionError[] {
  const errors: FlowDefinitionError[] = [];
  const fail: Fail = (property_path, message) => {
    errors.push({ message, property_path });
  };
  if (!isObject(definition)) {
    fail('#', 'Flow definition must be a JSON object');
    return errors;
  }
  checkOptionalMembers(definition, fail);
  const states = definition.states;
  if (!Array.isArray(states) || states.length === 0) {
    fail('#/states', 'states must be a non-empty array');
    return errors;
  }
  const names = stateTypesByName(states, fail);
  states.forEach((state, i) => checkState(state, `#/states/${i}`, names, fail));
  checkInitialState(definition.initial_state, names, fail);
  return errors;
}
