/**
 * Every scenario of studio/runner/scenarios.ts, run through the flow runner against the local
 * service under each built-in behaviour profile: Twilio's unknowns at their least helpful
 * (`documented`) and as the first version hoped (`hopeful`). Under both, every call must:
 * - run to a natural end, the way the scenario expects (the result said or texted, or the
 *   apology, or the caller's hang-up); a text's outcome once, from the REST-started execution
 *   in push mode and from the polling flow in poll mode;
 * - leave the hold within 2 s of a push completion the service recorded while they were on hold;
 * - never stay on hold past the job's deadline plus one hold-loop period;
 * - leave no room open.
 */
import { BUILT_IN_PROFILES, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { startLocalService, type LocalService } from '../../studio/runner/local-service';
import { ranToAnEnd, readJobDocuments, runJobs, type RunJob } from '../../studio/runner/run-json';
import { SCENARIOS as ALL_SCENARIOS } from '../../studio/runner/scenarios';
import { explain, runScenario, said, type ScenarioRun } from './support';

/** The relay's scenario needs its own stack (tests/relay/scenario.test.ts). */
const SCENARIOS = ALL_SCENARIOS.filter((scenario) => !scenario.relaySlowApi);
const PROFILES: TwilioBehaviour[] = [BUILT_IN_PROFILES.documented, BUILT_IN_PROFILES.hopeful];
/** One turn of the hold loop: the music (10 s) plus a turn's requests. */
const HOLD_LOOP_MS = 12_000;
const PROMPT_RELEASE_MS = 2_000;

interface ProfileRuns {
  service: LocalService;
  runs: Map<string, { scenario: ScenarioRun; jobs: RunJob[]; documents: Awaited<ReturnType<typeof readJobDocuments>> }>;
}
const byProfile = new Map<string, ProfileRuns>();

beforeAll(async () => {
  await Promise.all(
    PROFILES.map(async (behaviour) => {
      const service = await startLocalService({ exampleBackend: true, build: false, behaviour, forkProcess: false });
      const runs: ProfileRuns['runs'] = new Map();
      byProfile.set(behaviour.name, { service, runs });
      const finished = await Promise.all(
        SCENARIOS.map((scenario) => runScenario(service, scenario.name, 80_000, behaviour)),
      );
      const documents = await readJobDocuments(service.emulatorUrl);
      for (const scenario of finished)
        runs.set(scenario.name, { scenario, jobs: runJobs(scenario.run, documents), documents });
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([...byProfile.values()].map(({ service }) => service.stop()));
});

/** What the caller must have heard (or been texted) at the end, by scenario. */
const EXPECTED: Record<string, { status: string; said: RegExp }> = {
  plain: { status: 'COMPLETED', said: /ships tomorrow/ },
  fast: { status: 'COMPLETED', said: /ships tomorrow/ },
  normal: { status: 'COMPLETED', said: /ships tomorrow/ },
  'done-before-join': { status: 'COMPLETED', said: /ships tomorrow/ },
  'backend-failure': { status: 'FAILED', said: /could not finish that/ },
  'max-hold': { status: 'TIMED_OUT', said: /could not finish that/ },
  hangup: { status: 'CANCELLED', said: /Thanks for calling/ },
  duplicate: { status: 'COMPLETED', said: /ships tomorrow/ },
  progress: { status: 'COMPLETED', said: /(looking up your order|being checked now|Nearly there).*ships tomorrow/ },
  messaging: { status: 'COMPLETED', said: /answer follows\. \| .*ships tomorrow/ },
  'messaging-poll': { status: 'COMPLETED', said: /Working on that now.* \| .*ships tomorrow/ },
  'messaging-failure': {
    status: 'FAILED',
    said: /answer follows\. \| Sorry, we could not finish that \(The CRM did not answer\)/,
  },
  'messaging-timeout': {
    status: 'TIMED_OUT',
    said: /answer follows\. \| Sorry, we could not finish that \(The work did not finish before the deadline\)/,
  },
};

/** How many executions each messaging scenario plays: push mode delivers by a second, REST-started one. */
const EXECUTIONS: Record<string, Array<'inbound' | 'rest'>> = {
  messaging: ['inbound', 'rest'],
  'messaging-poll': ['inbound'],
  'messaging-failure': ['inbound', 'rest'],
  'messaging-timeout': ['inbound', 'rest'],
};

describe.each(PROFILES.map((profile) => profile.name))('under %s', (profileName) => {
  it.each(SCENARIOS.map((scenario) => scenario.name))('%s', async (name) => {
    const { service, runs } = byProfile.get(profileName)!;
    const { scenario, jobs, documents } = runs.get(name)!;
    explain(scenario, (run) => {
      expect(run.behaviour.name).toBe(profileName);
      expect(ranToAnEnd(run.end)).toBe(true);
      const expected = EXPECTED[name]!;
      const job = jobs.find((j) => j.jobId === scenario.jobId);
      expect(job?.status).toBe(expected.status);
      const words = [...said(run), ...run.messages.map((message) => message.body)].join(' | ');
      expect(words).toMatch(expected.said);
      if (EXECUTIONS[name]) {
        expect(run.executions?.map((e) => e.startedBy)).toEqual(EXECUTIONS[name]);
        // Exactly one delivery: one message with the outcome, whoever sent it.
        expect(run.messages).toHaveLength(2);
      }
      for (const stay of run.rooms.filter((room) => room.friendlyName.startsWith('hold_'))) {
        const jobId = stay.friendlyName.slice('hold_'.length);
        const data = documents.find((doc) => doc.uniqueName === `job_${jobId}`)?.data as
          { deadline?: number; finishedAt?: number; finishedBy?: string } | undefined;
        expect(stay.leftAtMs).toBeDefined();
        const leftAt = run.startedAt + stay.leftAtMs!;
        // Never on hold past the deadline plus one turn of the loop.
        expect(leftAt - (data?.deadline ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(HOLD_LOOP_MS);
        // Out within 2 s of a push completion recorded while they were in the room.
        if (
          data?.finishedBy === 'callback' &&
          data.finishedAt !== undefined &&
          data.finishedAt >= run.startedAt + stay.joinedAtMs
        ) {
          expect(leftAt - data.finishedAt).toBeLessThanOrEqual(PROMPT_RELEASE_MS);
        }
      }
    });
    // No room of this run left open (read from the emulator's state: a waiting room may not be listable).
    const state = (await (await fetch(`${service.emulatorUrl}/_emulator/state`)).json()) as {
      conferences: Array<{ friendlyName: string; status: string }>;
    };
    const rooms = new Set(scenario.run.rooms.map((room) => room.friendlyName));
    expect(
      state.conferences.filter((conference) => rooms.has(conference.friendlyName) && conference.status !== 'completed'),
    ).toEqual([]);
  });
});
