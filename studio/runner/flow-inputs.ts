/**
 * What a run of someone's flow needs besides the flow: its file read (a bare definition or an
 * export with `definition`), the trigger the flow handles, the subflows it runs, whether it uses
 * this project's service at all, and the generated contact and HTTP answers of `--auto`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FlowDefinition } from '../flow-model';
import { FLOWS_DIR } from '../../dev/paths';
import { flowFileForPlaceholder, runSubflowSids } from '../project-subflows';
import { AutoContact, hintedTrigger, inputHints } from './contact';
import { HttpFixtures, type HttpFixture } from './http-fixtures';
import { TRIGGER_EVENTS, type FlowTrigger } from './types';

export class FlowFileError extends Error {}

/** Reads a flow file: a definition, or an object holding one under `definition` (a Flows API resource). */
export function readFlowFile(file: string): FlowDefinition {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FlowFileError(`cannot read flow ${file}: ${(error as Error).message}`);
  }
  const inner =
    typeof value === 'object' && value !== null && 'definition' in value && !('states' in value)
      ? (value as { definition: unknown }).definition
      : value;
  if (
    typeof inner !== 'object' ||
    inner === null ||
    !Array.isArray((inner as FlowDefinition).states) ||
    typeof (inner as FlowDefinition).initial_state !== 'string'
  ) {
    throw new FlowFileError(`${file} is not a Studio flow definition (no "states" and "initial_state")`);
  }
  return inner as FlowDefinition;
}

export type TriggerKind = FlowTrigger['kind'];

/** The trigger events the flow's Trigger widget connects to a widget. */
export function handledTriggers(definition: FlowDefinition): TriggerKind[] {
  const trigger = definition.states.find((state) => state.name === definition.initial_state);
  const kinds = Object.keys(TRIGGER_EVENTS) as TriggerKind[];
  return kinds.filter((kind) => trigger?.transitions.some((t) => t.event === TRIGGER_EVENTS[kind] && t.next));
}

/** The order a trigger is picked in when the user names none: a call first, then a message, ... */
const PREFERENCE: TriggerKind[] = ['call', 'message', 'conversation', 'request', 'parent'];

/** A trigger of `kind` with plain defaults. */
export function defaultTrigger(kind: TriggerKind, body = 'Hello'): FlowTrigger {
  switch (kind) {
    case 'call':
      return { kind: 'call' };
    case 'message':
      return { kind: 'message', body };
    case 'conversation':
      return { kind: 'conversation', body };
    case 'request':
      return { kind: 'request', parameters: {} };
    case 'parent':
      return { kind: 'parent', parameters: {} };
  }
}

/**
 * The trigger for a run: `preferred` when the flow handles it (or nothing else), else the first
 * kind the flow handles (a messaging-only flow gets a message, a REST API flow a request).
 */
export function chooseTrigger(definition: FlowDefinition, preferred?: FlowTrigger): FlowTrigger {
  const handled = handledTriggers(definition);
  if (preferred && (handled.includes(preferred.kind) || handled.length === 0)) return preferred;
  const kind = PREFERENCE.find((candidate) => handled.includes(candidate)) ?? 'call';
  const body = preferred && 'body' in preferred ? preferred.body : undefined;
  return defaultTrigger(kind, body);
}

/** The Flow SIDs a flow's Run Subflow widgets name. */
export function subflowSids(definition: FlowDefinition): string[] {
  return [
    ...new Set(
      definition.states.filter((s) => s.type === 'run-subflow').map((s) => String(s.properties.flow_sid ?? '')),
    ),
  ];
}

/**
 * Reads `--subflow FW…=file.json` values (or `file.json` alone: it stands for every Run Subflow),
 * relative to `baseDir`.
 */
export function readSubflows(values: readonly string[], baseDir = process.cwd()): Record<string, FlowDefinition> {
  const subflows: Record<string, FlowDefinition> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const sid = at === -1 ? '*' : value.slice(0, at);
    const file = at === -1 ? value : value.slice(at + 1);
    subflows[sid] = readFlowFile(path.resolve(baseDir, file));
  }
  return subflows;
}

/** Subflows that travel with a definition (a changed copy of a project subflow, see withStartParameters). */
const ATTACHED_SUBFLOWS = Symbol('attached subflows');

/**
 * Attaches subflow definitions to a flow definition, by the `flow_sid` its Run Subflow names; a
 * run of that definition uses them unless it is given others. Not part of the JSON: a copy made
 * with JSON or structuredClone does not carry them.
 */
export function attachSubflows<T extends FlowDefinition>(definition: T, subflows: Record<string, FlowDefinition>): T {
  Object.defineProperty(definition, ATTACHED_SUBFLOWS, {
    value: subflows,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return definition;
}

/**
 * The project's own subflows a flow runs: each Run Subflow whose `flow_sid` is a
 * `__FLOW_SID_*__` placeholder (studio/project-subflows.ts) gets the flow file it stands for,
 * looked up in `dirs` in order (default flows/).
 */
export function projectSubflows(
  definition: FlowDefinition,
  dirs: readonly string[] = [FLOWS_DIR],
): Record<string, FlowDefinition> {
  const found: Record<string, FlowDefinition> = {};
  for (const sid of runSubflowSids(definition)) {
    for (const dir of dirs) {
      const file = flowFileForPlaceholder(sid, dir);
      if (file) {
        found[sid] = readFlowFile(file);
        break;
      }
    }
  }
  return found;
}

/**
 * The subflows a run of `definition` gets: the ones given (`FW…` or `*`) first, then those
 * attached to the definition, then the project's own found by placeholder.
 */
export function subflowsFor(
  definition: FlowDefinition,
  given: Record<string, FlowDefinition> = {},
  dirs?: readonly string[],
): Record<string, FlowDefinition> {
  const attached =
    (definition as FlowDefinition & { [ATTACHED_SUBFLOWS]?: Record<string, FlowDefinition> })[ATTACHED_SUBFLOWS] ?? {};
  const subflows: Record<string, FlowDefinition> = { ...given };
  if (subflows['*']) return subflows;
  for (const [sid, subflow] of Object.entries({ ...projectSubflows(definition, dirs), ...attached })) {
    if (!(sid in subflows)) subflows[sid] = subflow;
  }
  return subflows;
}

const SERVICE_MARKS = /__SERVICE_DOMAIN__|__FUNCTION_SID_|"(url|play)":\s*"\/|https?:\/\/(127\.0\.0\.1|localhost)[:/]/;

/** True when the flow (or a subflow) calls this project's service: it needs the local stack. */
export function usesTheService(definitions: readonly FlowDefinition[], serviceDomain?: string): boolean {
  return definitions.some((definition) => {
    const text = JSON.stringify(definition);
    return (
      SERVICE_MARKS.test(text) || (serviceDomain !== undefined && serviceDomain !== '' && text.includes(serviceDomain))
    );
  });
}

/** --auto: a contact with plausible input, `200 {}` for HTTP nobody mocked, subflows not given complete. */
export function autoInputs(
  definition: FlowDefinition,
  subflows: Record<string, FlowDefinition>,
  fixtures: readonly HttpFixture[] = [],
) {
  const hints = inputHints([definition, ...Object.values(subflows)]);
  return {
    contact: new AutoContact(hints),
    http: new HttpFixtures(fixtures, true),
    missingSubflow: 'complete' as const,
  };
}

/** --auto's trigger: the one the flow handles, its Body or `flow.data` taken from the splits that read them. */
export function autoTrigger(definition: FlowDefinition, subflows: Record<string, FlowDefinition> = {}): FlowTrigger {
  return hintedTrigger(chooseTrigger(definition), inputHints([definition, ...Object.values(subflows)]));
}
