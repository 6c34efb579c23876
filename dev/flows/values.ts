/**
 * Where the placeholders' values come from: flags, then the environment, then .env; and, for a
 * rehearsal, made-up values of the right shape for the ones not given.
 */
import { randomInt } from 'node:crypto';
import { newSid } from '../../emulator/sids';
import { functionSidPlaceholder } from '../../studio/checker/service-functions';
import { readFlowDefinition } from './flow-files';
import { DeployFlowsError, FLAG_FOR, isFlowSidName, OPTIONAL_PLACEHOLDERS, placeholdersIn } from './placeholders';

/** Flags as node:util parseArgs gives them. */
export type FlagValues = Record<string, string | string[] | boolean | undefined>;

/** The values of `--function-sid /path=ZH...` and `--set NAME=VALUE`, into `values`. */
function addPairFlags(flags: FlagValues, values: Record<string, string>): void {
  for (const pair of (flags['function-sid'] as string[] | undefined) ?? []) {
    const [functionPath, sid] = pair.split('=');
    if (!functionPath || !sid) throw new DeployFlowsError(`--function-sid takes /path=ZH..., got "${pair}"`);
    values[functionSidPlaceholder(functionPath).slice(2, -2)] = sid;
  }
  for (const pair of (flags.set as string[] | undefined) ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new DeployFlowsError(`--set takes NAME=VALUE, got "${pair}"`);
    values[pair.slice(0, at).replace(/^__|__$/g, '')] = pair.slice(at + 1);
  }
}

/** The placeholder values from flags, the environment and .env, in that order of precedence. */
export function collectValues(flags: FlagValues, env: Record<string, string | undefined>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value && (key in FLAG_FOR || key.startsWith('FUNCTION_SID_') || isFlowSidName(key))) values[key] = value;
  }
  for (const [name, flag] of Object.entries(FLAG_FOR)) {
    const value = flags[flag.slice(2)];
    if (typeof value === 'string') values[name] = value;
  }
  addPairFlags(flags, values);
  if (values.SERVICE_DOMAIN)
    values.SERVICE_DOMAIN = values.SERVICE_DOMAIN.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return values;
}

/** The SID prefix of the made-up value for a placeholder, by name. */
const MADE_UP_PREFIX: Array<[RegExp, string]> = [
  [/^SERVICE_SID$/, 'ZS'],
  [/^ENVIRONMENT_SID$/, 'ZE'],
  [/^FUNCTION_SID_/, 'ZH'],
];

/** A made-up value of the right shape for a placeholder, or undefined for one a rehearsal cannot make up. */
function madeUpValue(name: string): string | undefined {
  if (name === 'SERVICE_DOMAIN') return `studio-async-${randomInt(1000, 10000)}-dev.twil.io`;
  const prefix = MADE_UP_PREFIX.find(([pattern]) => pattern.test(name))?.[1];
  return prefix ? newSid(prefix) : undefined;
}

/**
 * For a rehearsal: values of the right shape for the required placeholders the files use and
 * that were not given (a made-up domain and SIDs), and their names.
 */
export function rehearsalValues(
  files: string[],
  given: Record<string, string>,
): { values: Record<string, string>; madeUp: string[] } {
  const values = { ...given };
  const madeUp: string[] = [];
  for (const file of files) {
    const definition = readFlowDefinition(file);
    if (definition === undefined) continue; // prepareFlows names the file
    for (const name of placeholdersIn(definition)) {
      if (values[name] || OPTIONAL_PLACEHOLDERS.has(name)) continue;
      const value = madeUpValue(name);
      if (value === undefined) continue;
      values[name] = value;
      madeUp.push(name);
    }
  }
  return { values, madeUp };
}
