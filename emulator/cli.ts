/**
 * Runs the emulator on its own: `tsx emulator/cli.ts [--port 3010] [--host 127.0.0.1] [--auth-token T]
 * [--faults '<JSON fault config>'] [--twilio-behaviour documented|hopeful|profile.json] [--quiet]`
 * (faults: see faults.ts; also `POST /_emulator/faults`; behaviour: twilio-behaviour.ts, default
 * `documented`, or the TWILIO_BEHAVIOUR environment variable; also `POST /_emulator/behaviour`).
 * Prints the URL on the first line of stdout, the behaviour profile and then notes (failed
 * callbacks, spec violations) on stderr; stops cleanly on SIGINT/SIGTERM.
 */
import { FaultConfigError, validateFaultConfig, type FaultConfig } from './faults';
import { startEmulator } from './server';
import {
  BEHAVIOUR_ENV,
  BehaviourProfileError,
  describeProfile,
  loadBehaviourProfile,
  type TwilioBehaviour,
} from './twilio-behaviour';

const USAGE =
  'usage: tsx emulator/cli.ts [--port N] [--host 127.0.0.1] [--auth-token TOKEN] [--faults JSON] [--twilio-behaviour NAME|FILE.json] [--quiet]';

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A profile that cannot be used: one line, no stack trace. */
function badProfile(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function profile(nameOrFile: string | undefined, label: string): TwilioBehaviour {
  try {
    return loadBehaviourProfile(nameOrFile, label);
  } catch (error) {
    if (error instanceof BehaviourProfileError) badProfile(error.message);
    throw error;
  }
}

interface CliArgs {
  port: number;
  host?: string;
  authToken?: string;
  faults?: FaultConfig;
  behaviour: TwilioBehaviour;
  quiet: boolean;
}

function parseArgs(argv: string[]): CliArgs {
  let behaviourArg: string | undefined;
  const out: Omit<CliArgs, 'behaviour'> = { port: 3010, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--port') {
      out.port = Number(value());
      if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) usage('--port must be 0..65535');
    } else if (flag === '--host') out.host = value();
    else if (flag === '--auth-token') out.authToken = value();
    else if (flag === '--faults') {
      try {
        out.faults = validateFaultConfig(JSON.parse(value()));
      } catch (error) {
        usage(`--faults: ${error instanceof FaultConfigError ? error.message : 'not JSON'}`);
      }
    } else if (flag === '--twilio-behaviour') behaviourArg = value();
    else if (flag === '--quiet') out.quiet = true;
    else if (flag === '--help' || flag === '-h') usage('Local stand-in for the Twilio REST API.');
    else usage(`unknown argument ${arg}`);
  }
  const behaviour =
    behaviourArg !== undefined
      ? profile(behaviourArg, '--twilio-behaviour')
      : profile(process.env[BEHAVIOUR_ENV], BEHAVIOUR_ENV);
  return { ...out, behaviour };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const emulator = await startEmulator({
    port: args.port,
    host: args.host,
    authToken: args.authToken,
    faults: args.faults,
    behaviour: args.behaviour,
    log: args.quiet ? undefined : (line) => process.stderr.write(`[emulator] ${line}\n`),
  });
  process.stdout.write(`${emulator.url}\n`);
  process.stderr.write(`[emulator] Twilio behaviour: ${describeProfile(args.behaviour)}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!args.quiet)
      process.stderr.write(`[emulator] ${signal}: stopping; stats ${JSON.stringify(emulator.stats())}\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`[emulator] close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`[emulator] failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
