/**
 * Serves the naive baseline's functions with twilio-run, against the same emulator (through the
 * same latency proxy) as the service, so its Twilio calls are counted the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { LOCAL_ACCOUNT_SID } from '../../dev/credentials';
import { writeEnvFile } from '../../dev/env-file';
import { waitUntilServing } from '../../dev/local-stack';
import { PROJECT_ROOT } from '../../dev/paths';
import { getFreePort } from '../../dev/ports';
import { spawnTwilioRun } from '../../dev/twilio-run-process';
import type { ServeMode } from '../lib/stack';

/** Under the project (twilio-run resolves folders relative to it) and git-ignored (.local/). */
const BUILD_DIR = path.join('.local', 'bench', 'baseline');

export interface BaselineServer {
  baseUrl: string;
  stop(): Promise<void>;
}

async function buildBaseline(outDir: string): Promise<void> {
  const functionsDir = path.join(__dirname, 'functions');
  const entryPoints = fs
    .readdirSync(functionsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(functionsDir, f));
  fs.rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['twilio'],
    logLevel: 'silent',
  });
}

export async function serveBaseline(options: {
  mode: ServeMode;
  twilioApiBaseUrl: string;
  assetsFolder: string;
}): Promise<BaselineServer> {
  const root = path.join(PROJECT_ROOT, BUILD_DIR, options.mode);
  const functionsFolder = path.join(BUILD_DIR, options.mode, 'functions');
  await buildBaseline(path.join(PROJECT_ROOT, functionsFolder));
  const envFile = path.join(root, '.env');
  // context.getTwilioClient() insists on a token of Twilio's shape; the emulator takes any.
  writeEnvFile(envFile, {
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: '0'.repeat(32),
    TWILIO_API_BASE_URL: options.twilioApiBaseUrl,
  });
  const port = await getFreePort();
  const flags = options.mode === 'warm' ? ['--no-fork-process', '--no-live'] : [];
  const twilioRun = spawnTwilioRun(
    [
      'start',
      '--functions-folder',
      functionsFolder,
      '--assets-folder',
      options.assetsFolder,
      '--env',
      envFile,
      '--port',
      String(port),
      ...flags,
    ],
    { output: 'pipe' },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(baseUrl, twilioRun.exited, 30_000);
  } catch (error) {
    const output = twilioRun.recentOutput();
    await twilioRun.stop();
    throw new Error(`baseline did not start: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return {
    baseUrl,
    stop: async () => {
      await twilioRun.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
