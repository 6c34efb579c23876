/**
 * `npm run deploy:flows` against the emulator (which checks every request against Twilio's
 * Studio v2 spec): the first run creates the flows, the second updates them, an invalid flow or
 * a missing value stops everything before any flow is created.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deployFlows, flowsClient, placeholdersIn, prepareFlows, collectValues, DeployFlowsError } from '../../tools/deploy-flows';
import { loadStartEmulator, type EmulatorHandle } from '../../tools/emulator-loader';
import { PROJECT_ROOT } from '../../tools/paths';

const hex = (c: string) => c.repeat(32);
const VALUES = {
  SERVICE_DOMAIN: 'studio-async-1234-dev.twil.io',
  SERVICE_SID: `ZS${hex('1')}`,
  ENVIRONMENT_SID: `ZE${hex('2')}`,
  FUNCTION_SID_JOBS_START: `ZH${hex('3')}`,
  FUNCTION_SID_JOBS_STATUS: `ZH${hex('4')}`,
  FUNCTION_SID_JOBS_RESULT: `ZH${hex('5')}`,
};
const FLOW_FILES = ['voice-hold.json', 'messaging-poll.json'].map((name) => path.join(PROJECT_ROOT, 'flows', name));

let emulator: EmulatorHandle;
let tempDir: string;
const stat = (name: string) => emulator.stats()[name] ?? 0;
const client = () => flowsClient({}, emulator.url).client;

beforeAll(async () => {
  emulator = await loadStartEmulator()({ port: 0 });
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-flows-'));
});
afterAll(async () => {
  await emulator?.close();
  fs.rmSync(tempDir, { recursive: true, force: true });
});
afterEach(() => expect(emulator.violations()).toEqual([]));

describe('deploy:flows', () => {
  it('fills every placeholder the flows use, leaving only the optional Flex workflow', () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'studio-async');
    expect(flows.map((f) => f.friendlyName)).toEqual(['studio-async voice-hold', 'studio-async messaging-poll']);
    expect([...placeholdersIn(flows[0]!.definition)]).toEqual(['FLEX_WORKFLOW_SID']);
    expect([...placeholdersIn(flows[1]!.definition)]).toEqual([]);
    expect(JSON.stringify(flows[0]!.definition)).toContain(`"url":"https://studio-async-1234-dev.twil.io/jobs/start"`);
    expect(JSON.stringify(flows[0]!.definition)).toContain(`"function_sid":"ZH${hex('3')}"`);
  });

  it('names every missing or malformed value before sending anything', () => {
    const before = emulator.stats().total ?? 0;
    expect(() => prepareFlows(FLOW_FILES, { ...VALUES, SERVICE_SID: 'nope', ENVIRONMENT_SID: '' }, 'x')).toThrow(
      new DeployFlowsError(
        ['SERVICE_SID must be ZS + 32 hex digits, got "nope"', 'voice-hold.json needs __ENVIRONMENT_SID__: set --environment-sid or ENVIRONMENT_SID', 'messaging-poll.json needs __ENVIRONMENT_SID__: set --environment-sid or ENVIRONMENT_SID'].join('\n'),
      ),
    );
    expect(emulator.stats().total ?? 0).toBe(before);
  });

  it('takes values from flags over the environment', () => {
    const values = collectValues(
      { 'service-domain': 'https://flag.twil.io/', 'function-sid': [`/jobs/start=ZH${hex('9')}`], set: ['__CUSTOM__=x'] },
      { SERVICE_DOMAIN: 'env.twil.io', SERVICE_SID: VALUES.SERVICE_SID, UNRELATED: 'y' },
    );
    expect(values).toEqual({ SERVICE_DOMAIN: 'flag.twil.io', SERVICE_SID: VALUES.SERVICE_SID, FUNCTION_SID_JOBS_START: `ZH${hex('9')}`, CUSTOM: 'x' });
  });

  it('validates, then creates on the first run and updates on the second, published', async () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'first-then-update');
    const first = await deployFlows({ client: client(), flows });
    expect(first.map((f) => [f.friendlyName, f.action, f.revision])).toEqual([
      ['first-then-update voice-hold', 'created', 1],
      ['first-then-update messaging-poll', 'created', 1],
    ]);
    expect(first[0]!.webhookUrl).toBe(`https://webhooks.twilio.com/v1/Accounts/AC${'0'.repeat(32)}/Flows/${first[0]!.sid}`);

    const second = await deployFlows({ client: client(), flows });
    expect(second.map((f) => [f.sid, f.action, f.revision])).toEqual(first.map((f) => [f.sid, 'updated', 2]));
    const stored = await client().studio.v2.flows(first[0]!.sid).fetch();
    expect(stored).toMatchObject({ status: 'published', friendlyName: 'first-then-update voice-hold' });
    expect(JSON.stringify(stored.definition)).not.toContain('__SERVICE_DOMAIN__');
    expect(stat('studio.flows.validate')).toBeGreaterThanOrEqual(4);
  });

  it("stops with Studio's message when a flow is invalid, before creating any", async () => {
    const broken = JSON.parse(fs.readFileSync(FLOW_FILES[1]!, 'utf8'));
    broken.states.find((s: { name: string }) => s.name === 'send_working').transitions[0].next = 'no_such_state';
    const brokenFile = path.join(tempDir, 'broken.json');
    fs.writeFileSync(brokenFile, JSON.stringify(broken));
    const created = stat('studio.flows.create');
    const updated = stat('studio.flows.update');
    const flows = prepareFlows([FLOW_FILES[0]!, brokenFile], VALUES, 'invalid-run');
    await expect(deployFlows({ client: client(), flows })).rejects.toThrow(/broken\.json is not valid; nothing was created or changed\.\n.*Invalid Flow definition[\s\S]*no_such_state/);
    expect(stat('studio.flows.create')).toBe(created);
    expect(stat('studio.flows.update')).toBe(updated);
  });

  it('works from the command line and prints the webhook URLs', async () => {
    // The emulator runs in this process: the command must run asynchronously.
    const env = { ...process.env, ...VALUES, ACCOUNT_SID: '', AUTH_TOKEN: '', TWILIO_API_BASE_URL: '' };
    const result = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), 'tools/deploy-flows.ts', '--api-base-url', emulator.url, '--name-prefix', 'cli'],
        { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/created  cli voice-hold: FW[0-9a-f]{32} \(revision 1, published\)/);
    expect(result.stdout).toMatch(/cli messaging-poll\s+https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC0{32}\/Flows\/FW[0-9a-f]{32}/);
    expect(result.stdout).toContain('the Flex fallback stays off');
  }, 30_000);
});
