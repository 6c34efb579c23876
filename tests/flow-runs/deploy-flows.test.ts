/**
 * `npm run deploy:flows` against the emulator (which checks every request against Twilio's
 * Studio v2 spec): the first run creates the flows, the second updates them, an invalid flow or
 * a missing value stops everything before any flow is created.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flowsClient } from '../../dev/flows/client';
import { deployFlows, wireNumber } from '../../dev/flows/deploy';
import { prepareFlows, voiceFlowOf, withSubflowFiles } from '../../dev/flows/flow-files';
import { DeployFlowsError, placeholdersIn } from '../../dev/flows/placeholders';
import { pullFlows } from '../../dev/flows/pull';
import { collectValues } from '../../dev/flows/values';
import { loadStartEmulator, type EmulatorHandle } from '../../dev/emulator-loader';
import { PROJECT_ROOT } from '../../dev/paths';

const hex = (c: string) => c.repeat(32);
const VALUES = {
  SERVICE_DOMAIN: 'studio-async-1234-dev.twil.io',
  SERVICE_SID: `ZS${hex('1')}`,
  ENVIRONMENT_SID: `ZE${hex('2')}`,
  FUNCTION_SID_JOBS_START: `ZH${hex('3')}`,
  FUNCTION_SID_JOBS_STATUS: `ZH${hex('4')}`,
  FUNCTION_SID_JOBS_RESULT: `ZH${hex('5')}`,
};
const FLOW_FILES = ['voice-hold.json', 'messaging.json', 'hold-subflow.json'].map((name) =>
  path.join(PROJECT_ROOT, 'flows', name),
);

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
  it("fills every placeholder the flows use, leaving the optional Flex workflow and the subflow's SID (filled at deploy time)", () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'studio-async');
    expect(flows.map((f) => f.friendlyName)).toEqual([
      'studio-async voice-hold',
      'studio-async messaging',
      'studio-async hold-subflow',
    ]);
    expect([...placeholdersIn(flows[0]!.definition)]).toEqual(['FLOW_SID_HOLD_SUBFLOW']);
    expect([...placeholdersIn(flows[1]!.definition)]).toEqual([]);
    expect([...placeholdersIn(flows[2]!.definition)]).toEqual(['FLEX_WORKFLOW_SID']);
    expect(JSON.stringify(flows[2]!.definition)).toContain(`"url":"https://studio-async-1234-dev.twil.io/jobs/start"`);
    expect(JSON.stringify(flows[2]!.definition)).toContain(`"function_sid":"ZH${hex('3')}"`);
  });

  it("a parent deployed without its subflow file needs the subflow's SID; beside it, the file is added", () => {
    expect(() => prepareFlows([FLOW_FILES[0]!], VALUES, 'x')).toThrow(
      /voice-hold\.json needs __FLOW_SID_HOLD_SUBFLOW__: set --set FLOW_SID_HOLD_SUBFLOW=FW\.\.\. or FLOW_SID_HOLD_SUBFLOW/,
    );
    expect(() => prepareFlows([FLOW_FILES[0]!], { ...VALUES, FLOW_SID_HOLD_SUBFLOW: 'FW1' }, 'x')).toThrow(
      'FLOW_SID_HOLD_SUBFLOW must be FW + 32 hex digits, got "FW1"',
    );
    const given = prepareFlows([FLOW_FILES[0]!], { ...VALUES, FLOW_SID_HOLD_SUBFLOW: `FW${hex('7')}` }, 'x');
    expect(JSON.stringify(given[0]!.definition)).toContain(`"flow_sid":"FW${hex('7')}"`);
    expect(withSubflowFiles([FLOW_FILES[0]!], VALUES)).toEqual({
      files: [FLOW_FILES[0], FLOW_FILES[2]],
      added: [FLOW_FILES[2]],
    });
    expect(withSubflowFiles([FLOW_FILES[0]!], { FLOW_SID_HOLD_SUBFLOW: `FW${hex('7')}` }).added).toEqual([]);
  });

  it('names every missing or malformed value before sending anything', () => {
    const before = emulator.stats().total ?? 0;
    expect(() => prepareFlows(FLOW_FILES, { ...VALUES, SERVICE_SID: 'nope', ENVIRONMENT_SID: '' }, 'x')).toThrow(
      new DeployFlowsError(
        [
          'SERVICE_SID must be ZS + 32 hex digits, got "nope"',
          'messaging.json needs __ENVIRONMENT_SID__: set --environment-sid or ENVIRONMENT_SID',
          'hold-subflow.json needs __ENVIRONMENT_SID__: set --environment-sid or ENVIRONMENT_SID',
        ].join('\n'),
      ),
    );
    expect(emulator.stats().total ?? 0).toBe(before);
  });

  it('takes values from flags over the environment', () => {
    const values = collectValues(
      {
        'service-domain': 'https://flag.twil.io/',
        'function-sid': [`/jobs/start=ZH${hex('9')}`],
        set: ['__CUSTOM__=x'],
      },
      { SERVICE_DOMAIN: 'env.twil.io', SERVICE_SID: VALUES.SERVICE_SID, UNRELATED: 'y' },
    );
    expect(values).toEqual({
      SERVICE_DOMAIN: 'flag.twil.io',
      SERVICE_SID: VALUES.SERVICE_SID,
      FUNCTION_SID_JOBS_START: `ZH${hex('9')}`,
      CUSTOM: 'x',
    });
  });

  it('validates, then creates on the first run (the subflow first, its SID in the parent) and updates on the second, published', async () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'first-then-update');
    const validations = stat('studio.flows.validate');
    const first = await deployFlows({ client: client(), flows });
    expect(first.map((f) => [f.friendlyName, f.action, f.revision])).toEqual([
      ['first-then-update hold-subflow', 'created', 1],
      ['first-then-update voice-hold', 'created', 1],
      ['first-then-update messaging', 'created', 1],
    ]);
    expect(first[0]!.webhookUrl).toBe(
      `https://webhooks.twilio.com/v1/Accounts/AC${'0'.repeat(32)}/Flows/${first[0]!.sid}`,
    );
    // Three validations, and the parent once more with the subflow's real SID before it is created.
    expect(stat('studio.flows.validate') - validations).toBe(4);
    const parent = await client().studio.v2.flows(first[1]!.sid).fetch();
    const runSubflow = (
      parent.definition as { states: Array<{ type: string; properties: { flow_sid?: string } }> }
    ).states.find((s) => s.type === 'run-subflow');
    expect(runSubflow!.properties.flow_sid).toBe(first[0]!.sid);

    const second = await deployFlows({ client: client(), flows });
    expect(second.map((f) => [f.sid, f.action, f.revision])).toEqual(first.map((f) => [f.sid, 'updated', 2]));
    expect(stat('studio.flows.validate') - validations).toBe(7); // the subflow exists: its SID is known from the start
    const stored = await client().studio.v2.flows(first[1]!.sid).fetch();
    expect(stored).toMatchObject({ status: 'published', friendlyName: 'first-then-update voice-hold' });
    expect(JSON.stringify(stored.definition)).not.toMatch(/__SERVICE_DOMAIN__|__FLOW_SID_/);
  });

  it("stops with Studio's message when a flow is invalid, before creating any", async () => {
    const broken = JSON.parse(fs.readFileSync(FLOW_FILES[1]!, 'utf8'));
    broken.states.find((s: { name: string }) => s.name === 'send_working').transitions[0].next = 'no_such_state';
    const brokenFile = path.join(tempDir, 'broken.json');
    fs.writeFileSync(brokenFile, JSON.stringify(broken));
    const created = stat('studio.flows.create');
    const updated = stat('studio.flows.update');
    const flows = prepareFlows([FLOW_FILES[0]!, FLOW_FILES[2]!, brokenFile], VALUES, 'invalid-run');
    await expect(deployFlows({ client: client(), flows })).rejects.toThrow(
      /broken\.json is not valid; nothing was created or changed\.\n.*Invalid Flow definition[\s\S]*no_such_state/,
    );
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
        (error, stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // The subflow first; the parent is validated again with the subflow's SID, then created.
    expect(result.stdout).toMatch(
      /created  cli hold-subflow: FW[0-9a-f]{32} \(revision 1, published\)\n[\s\S]*valid    cli voice-hold .*\ncreated  cli voice-hold: FW[0-9a-f]{32}/,
    );
    expect(result.stdout).toMatch(
      /cli messaging\s+https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC0{32}\/Flows\/FW[0-9a-f]{32}/,
    );
    expect(result.stdout).toContain('the Flex fallback stays off');
  }, 30_000);

  it('wires a number: voice URL and call-status callback to the voice flow, through IncomingPhoneNumbers', async () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'wired');
    const deployed = await deployFlows({ client: client(), flows });
    await expect(wireNumber(client(), '+14155550123', deployed[0]!)).rejects.toThrow(
      /\+14155550123 is not a number of this account/,
    );
    await client().incomingPhoneNumbers.create({ phoneNumber: '+14155550123' });
    await client().incomingPhoneNumbers.create({ phoneNumber: '+14155550999' });
    const voice = deployed.find((flow) => flow.file === voiceFlowOf(flows).file)!; // not the subflow: it answers no calls
    expect(voice.friendlyName).toBe('wired voice-hold');
    const wired = await wireNumber(client(), '+14155550123', voice);
    const [number] = await client().incomingPhoneNumbers.list({ phoneNumber: '+14155550123' });
    expect(number).toMatchObject({
      sid: wired.sid,
      voiceUrl: voice.webhookUrl,
      voiceMethod: 'POST',
      statusCallback: voice.webhookUrl,
      statusCallbackMethod: 'POST',
    });
    const [other] = await client().incomingPhoneNumbers.list({ phoneNumber: '+14155550999' });
    expect(other).toMatchObject({ voiceUrl: null, statusCallback: null });
    expect(stat('api.incomingPhoneNumbers.update')).toBe(1);
  });

  it('round trip: deploy:flows then flows:pull gives back flows/*.json byte for byte', async () => {
    const values = { ...VALUES, FLEX_WORKFLOW_SID: `WW${hex('6')}` };
    await deployFlows({ client: client(), flows: prepareFlows(FLOW_FILES, values, 'round-trip') });
    const outDir = path.join(tempDir, 'pulled');
    const pulled = await pullFlows({ client: client(), files: FLOW_FILES, values, namePrefix: 'round-trip', outDir });
    for (const file of FLOW_FILES) {
      expect(fs.readFileSync(path.join(outDir, path.basename(file)))).toEqual(fs.readFileSync(file));
    }
    expect(pulled.map((p) => p.leftOver)).toEqual([[], [], []]);
  });

  it('pulls a Console edit back with the placeholders restored', async () => {
    const flows = prepareFlows(FLOW_FILES, VALUES, 'edited');
    const voice = (await deployFlows({ client: client(), flows })).find((flow) => flow.file === FLOW_FILES[0]);
    // An edit in the Console: one widget's words change, the filled SIDs stay as deployed.
    const definition = (await client().studio.v2.flows(voice!.sid).fetch()).definition as {
      states: Array<{ type: string; name: string; properties: Record<string, unknown> }>;
    };
    const say = definition.states.find((s: { type: string }) => s.type === 'say-play')!;
    say.properties.say = 'Edited in the Console.';
    await client()
      .studio.v2.flows(voice!.sid)
      .update({ status: 'published', definition, commitMessage: 'Console edit' });
    const outDir = path.join(tempDir, 'edited');
    const [pulled] = await pullFlows({
      client: client(),
      files: [FLOW_FILES[0]!],
      values: VALUES,
      namePrefix: 'edited',
      outDir,
    });
    const original = JSON.parse(fs.readFileSync(FLOW_FILES[0]!, 'utf8'));
    original.states.find((s: { name: string }) => s.name === say.name).properties.say = 'Edited in the Console.';
    expect(pulled!.after).toBe(`${JSON.stringify(original, null, 2)}\n`);
    expect(pulled!.after).toContain('"flow_sid": "__FLOW_SID_HOLD_SUBFLOW__"');
    expect(pulled!.revision).toBe(2);
  });

  it('names a deployment value it cannot turn back into a placeholder', async () => {
    await deployFlows({ client: client(), flows: prepareFlows([FLOW_FILES[1]!], VALUES, 'partial') });
    const { SERVICE_DOMAIN: _domain, ...withoutDomain } = VALUES;
    const [pulled] = await pullFlows({
      client: client(),
      files: [FLOW_FILES[1]!],
      values: withoutDomain,
      namePrefix: 'partial',
      outDir: path.join(tempDir, 'partial'),
    });
    expect(pulled!.leftOver).toEqual(['studio-async-1234-dev.twil.io']);
  });

  it('rehearses from the command line: validate, create, publish, wire the number, all within the specs', async () => {
    const env = {
      ...process.env,
      ACCOUNT_SID: '',
      AUTH_TOKEN: '',
      TWILIO_API_BASE_URL: '',
      SERVICE_DOMAIN: '',
      SERVICE_SID: '',
      ENVIRONMENT_SID: '',
    };
    const result = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), 'tools/deploy-flows.ts', '--rehearse', '--number', '+1 (415) 555-0100'],
        { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rehearsal: __SERVICE_SID__ not given; using ZS[0-9a-f]{32} \(made up\)/);
    expect(result.stdout).toMatch(/valid    studio-async voice-hold/);
    expect(result.stdout).toMatch(/created  studio-async voice-hold: FW[0-9a-f]{32} \(revision 1, published\)/);
    expect(result.stdout).toMatch(/wired    \+14155550100 \(PN[0-9a-f]{32}\) to studio-async voice-hold:/);
    expect(result.stdout).toMatch(
      /Call status changes  POST https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC0{32}\/Flows\/FW[0-9a-f]{32}/,
    );
    expect(result.stdout).toMatch(/rehearsal: \d+ requests, all as Twilio's specs describe/);
  }, 30_000);
});
