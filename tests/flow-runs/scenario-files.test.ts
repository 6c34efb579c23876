/**
 * Scripted and automatic callers: the scenario file format (steps, HTTP fixtures, subflows,
 * expectations) and `npm run call -- FLOW --auto --json` on flows nobody scripted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readScenarioFile, runScenarioSpec, ScenarioFileError } from '../../studio/runner/scenario-file';
import { menuRoute, menuState, runScript, sayState as say, smallFlow, type StateSpec } from './support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scenario-files-'));
const NO_SERVICE = { baseUrl: 'http://127.0.0.1:9' };

const flow = (events: string[], first: string, states: StateSpec[]) =>
  smallFlow('scenario files test', events, first, states);

/** An IVR: look the caller up (external HTTP), a menu, sales by a subflow, support by an SMS. */
const ivr = flow(['incomingCall'], 'lookup', [
  {
    name: 'lookup',
    type: 'make-http-request',
    properties: {
      method: 'GET',
      content_type: 'application/json',
      url: 'https://crm.example.com/customers?phone={{trigger.call.From}}',
    },
    transitions: [
      { event: 'success', next: 'welcome' },
      { event: 'failed', next: 'welcome' },
    ],
  },
  say('welcome', 'Welcome {{widgets.lookup.parsed.name}}', 'menu'),
  menuState('Press 1 for sales, 2 for support', { keypress: 'route', speech: 'route', timeout: 'menu' }),
  menuRoute('sales', 'support'),
  {
    name: 'sales',
    type: 'run-subflow',
    properties: {
      flow_sid: `FW${'5'.repeat(32)}`,
      flow_revision: 'LatestPublished',
      parameters: [{ key: 'team', value: 'sales' }],
    },
    transitions: [{ event: 'completed', next: 'bye' }, { event: 'failed' }],
  },
  {
    name: 'support',
    type: 'send-message',
    properties: { body: 'Support will call you back', to: '{{contact.channel.address}}' },
    transitions: [{ event: 'sent', next: 'bye' }],
  },
  {
    name: 'bye',
    type: 'say-play',
    properties: { say: 'Goodbye from {{widgets.sales.agent}}' },
    transitions: [{ event: 'audioComplete' }],
  },
]);
const subflow = flow(['incomingParent'], 'pick', [
  {
    name: 'pick',
    type: 'set-variables',
    properties: { variables: [{ key: 'agent', value: '{{trigger.parent.parameters.team}} desk' }] },
    transitions: [{ event: 'next' }],
  },
]);

const scenarios = {
  flow: 'ivr.json',
  subflows: { [`FW${'5'.repeat(32)}`]: 'sales.json' },
  http: [{ url: 'https://crm.example.com/customers', method: 'GET', body: { name: 'Ada' } }],
  scenarios: [
    {
      name: 'sales',
      trigger: { kind: 'call', from: '+15550001111' },
      steps: [{ widget: 'menu', press: '1' }],
      expect: {
        end: { kind: 'completed', widget: 'bye' },
        visits: ['menu', 'sales', 'bye'],
        notVisited: ['support'],
        heard: ['Welcome Ada', 'Press 1', 'Goodbye from sales desk'],
        widgets: { 'sales.agent': 'sales desk', 'menu.Digits': '1' },
      },
    },
    {
      name: 'support after a wrong key',
      steps: [{ press: '7' }, { press: '2' }],
      expect: {
        path: ['Trigger', 'lookup', 'welcome', 'menu', 'route', 'menu', 'route', 'support', 'bye'],
        messages: ['Support will call you back'],
      },
    },
    {
      name: 'expects what does not happen',
      steps: [{ press: '2' }, { widget: 'nowhere', press: '1' }],
      expect: { heard: ['Goodbye from sales'], variables: { x: '1' } },
    },
    { name: 'automatic caller', auto: true },
  ],
};

beforeAll(() => {
  fs.writeFileSync(path.join(dir, 'ivr.json'), JSON.stringify(ivr));
  fs.writeFileSync(path.join(dir, 'sales.json'), JSON.stringify(subflow));
  fs.writeFileSync(path.join(dir, 'ivr.scenarios.json'), JSON.stringify(scenarios));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('scenario files', () => {
  it('scripted steps drive the flow; expectations are checked', async () => {
    const file = readScenarioFile(path.join(dir, 'ivr.scenarios.json'));
    const [sales, support, wrong, auto] = await Promise.all(
      file.scenarios.map((s) => runScenarioSpec(file, s, NO_SERVICE)),
    );
    expect(sales!.failures).toEqual([]);
    expect(support!.failures).toEqual([]);
    expect(auto!.passed).toBe(true);
    expect(wrong!.passed).toBe(false);
    expect(wrong!.failures.join('\n')).toMatch(/heard: "Goodbye from sales" was not heard/);
    expect(wrong!.failures.join('\n')).toMatch(/variables\.x: expected "1", got unset/);
    expect(wrong!.failures.join('\n')).toMatch(/a step was never used: .*nowhere/);
  });

  it('a file that does not fit the format says where', () => {
    const bad = path.join(dir, 'bad.scenarios.json');
    fs.writeFileSync(bad, JSON.stringify({ flow: 'ivr.json', scenarios: [{ name: 'x', steps: [{ presss: '1' }] }] }));
    expect(() => readScenarioFile(bad)).toThrow(ScenarioFileError);
    expect(() => readScenarioFile(bad)).toThrow(/steps\[0\] has unknown key "presss"/);
    fs.writeFileSync(bad, JSON.stringify({ flow: 'missing.json', scenarios: [{ name: 'x' }] }));
    expect(() => readScenarioFile(bad)).toThrow(/"flow": cannot read flow/);
  });
});

const cli = (args: string[]) => runScript('studio/runner/cli.ts', args);

describe('npm run call -- FLOW --auto --json', () => {
  it('runs a flow nobody scripted to a natural end: its trigger, generated input, 200 {} for external HTTP', async () => {
    const messaging = flow(['incomingMessage'], 'ask', [
      {
        name: 'ask',
        type: 'send-and-wait-for-reply',
        properties: { body: 'Yes or no?', timeout: '3600' },
        transitions: [{ event: 'incomingMessage', next: 'check' }, { event: 'timeout' }, { event: 'deliveryFailure' }],
      },
      {
        name: 'check',
        type: 'split-based-on',
        properties: { input: '{{widgets.ask.inbound.Body}}' },
        transitions: [
          { event: 'noMatch', next: 'ask' },
          {
            event: 'match',
            next: 'post',
            conditions: [
              {
                friendly_name: 'no',
                arguments: ['{{widgets.ask.inbound.Body}}'],
                type: 'matches_any_of',
                value: 'no,nope',
              },
            ],
          },
        ],
      },
      {
        name: 'post',
        type: 'make-http-request',
        properties: {
          method: 'POST',
          content_type: 'application/json',
          url: 'https://hooks.example.com/answer',
          body: '{}',
        },
        transitions: [{ event: 'success' }, { event: 'failed' }],
      },
    ]);
    const file = path.join(dir, 'messaging.json');
    fs.writeFileSync(file, JSON.stringify(messaging));
    const auto = await cli([file, '--auto', '--json']);
    expect(auto.code).toBe(0);
    const run = JSON.parse(auto.stdout) as {
      end: { kind: string; widget: string };
      path: string[];
      http: Array<{ url: string; mocked?: string }>;
      messages: unknown[];
    };
    expect(run.end).toMatchObject({ kind: 'completed', widget: 'post' });
    expect(run.path).toEqual(['Trigger', 'ask', 'check', 'post']);
    expect(run.http).toEqual([
      expect.objectContaining({ url: 'https://hooks.example.com/answer', mocked: 'generated' }),
    ]);

    // Without --auto nobody answers the external request: exit 1, the URL named.
    const direct = flow(['incomingRequest'], 'post', [messaging.states.find((state) => state.name === 'post')!]);
    fs.writeFileSync(file, JSON.stringify(direct));
    const strict = await cli([file, '--json']);
    expect(strict.code).toBe(1);
    const end = (JSON.parse(strict.stdout) as { end: { kind: string; message: string } }).end;
    expect(end.kind).toBe('error');
    expect(end.message).toMatch(/unmocked HTTP request: POST https:\/\/hooks\.example\.com\/answer/);
  }, 120_000);
});
