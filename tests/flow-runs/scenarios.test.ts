/**
 * The flows, run call by call through the flow runner against the local service, the way Studio
 * and Twilio Voice would run them. Two services run side by side and every call runs at once:
 * - with the example backend (a pushed completion ends the hold the moment it arrives): the
 *   named scenarios of studio/runner/scenarios.ts;
 * - as `npm start` runs it (no BACKEND_URL: the built-in simulated backend with 6-7 s of work):
 *   the shipped flows exactly as they are, plus two scenarios that must behave the same there.
 * Each test then checks one finished call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalService, type LocalService } from '../../studio/runner/local-service';
import { minimalHoldParent } from '../flows/flow-fixtures';
import { withStartParameters } from '../../studio/runner/scenarios';
import {
  explain,
  jobStatus,
  loadFlowFile,
  openRooms,
  played,
  runDefinition,
  runFlowFile,
  runScenario,
  runScript,
  runsOf,
  said,
  timelineText,
  type ScenarioRun,
} from './support';

const NAMES = [
  'fast',
  'normal',
  'done-before-join',
  'backend-failure',
  'max-hold',
  'hangup',
  'duplicate',
  'messaging',
] as const;
const SIMULATED_RESULT = 'Thanks for waiting. Your request has been processed.';
const FLEX_WORKFLOW = `WW${'a'.repeat(32)}`;

let service: LocalService;
let simulated: LocalService;
const runs = new Map<string, ScenarioRun>();
const get = (name: (typeof NAMES)[number]) => runs.get(name)!;
const resultMessage = (jobId: string | undefined) => `Your order ORD-${jobId?.slice(-6).toUpperCase()} ships tomorrow.`;
let flex: ScenarioRun;
let minimal: ScenarioRun;
let voice: ScenarioRun;
let messaging: ScenarioRun;
let beforeJoin: ScenarioRun;
let hangup: ScenarioRun;
/** Widgets of the hold subflow as the run reports them: `hold_call/NAME`. */
const sub = (...names: string[]) => names.map((name) => `hold_call/${name}`);

/** Polls until the job is no longer PENDING (the hang-up reaches the service through a status callback). */
async function settledStatus(on: LocalService, jobId: string) {
  let status = await jobStatus(on, jobId);
  for (let i = 0; i < 40 && status.status === 'PENDING'; i++) {
    await sleep(100);
    status = await jobStatus(on, jobId);
  }
  return status;
}

beforeAll(async () => {
  [service, simulated] = await Promise.all([
    startLocalService({ exampleBackend: true, build: false, forkProcess: false }),
    startLocalService({ env: { SIMULATED_WORK_SECONDS: '6-7' }, build: false, forkProcess: false }),
  ]);
  const withBackend = Promise.all(NAMES.map((name) => runScenario(service, name)));
  const withSimulated = Promise.all([
    runFlowFile(simulated, 'flows/voice-hold.json', { kind: 'call' }),
    runFlowFile(simulated, 'flows/messaging.json', { kind: 'message', body: 'Status of my order?' }),
    runScenario(simulated, 'done-before-join'),
    runScenario(simulated, 'hangup'),
  ]);
  // The Flex fallback in the subflow, with a workflow filled in (as deploy:flows --flex-workflow-sid does).
  const withFlex = JSON.parse(
    JSON.stringify(loadFlowFile('flows/hold-subflow.json')).replaceAll('__FLEX_WORKFLOW_SID__', FLEX_WORKFLOW),
  );
  const flexRun = runDefinition(
    service,
    'flex',
    loadFlowFile('flows/voice-hold.json'),
    { kind: 'call' },
    {
      __FLOW_SID_HOLD_SUBFLOW__: withStartParameters(withFlex, { behaviour: 'fail', delayMs: '500' }),
    },
  );
  // The smallest parent: one Run Subflow widget and one Say (tests/flows/flow-fixtures.ts).
  const minimalRun = runDefinition(
    service,
    'minimal parent',
    withStartParameters(minimalHoldParent(), { behaviour: 'push', delayMs: '4000', simulateSeconds: '4' }),
    { kind: 'call' },
  );
  for (const scenario of await withBackend) runs.set(scenario.name, scenario);
  flex = await flexRun;
  minimal = await minimalRun;
  [voice, messaging, beforeJoin, hangup] = await withSimulated;
}, 90_000);

afterAll(async () => {
  await Promise.all([service?.stop(), simulated?.stop()]);
});

describe('voice-hold.json with the example backend', () => {
  it('fast job: no hold, the result is said once, then goodbye', () => {
    explain(get('fast'), (run, scenario) => {
      expect(run.end).toEqual({ kind: 'completed', widget: 'goodbye', event: 'audioComplete' });
      // The subflow's widgets run in the same execution, reported as hold_call/NAME.
      expect(run.path).toEqual([
        'Trigger',
        'greeting',
        'hold_call',
        ...sub('Trigger', 'start_job', 'route_start', 'set_completed_fast'),
        'route_outcome',
        'say_result',
        'goodbye',
      ]);
      expect(played(run)).toEqual([]);
      expect(said(run)).toEqual([
        expect.stringMatching(/^Thanks for calling/),
        resultMessage(scenario.jobId),
        'Thank you for calling. Goodbye.',
      ]);
    });
  });

  it('normal job: hold music, cut short the moment the completion arrives, then the result', () => {
    explain(get('normal'), (run, scenario) => {
      expect(run.end).toMatchObject({ kind: 'completed', widget: 'goodbye' });
      expect(run.path).toEqual([
        'Trigger',
        'greeting',
        'hold_call',
        ...sub('Trigger', 'start_job', 'route_start', 'hold', 'get_result', 'route_result', 'set_completed'),
        'route_outcome',
        'say_result',
        'goodbye',
      ]);
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'COMPLETED' });
      expect(run.widgets.hold_call).toMatchObject({
        status: 'COMPLETED',
        jobId: scenario.jobId,
        message: resultMessage(scenario.jobId),
      });
      // Released by redirecting the caller's call (no conference lookup, whatever the room's state).
      expect(run.rooms).toEqual([
        expect.objectContaining({ friendlyName: `hold_${scenario.jobId}`, leftBecause: 'call-redirected' }),
      ]);
      const music = played(run);
      expect(music.length).toBeGreaterThanOrEqual(1);
      expect(music[music.length - 1]).toMatchObject({ cutShortBy: 'released' });
      expect(said(run).filter((text) => text === resultMessage(scenario.jobId))).toHaveLength(1);
    });
  });

  it('job done before the caller joins the room: released on joining, result said', () => {
    explain(get('done-before-join'), (run, scenario) => {
      const completion = service.backend!.completions.find((c) => c.jobId === scenario.jobId);
      // /hold had recorded the caller's call: the completion redirects it, in the room or not yet.
      expect(completion).toMatchObject({ status: 200, body: { duplicate: false, released: true } });
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'COMPLETED' });
      expect(played(run).reduce((total, audio) => total + audio.heardSeconds, 0)).toBeLessThan(2);
      expect(said(run)).toContain(resultMessage(scenario.jobId));
      expect(run.end).toMatchObject({ kind: 'completed', widget: 'goodbye' });
    });
  });

  it('backend failure: hold, then the apology and the fallback path', () => {
    explain(get('backend-failure'), (run, scenario) => {
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'FAILED' });
      expect(run.widgets['hold_call/get_result']).toMatchObject({
        parsed: { status: 'FAILED', error: { code: 'CRM_DOWN' } },
      });
      expect(run.path.slice(-6)).toEqual([
        ...sub('route_result', 'offer_agent', 'set_not_completed'),
        'route_outcome',
        'check_agent',
        'say_sorry',
      ]);
      expect(run.widgets.hold_call).toEqual({ status: 'FAILED', errorCode: 'CRM_DOWN', jobId: scenario.jobId });
      expect(said(run).slice(-1)).toEqual([
        'Sorry, we could not finish that right now. Please try again later. Goodbye.',
      ]);
      expect(run.flexTasks).toEqual([]); // __FLEX_WORKFLOW_SID__ left unset: no Flex
      expect(run.end).toMatchObject({ kind: 'completed', widget: 'say_sorry' });
    });
  });

  it('max hold: released with TIMED_OUT once maxHoldSeconds (10 s) has passed', () => {
    explain(get('max-hold'), (run) => {
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'TIMED_OUT' });
      expect(run.widgets['hold_call/get_result']).toMatchObject({ parsed: { status: 'TIMED_OUT' } });
      expect(run.widgets.hold_call).toMatchObject({ status: 'TIMED_OUT' });
      // Held until the deadline: 10 s after the job was created, which is after start_job asked.
      const started = run.requests.find((r) => r.url.includes('/jobs/start'))!;
      const released = timelineText(run, /released from the room/)[0];
      if (released) expect(released.atMs).toBeGreaterThan(started.atMs + 10_000 - 250);
      expect(run.end).toMatchObject({ kind: 'completed', widget: 'say_sorry' });
    });
  });

  it('caller hangs up on hold: job CANCELLED, no room left, nothing polls any more', async () => {
    const scenario = get('hangup');
    const { run } = scenario;
    explain(scenario, () => {
      expect(run.end).toEqual({ kind: 'caller-hung-up', widget: 'hold_call/hold' });
      const joined = timelineText(run, /joins room/)[0];
      const hungUp = timelineText(run, /the caller hangs up/)[0];
      expect(joined && hungUp && joined.atMs < hungUp.atMs).toBe(true); // on hold when hanging up
      expect(run.rooms).toEqual([expect.objectContaining({ leftBecause: 'caller-hangup' })]);
      const music = played(run);
      if (music.length > 0) expect(music[music.length - 1]).toMatchObject({ cutShortBy: 'hangup' });
    });
    expect(await settledStatus(service, scenario.jobId!)).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CALLER_HUNG_UP' },
    });
    expect(await openRooms(service.emulatorUrl, `hold_${scenario.jobId}`)).toEqual([]);
    const waitTurns = run.requests.filter((r) => r.url.includes('/hold/wait')).length;
    await sleep(1500);
    expect(run.requests.filter((r) => r.url.includes('/hold/wait')).length).toBe(waitTurns);
  });

  it('duplicate completion: the caller is released once and hears the result once', () => {
    explain(get('duplicate'), (run, scenario) => {
      const completions = service.backend!.completions.filter((c) => c.jobId === scenario.jobId);
      // Both are accepted; exactly one applies the result and releases the caller (either may answer first).
      expect(completions).toHaveLength(2);
      expect(completions.map((c) => c.body)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ duplicate: false, released: true }),
          expect.objectContaining({ duplicate: true, released: false }),
        ]),
      );
      expect(runsOf(run, 'hold_call/hold')).toBe(1);
      expect(timelineText(run, /released from the room/)).toHaveLength(1);
      expect(said(run).filter((text) => text === resultMessage(scenario.jobId))).toHaveLength(1);
      expect(run.end).toMatchObject({ kind: 'completed', widget: 'goodbye' });
    });
  });

  it('backend failure with a Flex workflow configured: the caller is handed to an agent', () => {
    explain(flex, (run) => {
      expect(run.path.slice(-6)).toEqual([
        ...sub('offer_agent', 'say_connecting', 'send_to_agent', 'set_agent'),
        'route_outcome',
        'check_agent',
      ]);
      expect(run.flexTasks).toEqual([expect.objectContaining({ workflow: FLEX_WORKFLOW, channel: 'voice' })]);
      expect(JSON.parse(run.flexTasks[0]!.attributes)).toEqual({
        type: 'inbound',
        name: '+15005550006',
        task: 'demo',
        jobId: flex.jobId,
      });
      expect(run.widgets.hold_call).toMatchObject({ status: 'FAILED', agent: 'connected' });
      // After the agent, the parent says nothing more.
      expect(said(run).slice(-1)).toEqual([
        'Sorry, we could not finish that right now. Let me connect you with someone who can help.',
      ]);
      expect(run.end).toEqual({ kind: 'completed', widget: 'check_agent', event: 'match' });
    });
  });

  it('a parent with only a Run Subflow widget and a Say: hold music, then the result the subflow hands back', () => {
    explain(minimal, (run) => {
      expect(run.path).toEqual([
        'Trigger',
        'look_up',
        ...['Trigger', 'start_job', 'route_start', 'hold', 'get_result', 'route_result', 'set_completed'].map(
          (name) => `look_up/${name}`,
        ),
        'tell',
      ]);
      expect(run.requests.find((r) => r.url.includes('/jobs/start'))).toBeDefined();
      expect(played(run).length).toBeGreaterThanOrEqual(1);
      expect(said(run)).toEqual([resultMessage(minimal.jobId)]);
      expect(run.widgets.look_up).toMatchObject({ status: 'COMPLETED', jobId: minimal.jobId });
      expect(run.end).toEqual({ kind: 'completed', widget: 'tell', event: 'audioComplete' });
    });
  });

  it('leaves the emulator without spec violations', () => {
    expect(service.stack!.emulator.violations()).toEqual([]);
  });
});

describe('messaging.json with the example backend (push mode)', () => {
  it('texts "the answer follows" and ends; a REST-started execution of the flow texts the result', () => {
    explain(get('messaging'), (run, scenario) => {
      expect(run.messages.map((m) => m.body)).toEqual([
        'Got it. Working on that; the answer follows.',
        resultMessage(scenario.jobId),
      ]);
      expect(run.messages.every((m) => m.to === '+15005550006' && m.from === '+15005550001')).toBe(true);
      // No execution waited: no /jobs/status poll at all.
      expect(run.requests.filter((r) => r.url.includes('/jobs/status'))).toEqual([]);
      expect(run.path).toEqual([
        'Trigger',
        'start_job',
        'route_delivery',
        'send_working_async',
        'Trigger',
        'route_outcome',
        'send_outcome',
      ]);
      expect(run.executions?.map((e) => [e.startedBy, e.trigger, e.status])).toEqual([
        ['inbound', 'incomingMessage', 'ended'],
        ['rest', 'incomingRequest', 'ended'],
      ]);
      expect(run.executions?.[1]?.data).toEqual({
        jobId: scenario.jobId,
        status: 'COMPLETED',
        result: service.backend!.results.get(scenario.jobId!),
      });
      expect(run.end).toEqual({ kind: 'completed', widget: 'send_outcome', event: 'sent' });
    });
  });
});

describe('the shipped flows with the simulated backend', () => {
  it('voice-hold.json: greeting, hold music until the work is done, the result, goodbye', () => {
    explain(voice, (run) => {
      expect(run.end).toEqual({ kind: 'completed', widget: 'goodbye', event: 'audioComplete' });
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'COMPLETED' });
      expect(played(run).length).toBeGreaterThanOrEqual(1);
      expect(said(run)).toEqual([
        expect.stringMatching(/^Thanks for calling/),
        SIMULATED_RESULT,
        'Thank you for calling. Goodbye.',
      ]);
      expect(run.variables).toEqual({});
    });
  });

  it('messaging.json: "working on it", the flow polls /jobs/status (nothing else would deliver), then the result by text', () => {
    explain(messaging, (run) => {
      expect(run.messages.map((m) => m.body)).toEqual([
        expect.stringMatching(/^Got it. Working on that now/),
        SIMULATED_RESULT,
      ]);
      expect(run.widgets.start_job).toMatchObject({ parsed: { status: 'PENDING', delivery: 'wait' } });
      expect(runsOf(run, 'wait_for_job')).toBeGreaterThanOrEqual(1);
      expect(run.executions?.map((e) => e.startedBy)).toEqual(['inbound']);
      expect(run.end).toEqual({ kind: 'completed', widget: 'send_result', event: 'sent' });
    });
  });

  it('done-before-join: the first wait turn finds the job done and releases the caller', () => {
    explain(beforeJoin, (run) => {
      expect(run.widgets['hold_call/hold']).toEqual({ status: 'COMPLETED' });
      expect(played(run).reduce((total, audio) => total + audio.heardSeconds, 0)).toBeLessThan(2);
      expect(said(run)).toContain(SIMULATED_RESULT);
    });
  });

  it('hangup: the job is CANCELLED and the room is gone', async () => {
    explain(hangup, () => expect(hangup.run.end).toEqual({ kind: 'caller-hung-up', widget: 'hold_call/hold' }));
    expect((await settledStatus(simulated, hangup.jobId!)).status).toBe('CANCELLED');
    expect(await openRooms(simulated.emulatorUrl, `hold_${hangup.jobId}`)).toEqual([]);
  });

  it('leaves the emulator without spec violations', () => {
    expect(simulated.stack!.emulator.violations()).toEqual([]);
  });
});

/** `npm run call` as a child process. */
const callCli = (args: string[]) => runScript('studio/runner/cli.ts', args);

describe('npm run call', () => {
  it('uses the server it is pointed at, prints the timeline and exits 0 when the call ran to an end', async () => {
    const result = await callCli([
      'flows/messaging.json',
      '--scenario',
      'fast',
      '--base-url',
      simulated.baseUrl,
      '--emulator-url',
      simulated.emulatorUrl,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`using the running server: functions ${simulated.baseUrl}`);
    expect(result.stdout).toMatch(/send_result_fast\s+texts \+15005550006: "Thanks for waiting/);
    expect(result.stdout).toContain('Ended: the flow ends after send_result_fast (sent)');
    expect(result.code).toBe(0);
  }, 60_000);

  it('exits 2 on an unknown scenario, listing the known ones', async () => {
    const result = await callCli(['--scenario', 'no-such-thing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown scenario "no-such-thing"[\s\S]*done-before-join/);
  }, 60_000);
});
