/**
 * Deploy preflight, offline: each check refuses what the platform is known to refuse, with one
 * sentence naming the file, the value and the fix, and passes the shipped configuration.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENV_KEYS, EMULATOR_OWNED_KEYS, LOCAL_ONLY_KEYS } from '../../dev/env-keys';
import { HANDLERS, RUNTIMES, SHIPPED_PAIR } from '../../dev/deploy/platform-facts';
import {
  checkConfig,
  checkCredentials,
  checkFiles,
  checkNode,
  checkRuntime,
  checkVariables,
  listDeployFiles,
  type ConfigInput,
  type DeployConfig,
} from '../../dev/deploy/preflight';
import { readDeployConfig } from '../../dev/deploy/run';
import { PROJECT_ROOT } from '../../dev/paths';

const projectPkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
const projectConfig = readDeployConfig(PROJECT_ROOT, []);
const AC = 'AC' + 'a1'.repeat(16);
const TOKEN = 'b2'.repeat(16);

function input(overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    config: projectConfig,
    pkg: projectPkg,
    env: {},
    envFile: '.env',
    credentials: { username: AC, password: TOKEN, from: '.env' },
    nodeVersion: '22.11.0',
    twilioRunEngines: '^20.x || ^22.x',
    ...overrides,
  };
}

function withHandler(version: string) {
  return { ...projectPkg, dependencies: { ...projectPkg.dependencies, '@twilio/runtime-handler': version } };
}

function withRuntime(runtime: string | undefined): DeployConfig {
  return { ...projectConfig, runtime };
}

describe('the shipped project', () => {
  it('passes every config check: node22 with @twilio/runtime-handler 2.0.1', () => {
    expect(projectConfig.runtime).toBe(SHIPPED_PAIR.runtime);
    expect(projectPkg.dependencies['@twilio/runtime-handler']).toBe(SHIPPED_PAIR.handler);
    expect(checkConfig(input())).toEqual({ refusals: [], warnings: [] });
  });

  it('passes the file checks on the real build (seven functions, /jobs/complete the only public one)', async () => {
    const files = await listDeployFiles(PROJECT_ROOT, projectConfig);
    expect(files.filter((f) => f.access === 'public' && f.kind === 'function').map((f) => f.path)).toEqual([
      '/jobs/complete',
    ]);
    expect(checkFiles(files, PROJECT_ROOT)).toEqual({ refusals: [], warnings: [] });
  });
});

describe('runtime and @twilio/runtime-handler', () => {
  it.each([
    [
      '2.1.0',
      /package\.json: "@twilio\/runtime-handler": "2\.1\.0" is refused because npm's 2\.1\.0 is refused by the platform at deploy \(Error 20001\): use "runtime": "node22" with "@twilio\/runtime-handler": "2\.0\.1"\./,
    ],
    ['2.0.3', /"2\.0\.3" is refused because npm's 2\.0\.3 was refused/],
    ['^2.0.1', /"\^2\.0\.1" is not an exact version .* set it to exactly "2\.0\.1"/],
    ['2.0.2', /"2\.0\.2" is not known to be accepted with runtime "node22": use .*platform-facts\.ts/],
  ])('refuses @twilio/runtime-handler %s in one sentence', (version, message) => {
    const refusals = checkRuntime({ config: projectConfig, pkg: withHandler(version) });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(message);
    expect(refusals[0]).toContain(version);
  });

  it.each([
    [
      'node24',
      /\.twilioserverlessrc: runtime "node24" is refused because node24 needs @twilio\/runtime-handler 2\.1\.2, which npm does not carry/,
    ],
    ['node20', /runtime "node20" is refused because node20 can no longer be used for new builds: use "node22"\./],
    ['node18', /runtime "node18" is refused because node18 is refused for new deploys since 2025-11-10/],
    ['node99', /runtime "node99" is not one Twilio is known to accept: use "node22"\./],
  ])('refuses runtime %s', (runtime, message) => {
    const refusals = checkRuntime({ config: withRuntime(runtime), pkg: projectPkg });
    expect(refusals[0]).toMatch(message);
  });

  it('refuses a missing runtime, since twilio-run 5.1.0 would pick node24', () => {
    expect(checkRuntime({ config: withRuntime(undefined), pkg: projectPkg })).toEqual([
      '.twilioserverlessrc sets no "runtime", and twilio-run 5.1.0 deploys to node24 unless told otherwise: add "runtime": "node22".',
    ]);
  });

  it('names the --runtime flag when the flag sets the runtime', () => {
    const config = readDeployConfig(PROJECT_ROOT, ['--runtime', 'node20']);
    expect(checkRuntime({ config, pkg: projectPkg })[0]).toMatch(/^the --runtime flag: runtime "node20"/);
  });

  it('refuses the handler in devDependencies or missing', () => {
    const inDev = { dependencies: { twilio: '5.8.2' }, devDependencies: { '@twilio/runtime-handler': '2.0.1' } };
    expect(checkRuntime({ config: projectConfig, pkg: inDev })[0]).toMatch(
      /in "devDependencies", which are not uploaded: move it to "dependencies"/,
    );
    expect(checkRuntime({ config: projectConfig, pkg: { dependencies: {} } })[0]).toMatch(
      /has no "@twilio\/runtime-handler" in "dependencies"/,
    );
  });

  it('every fact in the table names a source', () => {
    for (const fact of [...RUNTIMES, ...HANDLERS]) expect(fact.source.length).toBeGreaterThan(10);
  });
});

describe('local Node', () => {
  it('refuses Node below 20 and warns outside twilio-run engines or away from the runtime', () => {
    expect(checkNode('18.19.0', 'node22', '^20.x || ^22.x').refusals[0]).toMatch(
      /Node\.js 18\.19\.0, below the project's "engines"/,
    );
    expect(checkNode('24.1.0', 'node22', '^20.x || ^22.x').warnings[0]).toMatch(
      /outside twilio-run's supported engines/,
    );
    expect(checkNode('20.11.0', 'node22', '^20.x || ^22.x')).toEqual({
      refusals: [],
      warnings: [
        'This machine runs Node.js 20 and the functions will run on node22: test with Node.js 22 locally to see what they will see.',
      ],
    });
    expect(checkNode('22.11.0', 'node22', '^20.x || ^22.x')).toEqual({ refusals: [], warnings: [] });
  });
});

describe('credentials', () => {
  it('accepts an Account SID with a 32-hex token, and an API key with its secret', () => {
    expect(checkCredentials({ username: AC, password: TOKEN, from: '.env' })).toEqual([]);
    expect(
      checkCredentials({
        username: 'SK' + 'c3'.repeat(16),
        password: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
        from: '.env',
      }),
    ).toEqual([]);
  });

  it.each([
    [{ username: '', password: '' }, /No Twilio credentials were found in \.env/],
    [{ username: 'AC' + '0'.repeat(32), password: 'local' }, /the offline stack's fake account/],
    [{ username: AC, password: 'not-a-token' }, /AUTH_TOKEN is not 32 hexadecimal characters/],
    [{ username: 'SK' + 'c3'.repeat(16), password: 'short' }, /the secret for API key SK/],
    [{ username: 'ACxyz', password: TOKEN }, /ACCOUNT_SID "ACxyz" is neither an Account SID/],
  ])('refuses %o', (credentials, message) => {
    const refusals = checkCredentials({ ...credentials, from: '.env' });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(message);
  });
});

describe('.env keys that would be uploaded', () => {
  it('uploads secrets and service settings, refuses local-only keys', () => {
    const result = checkVariables(
      {
        ACCOUNT_SID: AC,
        AUTH_TOKEN: TOKEN,
        WEBHOOK_SECRET: 'whsec_abc',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:3010',
        PORT: '3000',
        BACKEND_URL: '',
      },
      '.env',
    );
    expect(result.refusals).toEqual([
      '.env: TWILIO_API_BASE_URL (points the functions at the local Twilio emulator) would be uploaded as a Variable and means nothing deployed: remove it from .env before deploying.',
      '.env: PORT (port of `npm start`) would be uploaded as a Variable and means nothing deployed: remove it from .env before deploying.',
    ]);
  });

  it('refuses a URL to this machine, an oversized value or key, and a malformed Sync service', () => {
    const result = checkVariables(
      {
        BACKEND_URL: 'http://localhost:8080/work',
        WEBHOOK_SECRET: 'x'.repeat(451),
        ['K'.repeat(129)]: 'v',
        SYNC_SERVICE_SID: 'my-sync',
      },
      '.env',
    );
    expect(result.refusals).toEqual([
      '.env: BACKEND_URL=http://localhost:8080/work points at this machine, which the deployed functions cannot reach: set a public URL or leave it empty.',
      ".env: the value of WEBHOOK_SECRET is 451 bytes, over Twilio's 450 for a Variable value: shorten it or keep it in a private asset.",
      ".env: the key KKKKKKKKKKKKKKKKKKKK... is 129 characters, over Twilio's 128 for a Variable key: shorten it.",
      '.env: SYNC_SERVICE_SID=my-sync is neither "default" nor a Sync service SID (IS + 32 hex): fix it or leave it empty for "default".',
    ]);
    expect(result.warnings).toEqual([expect.stringMatching(/KKKK+ is not a setting the service reads/)]);
  });

  it('one list: every key in .env.example is known, and npm start takes its emulator keys from it', () => {
    const example = fs.readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8');
    const keys = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) expect({ key, known: key in ENV_KEYS }).toEqual({ key, known: true });
    expect(EMULATOR_OWNED_KEYS).toEqual(['ACCOUNT_SID', 'AUTH_TOKEN', 'TWILIO_API_BASE_URL', 'SYNC_SERVICE_SID']);
    expect(LOCAL_ONLY_KEYS).toContain('TWILIO_API_BASE_URL');
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'tools', 'start.ts'), 'utf8')).toContain(
      "import { EMULATOR_OWNED_KEYS } from '../dev/env-keys'",
    );
  });
});

describe('files and visibility (planted in a copy of the build)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-preflight-'));
    fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    const functions = path.join(dir, 'dist', 'functions');
    const assets = path.join(dir, 'dist', 'assets');
    fs.renameSync(path.join(functions, 'jobs', 'start.protected.js'), path.join(functions, 'jobs', 'start.js'));
    fs.renameSync(path.join(functions, 'jobs', 'complete.js'), path.join(functions, 'jobs', 'complete.protected.js'));
    fs.appendFileSync(path.join(functions, 'hold.protected.js'), '\n//# sourceMappingURL=hold.protected.js.map\n');
    fs.writeFileSync(path.join(assets, 'app.js.map'), '{}');
    fs.writeFileSync(path.join(assets, '.env'), 'AUTH_TOKEN=x');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses each mistake with the file and the fix', async () => {
    const files = await listDeployFiles(dir, projectConfig);
    expect(checkFiles(files, dir).refusals.sort()).toEqual(
      [
        'dist/functions/jobs/complete.protected.js deploys /jobs/complete as protected, but backends call it without a Twilio signature: name it without ".protected".',
        'dist/functions/jobs/start.js deploys /jobs/start as public, so anyone can call it: name it "start.protected.js".',
        'dist/functions/hold.protected.js points at a source map (sourceMappingURL), which would publish the sources: build without source maps.',
        'dist/assets/app.js.map is a source map and would be published as /app.js.map: remove it from the assets folder.',
        'dist/assets/.env is an env file and would be published as /.env: remove it from the assets folder.',
      ].sort(),
    );
  });
});
