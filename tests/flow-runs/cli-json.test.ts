/**
 * `npm run call -- --json`: one JSON object on stdout (nothing else), for CI. The CLI runs against
 * a fake service and a fake emulator (control API with registered calls, numbered releases and
 * the state of the job documents), so no local stack is started.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { json, startFakeService, twiml, type FakeService } from './fake-service';
import { functionState, redirectState, runScript, sayState, smallFlow } from './support';

const ACCOUNT = `AC${'0'.repeat(32)}`;
let service: FakeService;
let emulator: FakeService;
let registeredAt = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-json-'));
const flowFile = path.join(dir, 'flow.json');

beforeAll(async () => {
  const studio = (flowSid: string, query: string) =>
    `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${flowSid}?FlowEvent=return&amp;${query}`;
  service = await startFakeService({
    '/hold-music.wav': () => ({ type: 'audio/wav', body: '' }),
    '/jobs/start': () => json({ jobId: 'JB1', status: 'PENDING' }),
    '/hold': (r) =>
      twiml(
        `<Dial action="${service.url}/after?flowSid=${r.query.get('flowSid')}"><Conference startConferenceOnEnter="false" waitUrl="${service.url}/wait">hold_${r.query.get('jobId')}</Conference></Dial>`,
      ),
    '/wait': () => twiml(`<Pause length="1"/><Redirect>${service.url}/wait</Redirect>`),
    '/after': (r) => twiml(`<Redirect>${studio(r.query.get('flowSid')!, 'status=COMPLETED')}</Redirect>`),
  });
  emulator = await startFakeService({
    '/_emulator/stats': () => json({ total: 0 }),
    '/_emulator/calls': () => {
      registeredAt = Date.now();
      return json({ status: 'in-progress' }, 201);
    },
    '/_emulator/conferences/join': () => json({ conferenceSid: `CF${'1'.repeat(32)}`, conferenceStatus: 'init' }),
    '/_emulator/state': () =>
      json({
        documents: [
          { uniqueName: 'job_JB1', data: { jobId: 'JB1', status: 'COMPLETED', finishedAt: registeredAt + 1400 } },
        ],
        conferences: [],
      }),
    '*': (r) => {
      if (r.path.endsWith('/hangup')) return json({ status: 'completed' });
      if (!r.path.endsWith('/released')) return json({ error: 'no route' }, 404);
      if (Number(r.query.get('after')) >= 1) return { ...json({ released: false }), delayMs: 300 };
      const release = { released: true, seq: 1, reason: 'conference-ended', conferenceSid: `CF${'1'.repeat(32)}` };
      return { ...json(release), delayMs: Math.max(0, registeredAt + 1500 - Date.now()) };
    },
  });
  const definition = smallFlow('cli json', ['incomingCall'], 'start_job', [
    functionState('start_job', `${service.url}/jobs/start`, [], { success: 'hold' }),
    redirectState(
      'hold',
      {
        url: `${service.url}/hold?jobId={{widgets.start_job.parsed.jobId}}&flowSid={{flow.flow_sid}}`,
        method: 'POST',
        timeout: '30',
      },
      { return: 'result' },
    ),
    sayState('result', 'Done'),
  ]);
  fs.writeFileSync(flowFile, JSON.stringify(definition));
});

afterAll(async () => {
  await service?.close();
  await emulator?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runScript('studio/runner/cli.ts', args, { timeout: 30_000 });

it('--json prints the whole run as one JSON object on stdout', async () => {
  const { code, stdout, stderr } = await cli([
    flowFile,
    '--base-url',
    service.url,
    '--emulator-url',
    emulator.url,
    '--json',
    '--twilio-behaviour',
    'hopeful',
  ]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout.trim().split('\n')).toHaveLength(1);
  const run = JSON.parse(stdout) as Record<string, unknown>;
  expect(run).toMatchObject({
    profile: 'hopeful',
    switches: expect.objectContaining({ dialTimeLimitBoundsConference: true, studioTakesCallBackOnTimeout: true }),
    ranToAnEnd: true,
    end: { kind: 'completed', widget: 'result', event: 'audioComplete' },
    path: ['Trigger', 'start_job', 'hold', 'result'],
    rooms: [
      {
        friendlyName: 'hold_JB1',
        joinedAtMs: expect.any(Number),
        leftAtMs: expect.any(Number),
        leftBecause: 'conference-ended',
      },
    ],
    jobs: [{ jobId: 'JB1', status: 'COMPLETED', completedAtMs: expect.any(Number), releasedAtMs: expect.any(Number) }],
  });
  const { heard, jobs, rooms } = run as {
    heard: Array<Record<string, unknown>>;
    jobs: Array<Record<string, number>>;
    rooms: Array<Record<string, number>>;
  };
  expect(heard.at(-1)).toMatchObject({
    kind: 'say',
    content: 'Done',
    atMs: expect.any(Number),
    seconds: expect.any(Number),
  });
  expect(heard.some((a) => a.kind === 'pause')).toBe(true);
  expect(jobs[0]!.releasedAtMs).toBe(rooms[0]!.leftAtMs);
  expect(jobs[0]!.completedAtMs).toBeGreaterThan(1000);
  expect(jobs[0]!.completedAtMs).toBeLessThan(jobs[0]!.releasedAtMs! + 500);
  expect(stderr).toMatch(/Twilio behaviour: hopeful/); // progress goes to stderr
}, 40_000);

it('a bad --twilio-behaviour is one clear line and exit 2', async () => {
  const { code, stdout, stderr } = await cli([flowFile, '--twilio-behaviour', 'optimistic', '--json']);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^--twilio-behaviour: "optimistic" is neither a profile \(documented, hopeful\) nor a JSON file$/,
    ),
  ]);
}, 40_000);
