/**
 * `npm run relay -- --config relay.config.json [--port 8080] [--host 127.0.0.1]`
 * (in the container: `node dist/relay.js --config /config/relay.config.json`).
 *
 * Environment: WEBHOOK_SECRET (required, the service's `whsec_…`), WEBHOOK_SECRET_PREVIOUS
 * (during a rotation), PORT and HOST (when the flags are not given), RELAY_CONFIG (when --config
 * is not given), LOG_LEVEL (pino level, default info), and whatever the config's headers name.
 */
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { ConfigError, loadConfig } from './config';
import { buildRelay } from './server';

export interface CliArgs {
  config: string;
  port: number;
  host: string;
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--(config|port|host)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument "${arg}" (expected --config FILE, --port N, --host ADDRESS)`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`--${match[1]} needs a value`);
    flags.set(match[1]!, value);
  }
  const config = flags.get('config') ?? env.RELAY_CONFIG;
  if (!config) throw new Error('no config file: pass --config relay.config.json (or set RELAY_CONFIG)');
  const portText = flags.get('port') ?? env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port "${portText}" is not a port number`);
  // npm run changes into the package folder; a relative path means the caller's folder.
  const base = env.INIT_CWD ?? process.cwd();
  return { config: path.resolve(base, config), port, host: flags.get('host') ?? env.HOST ?? '127.0.0.1' };
}

function checkSecret(name: string, value: string | undefined, required: boolean): string | undefined {
  if (!value) {
    if (required) throw new Error(`${name} is not set: give the relay the service's WEBHOOK_SECRET (whsec_…)`);
    return undefined;
  }
  try {
    new Webhook(value);
  } catch {
    throw new Error(`${name} is not a Standard Webhooks secret (whsec_ followed by base64)`);
  }
  return value;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let args: CliArgs;
  let config;
  let secret: string;
  let previousSecret: string | undefined;
  try {
    args = parseArgs(argv, env);
    secret = checkSecret('WEBHOOK_SECRET', env.WEBHOOK_SECRET, true)!;
    previousSecret = checkSecret('WEBHOOK_SECRET_PREVIOUS', env.WEBHOOK_SECRET_PREVIOUS, false);
    config = loadConfig(args.config, env);
  } catch (err) {
    const message = err instanceof ConfigError ? `bad config: ${err.message}` : (err as Error).message;
    process.stderr.write(`relay: ${message}\n`);
    process.exit(2);
  }

  const relay = buildRelay({ config, secret, previousSecret });
  await relay.app.listen({ port: args.port, host: args.host });
  relay.app.log.info({ config: args.config, tasks: [...config.tasks.keys()] }, 'relay ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      relay.app.log.warn({ signal, running: relay.running() }, 'second signal: abandoning running jobs');
      void relay.close({ wait: false }).finally(() => process.exit(1));
      return;
    }
    stopping = true;
    relay.app.log.info({ signal, running: relay.running() }, 'stopping: waiting for running jobs');
    void relay.close({ wait: true }).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(1);
  });
}
