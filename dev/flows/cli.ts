/**
 * The command-line set-up `npm run deploy:flows` and `npm run flows:pull` share: the options
 * that name the placeholders' values and the account's API, the flow files to work on, the
 * environment (.env under the shell's), and how a run ends (exit code, one-line errors).
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readEnvFile } from '../env-file';
import { projectFlowFiles, USER_ENV_FILE } from '../paths';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options that name the values placeholders stand for, and the account's API. */
export const FLOW_VALUE_OPTIONS = {
  'service-domain': { type: 'string' },
  'service-sid': { type: 'string' },
  'environment-sid': { type: 'string' },
  'flex-workflow-sid': { type: 'string' },
  'function-sid': { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  'name-prefix': { type: 'string', default: 'studio-async' },
  'api-base-url': { type: 'string' },
} as const satisfies Options;

/**
 * The flags (FLOW_VALUE_OPTIONS and the command's own) and the flow files: those named, else
 * the project's flows/*.json.
 */
export function parseFlowsCommand<Own extends Options>(argv: string[], own: Own) {
  const { values: flags, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...FLOW_VALUE_OPTIONS, ...own },
  });
  const files = positionals.length > 0 ? positionals.map((file) => path.resolve(file)) : projectFlowFiles();
  return { flags, files };
}

/** The environment the commands read: .env, with the shell's variables over it. */
export function flowsEnv(): Record<string, string | undefined> {
  return { ...readEnvFile(USER_ENV_FILE), ...process.env };
}

/** Runs a command's main and exits with its code; an error is one line from `describeError`, exit 1. */
export function runFlowsCommand(
  main: (argv: string[], env: Record<string, string | undefined>) => Promise<number>,
  describeError: (error: unknown) => string,
): void {
  main(process.argv.slice(2), flowsEnv()).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(describeError(error));
      process.exit(1);
    },
  );
}
