/**
 * The `__NAME__` placeholders of the flow files (flows/*.json): which ones a definition uses,
 * what each value must look like, how to give one, filling them in (`npm run deploy:flows`) and
 * turning the values back into them (`npm run flows:pull`).
 *
 * `__SERVICE_DOMAIN__`, `__SERVICE_SID__`, `__ENVIRONMENT_SID__`, `__FUNCTION_SID_*__`, the
 * optional `__FLEX_WORKFLOW_SID__`, and `__FLOW_SID_<FILE>__`: the SID of the flow deployed from
 * that file (studio/project-subflows.ts).
 */
import { isSid } from '../../emulator/sids';
import { functionSidPlaceholder, listServiceFunctions } from '../../studio/checker/service-functions';
import { FUNCTIONS_SRC_DIR } from '../paths';

/** A problem with the flows or their values, worded for the terminal (no stack trace needed). */
export class DeployFlowsError extends Error {}

const PLACEHOLDER = /__([A-Z][A-Z0-9_]*?)__/g;

/** Placeholders a flow may leave unfilled (the feature they turn on stays off). */
export const OPTIONAL_PLACEHOLDERS = new Set(['FLEX_WORKFLOW_SID']);

/** `FLOW_SID_*` placeholders stand for the SIDs of flows (subflows) deployed from the project. */
export const isFlowSidName = (name: string) => name.startsWith('FLOW_SID_');

/** The options that give the named placeholders (the rest: --function-sid and --set). */
export const FLAG_FOR: Record<string, string> = {
  SERVICE_DOMAIN: '--service-domain',
  SERVICE_SID: '--service-sid',
  ENVIRONMENT_SID: '--environment-sid',
  FLEX_WORKFLOW_SID: '--flex-workflow-sid',
};

interface ValueFormat {
  /** The placeholder names this format applies to. */
  name: RegExp;
  valid: (value: string) => boolean;
  /** What a valid value looks like, for error messages. */
  shape: string;
}

const sidFormat = (name: RegExp, prefix: string): ValueFormat => ({
  name,
  valid: (value) => isSid(value, prefix),
  shape: `${prefix} + 32 hex digits`,
});

/** What a placeholder's value must look like, by name. */
const VALUE_FORMATS: ValueFormat[] = [
  sidFormat(/^SERVICE_SID$/, 'ZS'),
  sidFormat(/^ENVIRONMENT_SID$/, 'ZE'),
  sidFormat(/^FUNCTION_SID_/, 'ZH'),
  sidFormat(/^FLEX_WORKFLOW_SID$/, 'WW'),
  sidFormat(/^FLOW_SID_/, 'FW'),
  {
    name: /^SERVICE_DOMAIN$/,
    valid: (value) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(value),
    shape: 'a domain name without scheme, e.g. studio-async-1234-dev.twil.io',
  },
];

/** `__NAME__` placeholders in a JSON value, by NAME. */
export function placeholdersIn(value: unknown): Set<string> {
  const found = new Set<string>();
  JSON.stringify(value).replace(PLACEHOLDER, (_whole, name: string) => {
    found.add(name);
    return '';
  });
  return found;
}

/** The message for a value of the wrong shape, or undefined when it has the right one. */
export function valueProblem(name: string, value: string): string | undefined {
  const format = VALUE_FORMATS.find((candidate) => candidate.name.test(name));
  return format && !format.valid(value) ? `${name} must be ${format.shape}, got "${value}"` : undefined;
}

/** How to give a placeholder's value, for error messages. */
export function howToSet(name: string): string {
  if (FLAG_FOR[name]) return `${FLAG_FOR[name]} or ${name}`;
  if (isFlowSidName(name)) return `--set ${name}=FW... or ${name} (or deploy the subflow's file in the same run)`;
  if (name.startsWith('FUNCTION_SID_')) {
    const functionPath =
      (listServiceFunctions(FUNCTIONS_SRC_DIR) ?? []).find((p) => functionSidPlaceholder(p) === `__${name}__`) ??
      '/path';
    return `--function-sid ${functionPath}=ZH... or ${name}`;
  }
  return `--set ${name}=... or ${name}`;
}

/** Applies `change` to every string in a JSON value. */
function mapStrings(value: unknown, change: (text: string) => string): unknown {
  if (typeof value === 'string') return change(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, change));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, change)]));
  return value;
}

/** Replaces every filled placeholder in every string of the definition. */
export function fillPlaceholders(value: unknown, values: Record<string, string>): unknown {
  return mapStrings(value, (text) => text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole));
}

/** Turns each value back into its `__NAME__` placeholder in every string (longest value first). */
export function restorePlaceholders(value: unknown, values: Record<string, string>): unknown {
  const pairs = Object.entries(values)
    .filter(([, v]) => v !== '')
    .sort((a, b) => b[1].length - a[1].length);
  return mapStrings(value, (text) => pairs.reduce((out, [name, v]) => out.split(v).join(`__${name}__`), text));
}
