/**
 * Subflows of this project: a Run Subflow widget in a flow file names another flow of the same
 * folder by a placeholder, since its SID is only known once it is deployed. The one rule, used by
 * deploy:flows (fill), flows:pull (restore), the runner (find the file) and the checker:
 *
 *   flows/hold-subflow.json  <->  __FLOW_SID_HOLD_SUBFLOW__
 *
 * (the file name without `.json`, upper case, every run of other characters as `_`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { FLOWS_DIR } from '../dev/paths';

/** A whole `flow_sid` that stands for a flow file of the project. */
export const FLOW_SID_PLACEHOLDER = /^__FLOW_SID_([A-Z0-9_]+)__$/;

/** The placeholder a flow file's SID is written as: `hold-subflow.json` -> `__FLOW_SID_HOLD_SUBFLOW__`. */
export function flowSidPlaceholder(file: string): string {
  const stem = path
    .basename(file, '.json')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `__FLOW_SID_${stem}__`;
}

/** The placeholder's name without underscores around it (`FLOW_SID_HOLD_SUBFLOW`), as deploy:flows keys values. */
export function flowSidPlaceholderName(file: string): string {
  return flowSidPlaceholder(file).slice(2, -2);
}

/**
 * The flow file a `__FLOW_SID_*__` placeholder stands for, among the `.json` files of `dir`
 * (default flows/); undefined when the value is no such placeholder or no file matches.
 */
export function flowFileForPlaceholder(value: string, dir: string = FLOWS_DIR): string | undefined {
  if (!FLOW_SID_PLACEHOLDER.test(value) || !fs.existsSync(dir)) return undefined;
  const name = fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json') && !file.endsWith('.scenarios.json'))
    .sort()
    .find((file) => flowSidPlaceholder(file) === value);
  return name === undefined ? undefined : path.join(dir, name);
}

/** The `flow_sid` of each Run Subflow widget of a definition (any JSON value), as written. */
export function runSubflowSids(definition: unknown): string[] {
  const states = (definition as { states?: unknown } | null)?.states;
  if (!Array.isArray(states)) return [];
  const sids = states
    .filter((state) => (state as { type?: unknown } | null)?.type === 'run-subflow')
    .map((state) => (state as { properties?: { flow_sid?: unknown } }).properties?.flow_sid)
    .filter((sid): sid is string => typeof sid === 'string');
  return [...new Set(sids)];
}
