/**
 * Each state against its widget type: a known type, only that type's transition events (each
 * once, except a split's `match`), the required properties, and each known property in the JSON
 * type Studio wants (strings where Studio wants strings).
 *
 * Severity follows what Studio does (sources in studio/widget-catalog.ts):
 * - errors: a required property missing or empty (the widget page lists it under "Required
 *   configuration" and the console will not publish the widget without it; a template committed
 *   with it empty is broken as committed), a property of the wrong JSON type or outside its range
 *   (the widget schemas the Flows API validates against, error 81022), a split `match` with no
 *   condition (it can never be taken);
 * - warnings, saying that Studio's rule is not known: a widget type this checker does not know, an
 *   event a widget is not known to fire, an event listed twice, a split condition type not in the
 *   documented list. Studio may accept these; the checker cannot tell.
 */
import type { FlowState } from '../flow-model';
import { SPLIT_CONDITION_TYPES, widgetSpec, type PropertyKind, type WidgetSpec } from '../widget-catalog';
import { describeValue, type FaultList } from './fault';
import { FLOW_SID_PLACEHOLDER } from '../project-subflows';
import { isSid } from '../../emulator/sids';

const LIQUID = /\{\{|\{%/;
const WHOLE_NUMBER = /^\d+$/;

export function checkWidgets(states: readonly FlowState[], faults: FaultList): void {
  for (const state of states) {
    const spec = widgetSpec(state.type);
    if (!spec) {
      faults.warning(
        state.name,
        'type',
        `"${state.type}" is not a widget type this checker knows, so Studio's rule for it is not known: its properties and events are not checked`,
      );
      continue;
    }
    checkEvents(state, spec, faults);
    checkRequired(state, spec, faults);
    checkPropertyTypes(state, spec, faults);
    if (state.type === 'split-based-on') checkSplitConditions(state, faults);
    if (state.type === 'run-subflow') checkSubflowSid(state, faults);
  }
}

/**
 * A Run Subflow names its flow by SID (FW + 32 hex), or, in this project's flows, by the
 * `__FLOW_SID_<FILE>__` placeholder deploy:flows fills (studio/project-subflows.ts). Anything
 * else is a warning: whether Studio checks the SID's shape is not known, but it runs the subflow
 * by that SID.
 */
function checkSubflowSid(state: FlowState, faults: FaultList): void {
  const sid = state.properties.flow_sid;
  if (typeof sid !== 'string' || sid.trim() === '') return; // required and type checks said so
  if (isSid(sid, 'FW') || FLOW_SID_PLACEHOLDER.test(sid)) return;
  faults.warning(
    state.name,
    'flow_sid',
    `"${sid}" is neither a Flow SID (FW + 32 hex digits) nor a __FLOW_SID_<FILE>__ placeholder; Studio runs the subflow by its SID`,
  );
}

function checkEvents(state: FlowState, spec: WidgetSpec, faults: FaultList): void {
  const seen = new Set<string>();
  state.transitions.forEach((transition, index) => {
    const { event } = transition;
    if (event === '') return; // malformed entry, already reported by the shape check
    const path = `transitions[${index}].event`;
    if (!spec.events.includes(event)) {
      const known = spec.eventsKnown === 'partial' ? 'its events are known only in part' : 'its documented events';
      faults.warning(
        state.name,
        path,
        `"${event}" is not an event ${state.type} is known to fire (${known}: ${spec.events.join(', ')}); whether Studio accepts it is not known, and if the widget never fires it this transition is never taken`,
      );
      return;
    }
    if (seen.has(event) && !spec.repeatableEvents?.includes(event)) {
      faults.warning(
        state.name,
        path,
        `"${event}" appears more than once; which transition Studio takes, or whether it accepts this, is not known`,
      );
    }
    seen.add(event);
  });
}

function checkRequired(state: FlowState, spec: WidgetSpec, faults: FaultList): void {
  for (const property of spec.required) {
    const value = state.properties[property];
    if (value === undefined || value === null) {
      faults.error(state.name, property, `is required by ${state.type} and is missing`);
    } else if (isBlank(value)) {
      faults.error(state.name, property, `is required by ${state.type} and is empty`);
    }
  }
  if (spec.requiredOneOf && spec.requiredOneOf.every((p) => isBlank(state.properties[p]))) {
    faults.error(
      state.name,
      spec.requiredOneOf.join('|'),
      `${state.type} needs one of ${spec.requiredOneOf.join(', ')}, and all are missing or empty`,
    );
  }
  for (const rule of spec.requiredWhen ?? []) {
    if (state.properties[rule.when] === rule.equals && isBlank(state.properties[rule.property])) {
      faults.error(
        state.name,
        rule.property,
        `is required by ${state.type} when ${rule.when} is "${rule.equals}", and is missing or empty`,
      );
    }
  }
}

/** Missing, null, or a string of nothing but white space. */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function checkPropertyTypes(state: FlowState, spec: WidgetSpec, faults: FaultList): void {
  for (const [property, kind] of Object.entries(spec.properties)) {
    const value = state.properties[property];
    if (value === undefined) continue;
    const problem = kindProblem(kind, value) ?? rangeProblem(spec, property, value);
    if (problem) faults.error(state.name, property, problem);
  }
  for (const [property, allowed] of Object.entries(spec.enums ?? {})) {
    const value = state.properties[property];
    if (typeof value === 'string' && !LIQUID.test(value) && !allowed.includes(value)) {
      faults.error(state.name, property, `must be one of ${allowed.join(', ')}, got "${value}"`);
    }
  }
}

function kindProblem(kind: PropertyKind, value: unknown): string | null {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? null : `must be a string, got ${describeValue(value)}`;
    case 'number-string':
      if (typeof value !== 'string') {
        return `must be a string holding a whole number (Studio rejects a JSON number here), got ${describeValue(value)}`;
      }
      return WHOLE_NUMBER.test(value) || LIQUID.test(value) ? null : `must hold a whole number, got "${value}"`;
    case 'integer':
      if (typeof value === 'number') {
        return Number.isInteger(value) ? null : `must be a whole number, got ${value}`;
      }
      return typeof value === 'string' && (WHOLE_NUMBER.test(value) || LIQUID.test(value))
        ? null
        : `must be a whole number, got ${describeValue(value)}`;
    case 'flag':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? null
        : `must be true or false, got ${describeValue(value)}`;
    case 'key-value-list':
      return keyValueListProblem(value);
    case 'string-list':
      return Array.isArray(value) && value.every((item) => typeof item === 'string')
        ? null
        : `must be an array of strings, got ${describeValue(value)}`;
  }
}

function keyValueListProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return `must be an array of {key, value}, got ${describeValue(value)}`;
  for (const [index, item] of value.entries()) {
    const entry = item as { key?: unknown; value?: unknown } | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.key !== 'string' || entry.key === '') {
      return `entry ${index} must have a non-empty string "key", got ${describeValue(item)}`;
    }
    if (typeof entry.value !== 'string') {
      return `entry ${index} ("${entry.key}") must have a string "value", got ${describeValue(entry.value)}`;
    }
  }
  return null;
}

function rangeProblem(spec: WidgetSpec, property: string, value: unknown): string | null {
  const max = spec.maxima?.[property];
  if (max === undefined || typeof value !== 'string' || !WHOLE_NUMBER.test(value)) return null;
  return Number(value) > max ? `must be at most ${max}, got "${value}"` : null;
}

function checkSplitConditions(state: FlowState, faults: FaultList): void {
  state.transitions.forEach((transition, index) => {
    const path = `transitions[${index}].conditions`;
    if (transition.event !== 'match') {
      if (transition.conditions !== undefined && transition.conditions.length > 0) {
        faults.error(state.name, path, `only "match" transitions carry conditions, not "${transition.event}"`);
      }
      return;
    }
    const conditions = transition.conditions;
    if (!conditions || conditions.length === 0) {
      faults.error(state.name, path, 'a "match" transition needs at least one condition');
      return;
    }
    conditions.forEach((condition, i) => {
      const at = `${path}[${i}]`;
      if (typeof condition !== 'object' || condition === null) {
        faults.error(state.name, at, `must be {arguments, type, value}, got ${describeValue(condition)}`);
        return;
      }
      if (typeof condition.type !== 'string') {
        faults.error(state.name, `${at}.type`, `must be a condition type string, got ${describeValue(condition.type)}`);
      } else if (!SPLIT_CONDITION_TYPES.includes(condition.type)) {
        faults.warning(
          state.name,
          `${at}.type`,
          `"${condition.type}" is not a documented split condition type; Studio's rule for it is not known`,
        );
      }
      if (!Array.isArray(condition.arguments) || !condition.arguments.every((a) => typeof a === 'string')) {
        faults.error(
          state.name,
          `${at}.arguments`,
          `must be an array of strings, got ${describeValue(condition.arguments)}`,
        );
      }
      if (typeof condition.value !== 'string') {
        faults.error(state.name, `${at}.value`, `must be a string, got ${describeValue(condition.value)}`);
      }
    });
  });
}
