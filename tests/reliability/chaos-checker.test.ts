/**
 * The chaos run's checker must catch what it claims to: here every invariant is broken on
 * purpose (a result changed, a final status rewritten, a room left open, a number in a room name
 * and in the logs, a stuck flow, a 500, a caller held too long, an acknowledged completion that
 * is not what the job holds, a job left pending) and each must be reported.
 */
import type { ExampleBackend } from '../../backends/example-backend';
import { checkRun, type CallRecord } from '../../chaos/harness';
import { planCall } from '../../chaos/plan';
import type { JobRecord } from '../../src/lib/jobs/job';
import { DEFAULT_PROFILE } from '../../emulator/twilio-behaviour';
import type { FlowRun } from '../../studio/runner';
import type { LocalStack } from '../../dev/local-stack';
import { control, rawTwilio } from '../support/emulator';
import { bodyOf, useInProcessStack } from '../support/in-process-stack';

const { stack } = useInProcessStack({ env: { SIMULATED_WORK_SECONDS: '600' }, checkViolations: false });

/** A flow run as the runner reports it, with only what the checker reads. */
function fakeRun(parts: Partial<FlowRun>): FlowRun {
  return {
    behaviour: DEFAULT_PROFILE,
    startedAt: 0,
    flowSid: 'FW' + '1'.repeat(32),
    executionSid: 'FN' + '1'.repeat(32),
    timeline: [],
    heard: [],
    messages: [],
    flexTasks: [],
    requests: [],
    rooms: [],
    variables: {},
    widgets: {},
    path: [],
    end: { kind: 'completed', widget: 'goodbye', event: 'audioComplete' },
    steps: 1,
    durationMs: 1,
    ...parts,
  };
}

it('reports every kind of violation', async () => {
  // Jobs: A finishes (simulated, at once), B stays pending (its work takes 600 s).
  const a = bodyOf(await stack.post('/jobs/start', { task: 'a', simulateSeconds: 0, wait: 1 }));
  const b = bodyOf(await stack.post('/jobs/start', { task: 'b' }));
  expect([a.status, b.status]).toEqual(['COMPLETED', 'PENDING']);
  const resultReply = await stack.post('/jobs/result', { jobId: a.jobId });
  const docOf = (jobId: string) => stack.emulator.state().documents.find((d) => d.uniqueName === `job_${jobId}`)!;
  const jobA = docOf(a.jobId).data as unknown as JobRecord;

  // The backend "sent" another result than the one Studio read; it "was told" 200 for another one too.
  const results = new Map<string, Record<string, unknown>>([[a.jobId, { something: 'else' }]]);
  const backend = {
    dispatches: [],
    completions: [
      { jobId: a.jobId, status: 200, body: { duplicate: false, status: 'COMPLETED' }, attempts: 1, webhookId: 'msg_1' },
    ],
    results,
    rejectedSignatures: 0,
    faultsInjected: {},
  } as unknown as ExampleBackend;

  // A's final status rewritten behind everyone's back.
  const rewrite = await rawTwilio(stack.emulator.url, 'POST', `/sync/v1/Services/default/Documents/job_${a.jobId}`, {
    Data: JSON.stringify({ ...jobA, status: 'FAILED' }),
  });
  expect(rewrite.status).toBe(200);
  // A room left open, and a room named after a phone number.
  for (const friendlyName of [`hold_${a.jobId}`, 'hold_+14155550123']) {
    await control(stack.emulator.url, 'POST', '/conferences/join', { friendlyName, startConferenceOnEnter: false });
  }

  const startedAt = Date.now() - 60_000;
  const records: CallRecord[] = [
    {
      plan: planCall(1, 0),
      startedAt,
      jobId: a.jobId,
      completions: [],
      run: fakeRun({
        widgets: { get_result: { parsed: { status: 'COMPLETED' }, body: resultReply.text } },
        // Held until 20 s past the deadline.
        rooms: [
          {
            widget: 'hold',
            friendlyName: `hold_${a.jobId}`,
            conferenceSid: 'CF' + '2'.repeat(32),
            joinedAtMs: 1000,
            leftAtMs: jobA.deadline - startedAt + 20_000,
            leftBecause: 'conference-ended',
          },
        ],
        requests: [
          { atMs: 5, widget: 'get_result', method: 'POST', url: 'http://x/jobs/result', status: 500, durationMs: 12 },
        ],
      }),
    },
    {
      plan: planCall(1, 1),
      startedAt,
      jobId: b.jobId,
      completions: [],
      run: fakeRun({ end: { kind: 'run-timeout', widget: 'hold', afterMs: 120_000 } }),
    },
  ];

  // The checker reads every job through the functions (here the in-process host's HTTP server).
  const fakeStack = {
    baseUrl: stack.baseUrl,
    emulator: stack.emulator,
    recentOutput: () => 'POST /jobs/start from +14155550123',
  } as unknown as LocalStack;

  const { violations } = await checkRun({ stack: fakeStack, backend }, records, 0.1, { waitForDeadlines: false });
  const rules = new Set(violations.map((v) => v.rule));
  expect([...rules].sort()).toEqual([
    '1 final status',
    '2 byte-identical result',
    '3 hold bounded',
    '4 finalized once',
    '5 acknowledged completion kept',
    '6 no leftover conference',
    '7 flow ends',
    '7 studio replies',
    '8 no personal data',
  ]);
  expect(violations.filter((v) => v.rule === '8 no personal data').map((v) => v.detail)).toEqual([
    expect.stringContaining('room name hold_+14155550123'),
    expect.stringContaining('function logs'),
  ]);
  expect(violations.find((v) => v.rule === '1 final status')?.jobId).toBe(b.jobId);
});
