/**
 * When Twilio's API misbehaves (no answer, dropped connections, 5xx, 429 / 54009), every function
 * still answers inside Studio's 10 s, clearly: JSON 503 TWILIO_UNAVAILABLE for the JSON endpoints,
 * TwiML for the voice ones (the waitUrl plays the next turn of the hold loop, so the caller keeps
 * hearing music and the loop keeps checking; /hold, also the <Dial> action where an error would
 * end the call, plays music and asks again, then hands the call back to Studio). Once Twilio is
 * back, the same job carries on untouched.
 */
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import type { FaultRule } from '../../emulator/faults';
import { STUDIO_HTTP_TIMEOUT_MS } from '../../studio/platform';
import { bodyOf, FLOW_SID, SECRET, startInProcessStack, type InProcessStack } from '../support/in-process-stack';

/** Studio's (and the Functions runtime's) limit: a reply after this is a failure on the platform. */
const STUDIO_LIMIT_MS = STUDIO_HTTP_TIMEOUT_MS;

let backend: ExampleBackend;
const stacks: InProcessStack[] = [];
beforeAll(async () => {
  backend = await startExampleBackend({ secret: SECRET });
});
afterAll(async () => {
  await Promise.all(stacks.map((stack) => stack.stop()));
  await backend?.close();
});

/** A stack of its own per scenario, so the scenarios (each bound by the budget's seconds) run at once. */
async function newStack(): Promise<InProcessStack> {
  const stack = await startInProcessStack({ BACKEND_URL: backend.url });
  stacks.push(stack);
  return stack;
}

const OUTAGES: Array<[string, FaultRule]> = [
  ['no answer (timeout)', { kind: 'timeout', ms: 60_000 }],
  ['dropped connections', { kind: 'drop' }],
  ['HTTP 500', { kind: 'server-error', status: 500 }],
  ['HTTP 503', { kind: 'server-error', status: 503 }],
  ['429 / 54009', { kind: 'rate-limit' }],
];

/** Every function during an outage: answers within 10 s, clearly; the job is untouched afterwards. */
async function duringOutage(name: string, rule: FaultRule): Promise<void> {
  const stack = await newStack();
  const jobId = bodyOf(await stack.post('/jobs/start', { task: 'budget', behaviour: 'manual' })).jobId;
  stack.emulator.faults.configure({ rules: [rule] });
  // All at once, as Studio and Twilio would call them during an outage.
  const [start, status, result, hold, complete, wait, events, lastTurn] = await Promise.all([
    stack.post('/jobs/start', { task: 'budget-new', behaviour: 'manual' }),
    stack.post('/jobs/status', { jobId }),
    stack.post('/jobs/result', { jobId }),
    stack.post('/hold', { jobId, flowSid: FLOW_SID }),
    stack.complete({ jobId, status: 'COMPLETED', result: { n: 1 } }),
    stack.post('/hold/wait', {}, `jobId=${jobId}&turn=3`),
    stack.post('/hold/events', { StatusCallbackEvent: 'participant-leave' }, `jobId=${jobId}`),
    stack.post('/hold', { jobId, flowSid: FLOW_SID, attempt: 2 }),
  ]);
  for (const reply of [start, status, result, hold, complete, wait, events, lastTurn]) {
    expect({ outage: name, kind: reply.kind, fast: reply.ms < STUDIO_LIMIT_MS - 1000 }).toEqual({
      outage: name,
      kind: 'response',
      fast: true,
    });
  }
  // JSON endpoints: 503 TWILIO_UNAVAILABLE (Studio takes `fail`; the flow retries; a backend retries a completion).
  for (const reply of [start, status, result, complete, events]) {
    expect(reply.status).toBe(503);
    expect(reply.body).toEqual({
      error: { code: 'TWILIO_UNAVAILABLE', message: expect.stringMatching(/^Twilio API unavailable, try again: .+/) },
    });
  }
  // /hold (also the <Dial> action, where an error would end the call) plays the music and asks again...
  expect(hold.status).toBe(200);
  expect(hold.text).toMatch(
    /<Play>[^<]+hold-music\.wav<\/Play><Redirect method="POST">[^<]*\/hold\?jobId=JB[0-9a-f]{32}&amp;flowSid=FW[0-9a-f]{32}&amp;attempt=1#rc=5&amp;rp=4xx,5xx,ct,rt</,
  );
  // ...and after a few turns hands the call back to Studio (the flow's retries take over).
  expect(lastTurn.text).toMatch(
    /<Redirect method="POST">https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC[0-9a-f]{32}\/Flows\/FW[0-9a-f]{32}\?FlowEvent=return&amp;status=PENDING<\/Redirect>/,
  );
  // The waitUrl keeps the caller in the music loop, and the loop goes on.
  expect(wait.status).toBe(200);
  expect(wait.text).toMatch(
    /<Play>[^<]+hold-music\.wav<\/Play><Redirect method="POST">[^<]*\/hold\/wait\?jobId=JB[0-9a-f]{32}&amp;turn=4/,
  );

  stack.emulator.faults.clear();
  expect(bodyOf(await stack.post('/jobs/status', { jobId })).status).toBe('PENDING');
  const answer = { answer: 42, text: 'exact' };
  expect((await stack.complete({ jobId, status: 'COMPLETED', result: answer })).status).toBe(200);
  expect(bodyOf(await stack.post('/jobs/result', { jobId }))).toEqual({ jobId, status: 'COMPLETED', result: answer });
  expect(stack.emulator.violations()).toEqual([]);
}

/** Silent backends and a slow Sync: the long waits still end inside the budget. */
async function slowPartners(): Promise<void> {
  const stack = await newStack();
  const polled = bodyOf(
    await stack.post('/jobs/start', { task: 'b', behaviour: 'poll', delayMs: 60_000, statusFault: 'hang' }),
  );
  const manual = bodyOf(await stack.post('/jobs/start', { task: 'slow', behaviour: 'manual' }));
  expect([polled.status, manual.status]).toEqual(['PENDING', 'PENDING']);
  const [hungDispatch, hungStatus] = await Promise.all([
    // A dispatch that never answers.
    stack.post('/jobs/start', { task: 'b', behaviour: 'hang', wait: 5 }),
    // A status URL that never answers, under a long poll.
    stack.post('/jobs/status', { jobId: polled.jobId, wait: 8 }),
  ]);
  // Sync 700 ms late on every call, under a long poll.
  stack.emulator.faults.configure({ rules: [{ kind: 'latency', ms: 700 }] });
  const slowSync = await stack.post('/jobs/status', { jobId: manual.jobId, wait: 8 });
  for (const reply of [hungDispatch, hungStatus, slowSync]) {
    expect(reply.ms).toBeLessThan(STUDIO_LIMIT_MS - 1000);
    expect(reply.status).toBe(200);
    expect(bodyOf(reply).status).toBe('PENDING');
  }
}

it('Twilio API outages (no answer, dropped connections, 500, 503, 429 / 54009), silent backends and a slow Sync: every function answers in time, clearly', async () => {
  await Promise.all([...OUTAGES.map(([name, rule]) => duringOutage(name, rule)), slowPartners()]);
}, 40_000);
