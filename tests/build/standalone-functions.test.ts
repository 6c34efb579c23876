/**
 * Twilio uploads every function as its own file. This loads each built function ALONE (a fresh
 * folder holding only that file, plus the production dependencies the platform installs) in a
 * fresh node process, and calls it once with bad input. A function that still needs a sibling
 * file fails here, as it would after deploy.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../../dev/credentials';
import { PROJECT_ROOT } from '../../dev/paths';
import { getFreePort } from '../../dev/ports';
import { listBuiltFunctions, type BuiltFunction } from './support/built-functions';

const run = promisify(execFile);

const RUNNER = path.join(__dirname, 'support', 'call-function-alone.cjs');
/** The Response class of Twilio's own local runtime (required by file: the package's exports hide it). */
const RUNTIME_RESPONSE_MODULE = path.join(
  PROJECT_ROOT,
  'node_modules/@twilio/runtime-handler/dist/dev-runtime/internal/response.js',
);

/** Input each function must refuse. Most need a jobId; /jobs/start takes any input, so give it a bad control value. */
const BAD_EVENTS: Record<string, Record<string, string>> = {
  '/jobs/start': { wait: 'soon' },
};

interface Outcome {
  kind: 'response' | 'value' | 'callback-error' | 'threw' | 'timeout' | 'load-failed' | 'no-handler';
  statusCode?: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  message?: string;
}

const tempDirs: string[] = [];

function productionDependencies(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(pkg.dependencies ?? {});
}

/** A folder with the function file and node_modules links to the production dependencies only. */
function isolate(fn: BuiltFunction): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-fn-'));
  tempDirs.push(dir);
  for (const dep of productionDependencies()) {
    const link = path.join(dir, 'node_modules', dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', dep), link, 'dir');
  }
  const copy = path.join(dir, path.basename(fn.file));
  fs.copyFileSync(fn.absolutePath, copy);
  return copy;
}

async function callAlone(fn: BuiltFunction, event: Record<string, string>): Promise<Outcome> {
  const file = isolate(fn);
  // Nothing listens here: a function that calls Twilio for input it should refuse fails fast.
  const deadApiUrl = `http://127.0.0.1:${await getFreePort()}`;
  const { stdout } = await run(process.execPath, [RUNNER, file, RUNTIME_RESPONSE_MODULE, fn.urlPath], {
    cwd: path.dirname(file),
    timeout: 20_000,
    // Only what the platform would give the function: its env values (no parent env, no secrets).
    env: {
      PATH: process.env.PATH ?? '',
      ACCOUNT_SID: LOCAL_ACCOUNT_SID,
      AUTH_TOKEN: LOCAL_AUTH_TOKEN,
      SYNC_SERVICE_SID: 'default',
      TWILIO_API_BASE_URL: deadApiUrl,
      FUNCTION_EVENT: JSON.stringify(event),
    },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@OUTCOME@@'));
  if (!line) throw new Error(`no outcome from the function runner; output:\n${stdout}`);
  return JSON.parse(line.slice('@@OUTCOME@@'.length)) as Outcome;
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return entry ? String(entry[1]) : '';
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const builtFunctions = listBuiltFunctions();

test('the build produced functions to check', () => {
  expect(builtFunctions.length).toBeGreaterThan(0);
});

// (jest refuses an empty table; the test above already fails in that case)
const table = builtFunctions.map((fn) => [fn.urlPath, fn] as const);
(table.length > 0 ? describe.each(table) : describe.skip.each([['(none)', builtFunctions[0]] as const]))(
  '%s loaded alone',
  (_urlPath, fn) => {
    test('exports handler and answers bad input with a 4xx JSON error', async () => {
      const outcome = await callAlone(fn, BAD_EVENTS[fn.urlPath] ?? {});

      expect(outcome).toMatchObject({ kind: 'response' });
      const status = outcome.statusCode ?? 0;
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(headerValue(outcome.headers, 'Content-Type')).toMatch(/^application\/json/);
      const body = typeof outcome.body === 'string' ? (JSON.parse(outcome.body) as unknown) : outcome.body;
      expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    });
  },
);
