/**
 * Types of a Studio Flow definition (the `definition` of Studio REST API v2), shared by the flow
 * checker, the diagram generator and the flow runner.
 *
 * A definition is `{description, states[], initial_state, flags}`; each state is a widget with a
 * name, a type, its transitions (event -> next state) and its properties.
 */

export interface FlowDefinition {
  description: string;
  states: FlowState[];
  initial_state: string;
  flags: FlowFlags;
}

export interface FlowFlags {
  allow_concurrent_calls: boolean;
}

export interface FlowState {
  name: string;
  /** Widget type, e.g. `run-function`; see widget-catalog.ts for the known ones. */
  type: string;
  transitions: Transition[];
  properties: StateProperties;
}

export interface Transition {
  event: string;
  /** Absent when the event ends the execution. */
  next?: string;
  /** Only on `match` transitions of split-based-on. */
  conditions?: SplitCondition[];
}

export interface SplitCondition {
  friendly_name?: string;
  arguments: string[];
  type: string;
  value: string;
}

export interface Offset {
  x: number;
  y: number;
}

/** Key/value pairs: Run Function parameters, Set Variables variables and the like. */
export interface KeyValue {
  key: string;
  value: string;
}

export interface StateProperties {
  offset: Offset;
  [property: string]: unknown;
}

/**
 * A flow whose Trigger leads with `triggerTransitions` into `states`: the skeleton every flow
 * written in code (tests, probes, benchmarks) shares, so each one states only what differs.
 */
export function flowWith(description: string, triggerTransitions: Transition[], states: FlowState[]): FlowDefinition {
  const trigger: FlowState = {
    name: 'Trigger',
    type: 'trigger',
    transitions: triggerTransitions,
    properties: { offset: { x: 0, y: 0 } },
  };
  return {
    description,
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
    states: [trigger, ...states],
  };
}

export function findState(definition: FlowDefinition, name: string): FlowState | undefined {
  return definition.states.find((state) => state.name === name);
}

/** The state a transition of `state` on `event` leads to, if any (first match for splits). */
export function nextStateName(state: FlowState, event: string): string | undefined {
  return state.transitions.find((transition) => transition.event === event)?.next;
}

/** Value of a Run Function / HTTP Request parameter, or a Set Variables variable, by key. */
export function keyValue(list: unknown, key: string): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find(
    (item): item is KeyValue => typeof item === 'object' && item !== null && (item as KeyValue).key === key,
  );
  return entry?.value;
}
