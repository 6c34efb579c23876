/**
 * Part 4: cold start of every built function (dist/functions/**): its size on disk, and in a
 * fresh node process the time to load it and to answer a first request (one Sync read against
 * the emulator), with nothing loaded before it and with what Twilio's runtime loads first.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmulator } from '../emulator/server';
import { listFiles } from '../dev/list-files';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../dev/credentials';
import * as esbuild from 'esbuild';
import { EXTERNAL_PACKAGES } from '../dev/build';
import { FUNCTIONS_SRC_DIR, PROJECT_ROOT } from '../dev/paths';
import { fixedSid } from '../emulator/sids';
import { FLOW_SID } from './lib/stack';
import { summarize, type Summary } from './lib/stats';

const run = promisify(execFile);
const RUNNER = path.join(__dirname, 'lib', 'cold-start-runner.cjs');
const RESPONSE_MODULE = path.join(
  PROJECT_ROOT,
  'node_modules/@twilio/runtime-handler/dist/dev-runtime/internal/response.js',
);
const SECRET = 'whsec_' + Buffer.from('cold-start-secret-0123456').toString('base64');
const UNKNOWN_JOB = fixedSid('JB');

export interface ColdStartRow {
  file: string;
  bytes: number;
  /** Bytes of the bundle that come from node_modules (the rest is our own code). */
  thirdPartyBytes: number;
  bare: { load: Summary; firstCall: Summary; process: Summary };
  runtime: { preload: Summary; load: Summary; firstCall: Summary };
  outcomes: string[];
}

/** A first request for each function that reaches Twilio once (or is refused before, for /jobs/complete). */
function eventFor(file: string): Record<string, string> {
  if (file.startsWith('jobs/start')) return { task: 'cold-start' };
  if (file.startsWith('hold/events')) return { jobId: UNKNOWN_JOB, StatusCallbackEvent: 'participant-leave' };
  if (file.startsWith('hold.')) return { jobId: UNKNOWN_JOB, flowSid: FLOW_SID };
  return { jobId: UNKNOWN_JOB, status: 'COMPLETED' };
}

/** Bytes each bundle takes from node_modules, from the same esbuild settings as dev/build.ts. */
export async function thirdPartyBytes(): Promise<Map<string, number>> {
  const entryPoints = listFiles(FUNCTIONS_SRC_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const result = await esbuild.build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints,
    outbase: FUNCTIONS_SRC_DIR,
    outdir: '/tmp/studio-async-bench-metafile',
    entryNames: '[dir]/[name]',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = new Map<string, number>();
  for (const [outFile, output] of Object.entries(result.metafile.outputs)) {
    const file = path
      .relative('/tmp/studio-async-bench-metafile', path.resolve(PROJECT_ROOT, outFile))
      .split(path.sep)
      .join('/');
    const fromPackages = Object.entries(output.inputs)
      .filter(([input]) => input.includes('node_modules/'))
      .reduce((total, [, input]) => total + input.bytesInOutput, 0);
    bytes.set(file, fromPackages);
  }
  return bytes;
}

async function once(functionsDir: string, file: string, preload: 'bare' | 'runtime', env: Record<string, string>) {
  const { stdout } = await run(process.execPath, [RUNNER, path.join(functionsDir, file), preload, RESPONSE_MODULE], {
    cwd: PROJECT_ROOT,
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '', ...env, FUNCTION_EVENT: JSON.stringify(eventFor(file)) },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as {
    bootMs: number;
    preloadMs: number;
    loadMs: number;
    firstCallMs: number;
    outcome: string;
    statusCode?: number;
  };
}

export async function measureColdStart(options: {
  functionsDir: string;
  /** From thirdPartyBytes(), measured when the build was made. */
  packageBytes: Map<string, number>;
  runs: number;
  deadline: number;
  limit?: number;
}): Promise<ColdStartRow[]> {
  const { packageBytes } = options;
  const emulator = await startEmulator({ port: 0 });
  const env = {
    ACCOUNT_SID: LOCAL_ACCOUNT_SID,
    AUTH_TOKEN: LOCAL_AUTH_TOKEN,
    SYNC_SERVICE_SID: 'default',
    TWILIO_API_BASE_URL: emulator.url,
    WEBHOOK_SECRET: SECRET,
  };
  const rows: ColdStartRow[] = [];
  try {
    const files = listFiles(options.functionsDir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => path.relative(options.functionsDir, f).split(path.sep).join('/'))
      .sort()
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
    for (const file of files) {
      const bare: Awaited<ReturnType<typeof once>>[] = [];
      const runtime: Awaited<ReturnType<typeof once>>[] = [];
      for (let i = 0; i < options.runs && (i < 2 || Date.now() < options.deadline); i++) {
        bare.push(await once(options.functionsDir, file, 'bare', env));
        runtime.push(await once(options.functionsDir, file, 'runtime', env));
      }
      rows.push({
        file,
        bytes: fs.statSync(path.join(options.functionsDir, file)).size,
        thirdPartyBytes: packageBytes.get(file) ?? 0,
        bare: {
          load: summarize(bare.map((r) => r.loadMs)),
          firstCall: summarize(bare.map((r) => r.firstCallMs)),
          process: summarize(bare.map((r) => r.bootMs + r.loadMs + r.firstCallMs)),
        },
        runtime: {
          preload: summarize(runtime.map((r) => r.preloadMs)),
          load: summarize(runtime.map((r) => r.loadMs)),
          firstCall: summarize(runtime.map((r) => r.firstCallMs)),
        },
        outcomes: [...new Set([...bare, ...runtime].map((r) => `${r.outcome} ${r.statusCode ?? ''}`.trim()))],
      });
    }
  } finally {
    await emulator.close();
  }
  return rows;
}
