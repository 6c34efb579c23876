/**
 * `npm run deploy [-- twilio-run deploy flags]`: builds dist/, then runs `twilio-run deploy` from
 * the project root. Folders, runtime and service name come from .twilioserverlessrc; the
 * environment variables uploaded to the service come from .env.
 *
 * Credentials: ACCOUNT_SID and AUTH_TOKEN from .env, or else from the shell environment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from './build';
import { hasRealCredentials } from './credentials';
import { readEnvFile, writeEnvFile } from './env-file';
import { USER_ENV_FILE } from './paths';
import { spawnTwilioRun } from './twilio-run-process';

const MISSING_CREDENTIALS = `Deploying needs your Twilio credentials, and none were found.

Put them in .env (see .env.example), or export them in your shell:
  ACCOUNT_SID=ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
  AUTH_TOKEN=your_auth_token
Both are on the Twilio Console's home page. Nothing was deployed.`;

const EMULATOR_URL_IN_ENV = `.env sets TWILIO_API_BASE_URL, which points the functions at a local emulator.
Deployed functions must talk to Twilio itself: remove it from .env. Nothing was deployed.`;

async function main(passThroughArgs: string[]): Promise<number> {
  const fileEnv = readEnvFile(USER_ENV_FILE);
  const explicitCredentials = passThroughArgs.some((arg) => arg.startsWith('--username') || arg === '-u');
  const credentials = hasRealCredentials(fileEnv)
    ? undefined // twilio-run reads them from .env itself
    : { ACCOUNT_SID: process.env.ACCOUNT_SID ?? '', AUTH_TOKEN: process.env.AUTH_TOKEN ?? '' };

  if (credentials && !explicitCredentials && !hasRealCredentials(credentials)) {
    console.error(MISSING_CREDENTIALS);
    return 1;
  }
  if (fileEnv.TWILIO_API_BASE_URL) {
    console.error(EMULATOR_URL_IN_ENV);
    return 1;
  }

  const built = await build({ log: true });
  if (built.functions.length === 0) {
    console.error('There are no functions in src/functions to deploy.');
    return 1;
  }

  // Credentials from the shell go in a private temporary copy of .env (never on the command
  // line, where other users could read them from the process list).
  let tempDir: string | undefined;
  const args = ['deploy'];
  if (credentials && !explicitCredentials) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-deploy-'));
    const envFile = path.join(tempDir, '.env');
    writeEnvFile(envFile, { ...fileEnv, ...credentials });
    args.push('--env', envFile);
  }
  try {
    // In the foreground: the terminal's Ctrl+C reaches twilio-run directly, so this process
    // only waits for it; a SIGTERM sent to this process alone is passed on.
    const twilioRun = spawnTwilioRun([...args, ...passThroughArgs], { output: 'inherit', interactive: true });
    process.on('SIGINT', () => undefined);
    process.once('SIGTERM', () => void twilioRun.stop());
    return await twilioRun.exited;
  } finally {
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`deploy failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
