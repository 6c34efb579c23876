/**
 * The rehearsed domain runs the build as uploaded: the runtime-handler the build declares, from a
 * clean folder holding only the declared dependencies, behind an edge that refuses a protected
 * function's request without a valid X-Twilio-Signature (HTTP 400). A function that needs an
 * undeclared package works from dist/ and fails there; the voice flow's scenario passes against
 * it, every protected request signed the way Twilio signs (the runner's and the emulator's).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import twilio from 'twilio';
import type { FlowDefinition } from '../../studio/flow-model';
import { runFlow } from '../../studio/runner/run-flow';
import { findScenario, withStartParameters, type Scenario } from '../../studio/runner/scenarios';
import {
  RUNNER_SIGNING_TOKEN_ENV,
  startDeployedService,
  type DeployedService,
} from '../../dev/deploy/deployed-service';
import { PROJECT_ROOT } from '../../dev/paths';

/** The project folder lives inside the repository, so dist/'s view of node_modules is the real one. */
function copyProject(): string {
  const parent = path.join(PROJECT_ROOT, '.local');
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, 'deployed-domain-test-'));
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.copyFileSync(path.join(PROJECT_ROOT, '.twilioserverlessrc'), path.join(dir, '.twilioserverlessrc'));
  fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.env'), '');
  // ajv is a devDependency: installed here, never on the platform.
  fs.writeFileSync(
    path.join(dir, 'dist', 'functions', 'undeclared.protected.js'),
    "exports.handler = (context, event, callback) => { const Ajv = require('ajv'); callback(null, { ajv: typeof Ajv }); };\n",
  );
  return dir;
}

function sign(service: DeployedService, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(service.authToken, url, params);
}

describe('the rehearsed domain', () => {
  let dir: string;
  let service: DeployedService;

  beforeAll(async () => {
    dir = copyProject();
    service = await startDeployedService({ projectDir: dir });
  }, 90_000);
  afterAll(async () => {
    await service?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a scenario's flow against the rehearsed domain. */
  const runScenario = (scenario: Scenario) =>
    runFlow({
      definition: withStartParameters(
        JSON.parse(fs.readFileSync(path.resolve(PROJECT_ROOT, scenario.flowFile), 'utf8')) as FlowDefinition,
        scenario.startParameters,
      ),
      baseUrl: service.baseUrl,
      emulatorUrl: service.emulatorUrl,
      serviceDomain: service.domain,
      trigger: scenario.trigger,
    });

  it('is served from a clean folder with only the declared dependencies and their closure', () => {
    const linked = fs.readdirSync(path.join(service.served.serviceDir, 'node_modules'));
    expect(linked).toEqual(expect.arrayContaining(['@twilio', 'twilio', 'express', 'axios']));
    for (const dev of ['ajv', 'jest', 'typescript', 'twilio-run', 'esbuild', 'tsx']) expect(linked).not.toContain(dev);
    expect(fs.readdirSync(path.join(service.served.serviceDir, 'node_modules', '@twilio'))).toEqual([
      'runtime-handler',
    ]);
    expect(service.served.runtimeEntry).toMatch(
      /@twilio[/\\]runtime-handler[/\\]dist[/\\]dev-runtime[/\\]dev-runtime\.js$/,
    );
    expect(service.served.closure.packages.find((p) => p.name === '@twilio/runtime-handler')?.version).toBe('2.0.1');
    expect(service.served.closure.packages.find((p) => p.name === 'twilio')?.version).toBe('5.8.2');
    expect(fs.readFileSync(path.join(service.served.serviceDir, 'functions', 'jobs', 'start.js'))).toEqual(
      fs.readFileSync(path.join(dir, 'dist', 'functions', 'jobs', 'start.protected.js')),
    );
    expect(service.served.localOverrides).toEqual(['TWILIO_API_BASE_URL']);
    expect(service.domain).toMatch(/^studio-async-\d{4}-dev\.twil\.io$/);
  });

  it('refuses a protected function without a signature, or with a bad one (HTTP 400), before the function runs', async () => {
    const url = `${service.baseUrl}/jobs/status`;
    const body = { jobId: `JB${'a'.repeat(32)}` };
    const unsigned = await fetch(url, { method: 'POST', body: new URLSearchParams(body) });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).toMatch(/needs a valid X-Twilio-Signature \(none was sent\)/);

    const wrongToken = twilio.getExpectedTwilioSignature('0'.repeat(32), url, body);
    const bad = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams(body),
      headers: { 'X-Twilio-Signature': wrongToken },
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/the one sent does not match/);

    // signed for other parameters than the ones sent
    const tampered = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams({ jobId: `JB${'b'.repeat(32)}` }),
      headers: { 'X-Twilio-Signature': sign(service, url, body) },
    });
    expect(tampered.status).toBe(400);

    const good = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams(body),
      headers: { 'X-Twilio-Signature': sign(service, url, body) },
    });
    expect(good.headers.get('content-type')).toMatch(/application\/json/);
    expect(await good.json()).toHaveProperty('error.code'); // the function answered (an unknown job)
    expect(service.served.requests.filter((r) => r.path === '/jobs/status').map((r) => r.signature)).toEqual([
      'missing',
      'invalid',
      'invalid',
      'valid',
    ]);
  });

  it('lets the public completion and the public asset through unsigned', async () => {
    const complete = await fetch(`${service.baseUrl}/jobs/complete`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(complete.status).not.toBe(500);
    expect(await complete.text()).not.toMatch(/X-Twilio-Signature/);
    const music = await fetch(`${service.baseUrl}/hold-music.wav`);
    expect(music.status).toBe(200);
    expect(Buffer.from(await music.arrayBuffer())).toEqual(
      fs.readFileSync(path.join(PROJECT_ROOT, 'src', 'assets', 'hold-music.wav')),
    );
  });

  it('fails a function that needs an undeclared package, which works from dist/', async () => {
    const file = path.join(dir, 'dist', 'functions', 'undeclared.protected.js');
    const local = execFileSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(file)}).handler({}, {}, (e, r) => process.stdout.write(JSON.stringify(r)))`],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(local)).toEqual({ ajv: 'function' });

    const url = `${service.baseUrl}/undeclared`;
    const reply = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams({}),
      headers: { 'X-Twilio-Signature': sign(service, url, {}) },
    });
    expect(reply.status).toBe(500);
    expect(await reply.text()).toMatch(/Cannot find module 'ajv'/);
  });

  it('runs the voice flow with every protected request signed as Twilio signs (runner and emulator)', async () => {
    const scenario = findScenario('normal')!;
    const before = service.served.requests.length;
    process.env[RUNNER_SIGNING_TOKEN_ENV] = service.authToken;
    try {
      const run = await runScenario(scenario);
      expect(run.end).toMatchObject({ kind: 'completed' });
    } finally {
      delete process.env[RUNNER_SIGNING_TOKEN_ENV];
    }
    const seen = service.served.requests.slice(before);
    const protectedOnes = seen.filter((r) => r.signature !== undefined);
    expect(protectedOnes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/jobs/start', '/hold', '/hold/wait', '/jobs/result', '/hold/events']),
    );
    expect(protectedOnes.filter((r) => r.signature !== 'valid')).toEqual([]);
  }, 90_000);

  it('fails the same flow when the runner does not sign: what Twilio would not sign never reaches a function', async () => {
    const scenario = findScenario('fast')!;
    const before = service.served.requests.length;
    const run = await runScenario(scenario);
    const start = service.served.requests.slice(before).find((r) => r.path === '/jobs/start');
    expect(start).toMatchObject({ status: 400, signature: 'missing' });
    expect(run.path).not.toContain('hold_call/hold');
  }, 60_000);
});

describe('npm run call -- --scenario normal --deployed', () => {
  it('rehearses the deploy and passes against the rehearsed domain', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), 'studio/runner/cli.ts', '--scenario', 'normal', '--deployed', '--json'],
        {
          cwd: PROJECT_ROOT,
          encoding: 'utf8',
          timeout: 120_000,
          env: { ...process.env, [RUNNER_SIGNING_TOKEN_ENV]: '' },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toMatch(/Rehearsal deployed to https:\/\/studio-async-\d{4}-dev\.twil\.io/);
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as { end: { kind: string }; path: string[] };
    expect(run.end.kind).toBe('completed');
    expect(run.path).toEqual(expect.arrayContaining(['hold_call/hold', 'hold_call/get_result', 'say_result']));
  }, 150_000);
});
