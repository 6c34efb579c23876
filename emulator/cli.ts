/**
 * Runs the emulator on its own: `tsx emulator/cli.ts [--port 3010] [--host 127.0.0.1] [--auth-token T]
 * [--faults '<JSON fault config>'] [--quiet]` (faults: see faults.ts; also `POST /_emulator/faults`).
 * Prints the URL on the first line of stdout, then notes (failed callbacks, spec violations) on
 * stderr; stops cleanly on SIGINT/SIGTERM.
 */
import { FaultConfigError, validateFaultConfig, type FaultConfig } from './faults';
import { startEmulator } from './server';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: tsx emulator/cli.ts [--port N] [--host 127.0.0.1] [--auth-token TOKEN] [--faults JSON] [--quiet]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { port: number; host?: string; authToken?: string; faults?: FaultConfig; quiet: boolean } {
  const out: { port: number; host?: string; authToken?: string; faults?: FaultConfig; quiet: boolean } = { port: 3010, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
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
    }
    else if (flag === '--quiet') out.quiet = true;
    else if (flag === '--help' || flag === '-h') usage('Local stand-in for the Twilio REST API.');
    else usage(`unknown argument ${arg}`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const emulator = await startEmulator({
    port: args.port,
    host: args.host,
    authToken: args.authToken,
    faults: args.faults,
    log: args.quiet ? undefined : (line) => process.stderr.write(`[emulator] ${line}\n`),
  });
  process.stdout.write(`${emulator.url}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!args.quiet) process.stderr.write(`[emulator] ${signal}: stopping; stats ${JSON.stringify(emulator.stats())}\n`);
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
