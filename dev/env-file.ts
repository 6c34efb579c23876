import fs from 'node:fs';
import { parseEnv } from 'node:util';

export type EnvValues = Record<string, string>;

/** Reads a dotenv file; a missing file is an empty environment. */
export function readEnvFile(file: string): EnvValues {
  if (!fs.existsSync(file)) return {};
  return { ...parseEnv(fs.readFileSync(file, 'utf8')) } as EnvValues;
}

/** Quotes a value so that dotenv (twilio-run's parser) reads it back unchanged. */
function formatValue(value: string): string {
  if (value === '') return '';
  if (/^[\w@%+=:,./~^-]+$/.test(value)) return value;
  if (!value.includes("'") && !value.includes('\n')) return `'${value}'`;
  // dotenv expands \n (and only that) inside double quotes.
  return `"${value.replace(/\r?\n/g, '\\n')}"`;
}

export function serializeEnv(env: EnvValues): string {
  return (
    Object.entries(env)
      .map(([key, value]) => `${key}=${formatValue(value)}`)
      .join('\n') + '\n'
  );
}

/** Writes an env file readable only by the owner: it may hold credentials. */
export function writeEnvFile(file: string, env: EnvValues): void {
  fs.writeFileSync(file, serializeEnv(env), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}
