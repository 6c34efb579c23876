/**
 * `npm run deploy -- --rehearse`: the real `twilio-run deploy` against the local Serverless API
 * stand-in. Asserts what was uploaded (each function's path and visibility, the asset, the
 * build's dependencies and runtime, the variables), that every request and reply matched
 * Twilio's spec, and that a refused runtime-handler stops the deploy before any upload.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RehearsalResult } from '../../dev/deploy/rehearse';
import { runDeploy } from '../../dev/deploy/run';
import { PROJECT_ROOT } from '../../dev/paths';
import { PUBLISHED } from '../support/published';

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

/** A copy of what a deploy reads: package.json, .twilioserverlessrc, dist/, and a .env. */
function copyProject(env: string, edit?: (pkg: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-rehearse-test-'));
  const copy = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  edit?.(copy);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(copy, null, 2));
  fs.copyFileSync(path.join(PROJECT_ROOT, '.twilioserverlessrc'), path.join(dir, '.twilioserverlessrc'));
  fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.env'), env);
  return dir;
}

const ENV = [
  'ACCOUNT_SID=',
  'AUTH_TOKEN=',
  'SYNC_SERVICE_SID=default',
  'WEBHOOK_SECRET=whsec_' + 'A'.repeat(32),
  'BACKEND_URL=',
  'JOB_TTL_SECONDS=86400',
  'SIMULATED_WORK_SECONDS=5-15',
  '',
].join('\n');

describe('a rehearsed deploy of the build', () => {
  let dir: string;
  let result: RehearsalResult | undefined;
  let code: number;
  const out: string[] = [];
  const err: string[] = [];

  beforeAll(async () => {
    dir = copyProject(ENV);
    code = await runDeploy({
      rehearse: true,
      projectDir: dir,
      twilioRunArgs: [],
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      write: () => undefined,
      onRehearsed: (r) => (result = r),
    });
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and ends with the service domain on twil.io', () => {
    expect(code).toBe(0);
    expect(err.filter((line) => !line.startsWith('preflight warning: '))).toEqual([]);
    expect(out[out.length - 1]).toMatch(/^Rehearsal deployed to https:\/\/studio-async-\d{4}-dev\.twil\.io$/);
    expect(result?.output).toContain(`${result?.domain}`);
    expect(result?.output).toMatch(/Serverless project successfully deployed/);
  });

  it("spoke Twilio's Serverless API as its spec describes, and nothing else", () => {
    expect(result?.standIn.problems).toEqual([]);
    expect(result?.refused).toEqual([]);
    // the one departure twilio-run always makes, tolerated and listed
    expect(result?.standIn.tolerated).toEqual([
      expect.stringMatching(/CreateEnvironment: unknown form parameter "FriendlyName"$/),
    ]);
  });

  it('uploaded each function with its path and visibility, and the hold music', () => {
    const uploads = [...(result?.standIn.uploads ?? [])].sort((a, b) => a.path.localeCompare(b.path));
    expect(uploads.map(({ kind, path: p, visibility }) => ({ kind, path: p, visibility }))).toEqual(PUBLISHED);
    const start = uploads.find((u) => u.path === '/jobs/start');
    expect(
      start?.content.equals(fs.readFileSync(path.join(dir, 'dist', 'functions', 'jobs', 'start.protected.js'))),
    ).toBe(true);
    const music = uploads.find((u) => u.path === '/hold-music.wav');
    expect(music?.content.equals(fs.readFileSync(path.join(PROJECT_ROOT, 'src', 'assets', 'hold-music.wav')))).toBe(
      true,
    );
  });

  it('built on node22 with the dependencies at their exact package.json versions', () => {
    const builds = [...(result?.standIn.builds.values() ?? [])];
    expect(builds).toHaveLength(1);
    expect(builds[0].runtime).toBe('node22');
    expect(builds[0].dependencies).toEqual(
      Object.entries(pkg.dependencies).map(([name, version]) => ({ name, version })),
    );
    expect(builds[0].dependencies).toContainEqual({ name: '@twilio/runtime-handler', version: '2.0.1' });
    expect(builds[0].functionVersions).toHaveLength(7);
    expect(builds[0].assetVersions).toHaveLength(1);
    expect(result?.standIn.deployments.map((d) => d.buildSid)).toEqual([builds[0].sid]);
  });

  it('set the non-empty .env values as Variables, never the credentials', () => {
    const variables = Object.fromEntries([...(result?.standIn.variables.values() ?? [])].map((v) => [v.key, v.value]));
    expect(variables).toEqual({
      SYNC_SERVICE_SID: 'default',
      WEBHOOK_SECRET: 'whsec_' + 'A'.repeat(32),
      JOB_TTL_SECONDS: '86400',
      SIMULATED_WORK_SECONDS: '5-15',
    });
  });

  it('left no .twiliodeployinfo in the project it deployed', () => {
    expect(fs.existsSync(path.join(dir, '.twiliodeployinfo'))).toBe(false);
  });
});

describe('a refused runtime-handler', () => {
  it('with @twilio/runtime-handler 2.1.0, npm run deploy -- --rehearse exits non-zero before any upload, naming 2.1.0', () => {
    const dir = copyProject(ENV, (copy) => {
      (copy.dependencies as Record<string, string>)['@twilio/runtime-handler'] = '2.1.0';
    });
    try {
      const run = spawnSync(
        process.execPath,
        [
          path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          path.join(PROJECT_ROOT, 'tools', 'deploy.ts'),
          '--rehearse',
          '--project-dir',
          dir,
        ],
        {
          cwd: PROJECT_ROOT,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        'preflight: package.json: "@twilio/runtime-handler": "2.1.0" is refused because npm\'s 2.1.0 is refused by the platform at deploy (Error 20001): use "runtime": "node22" with "@twilio/runtime-handler": "2.0.1".',
      );
      expect(run.stderr).toContain('nothing was uploaded');
      // the stand-in never started: no twilio-run output, no rehearsal line
      expect(run.stdout).not.toMatch(/Rehearsing|Deploying|twil\.io/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
