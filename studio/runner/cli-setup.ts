/**
 * What the runner's command lines (`npm run call`, flows:test, flows:explore, flows:auto-fixtures)
 * set up alike: the bad-usage error, the behaviour profile, the service a flow calls (the server
 * `npm start` runs, or a local stack playing Twilio's Functions concurrency limit) and the exit.
 */
import {
  BEHAVIOUR_ENV,
  BehaviourProfileError,
  loadBehaviourProfile,
  type TwilioBehaviour,
} from '../../emulator/twilio-behaviour';
import { TWILIO_CONCURRENCY_CAP } from '../../dev/function-concurrency';
import {
  DEFAULT_BASE_URL,
  DEFAULT_EMULATOR_URL,
  isServiceRunning,
  runningService,
  startLocalService,
  type LocalService,
  type StartServiceOptions,
} from './local-service';

/** The command line cannot be run: the message goes to stderr, the exit code is 2 (1 for a file that cannot be read). */
export class BadCommand extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2 = 2,
  ) {
    super(message);
  }
}

/** The behaviour profile --twilio-behaviour (else TWILIO_BEHAVIOUR) names; a bad one is a one-line BadCommand. */
export function readBehaviour(name: string | undefined): TwilioBehaviour {
  try {
    return loadBehaviourProfile(name ?? process.env[BEHAVIOUR_ENV]);
  } catch (error) {
    if (!(error instanceof BehaviourProfileError)) throw error;
    const message = error.message.replace(/\s*\n\s*/g, ' ');
    throw new BadCommand(message.startsWith('--twilio-behaviour') ? message : `--twilio-behaviour: ${message}`);
  }
}

/** The URLs given (default: `npm start`'s), without a trailing slash, and the server there when it answers. */
export async function findRunningService(
  baseUrl: string | undefined,
  emulatorUrl: string | undefined,
): Promise<{ base: string; emulator: string; running?: LocalService }> {
  const base = (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const emulator = (emulatorUrl ?? DEFAULT_EMULATOR_URL).replace(/\/+$/, '');
  const running = (await isServiceRunning(base, emulator)) ? runningService(base, emulator) : undefined;
  return { base, emulator, running };
}

/** A local stack started here, with the Functions concurrency limit Twilio has. */
export function startStack(options: Omit<StartServiceOptions, 'concurrencyCap'> = {}): Promise<LocalService> {
  return startLocalService({ ...options, concurrencyCap: TWILIO_CONCURRENCY_CAP });
}

/**
 * Runs a command's main and exits with its code. A BadCommand is its message and code; another
 * failure is one line `NAME failed: …` (the stack with `stack`) and exit 1.
 */
export function runCommand(name: string, main: (argv: string[]) => Promise<number>, stack = false): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof BadCommand) {
        console.error(error.message);
        process.exit(error.code);
      }
      const detail = error instanceof Error ? (stack ? error.stack : error.message) : String(error);
      console.error(`${name} failed: ${detail}`);
      process.exit(1);
    },
  );
}
