/**
 * A messaging job whose outcome goes to a new Studio execution, over HTTP: /jobs/start's notify
 * parameters (checked; bad ones change nothing), and a completion that arrives while the contact
 * is mid-conversation in the flow, under both values of executionCreateEndsActiveExecution. The
 * outcome is never lost, and the job starts one execution.
 */
import { BUILT_IN_PROFILES } from '../../emulator/twilio-behaviour';
import { control } from '../support/emulator';
import { sidFor, useService } from '../support/service-client';

const SECRET = 'whsec_' + Buffer.from('messaging-delivery-secret-42').toString('base64');
const CONTACT = '+15005550006';
const NUMBER = '+15005550001';
const newFlowSid = () => sidFor('FW');

const { service, backend } = useService({ backend: { secret: SECRET, completionRetryMs: 0 } });
afterEach(() => service.stack.emulator.setBehaviour(BUILT_IN_PROFILES.documented));

const emulatorControl = (method: string, path: string, body?: unknown) =>
  control(service.stack.emulator.url, method, path, body);

/** The contact texts the flow: Studio's inbound execution, active until its flow ends. */
async function contactTexts(flowSid: string): Promise<string> {
  const registered = await emulatorControl('POST', '/executions', {
    flowSid,
    contact: CONTACT,
    flowAddress: NUMBER,
    trigger: 'incomingMessage',
  });
  expect(registered.status).toBe(200);
  return String(registered.body.executionSid);
}

async function startMessagingJob(flowSid: string) {
  const start = await service.post('/jobs/start', {
    task: 'messaging-delivery',
    behaviour: 'manual',
    notifyFlowSid: flowSid,
    notifyTo: CONTACT,
    notifyFrom: NUMBER,
  });
  expect(start.status).toBe(200);
  expect(start.body).toMatchObject({ status: 'PENDING', delivery: 'execution' });
  const jobId = start.body.jobId as string;
  const dispatch = backend.dispatches.find((d) => d.jobId === jobId)!;
  // The notify parameters steer the job; they are not its input.
  expect(dispatch.input).toEqual({ task: 'messaging-delivery', behaviour: 'manual' });
  return { jobId, callbackUrl: dispatch.callbackUrl };
}

async function postCompletion(callbackUrl: string, body: object) {
  const response = await fetch(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as any,
  };
}

const restExecutions = (jobId: string) =>
  service.stack.emulator.state().executions.filter((e) => e.startedBy === 'rest' && e.data.jobId === jobId);

describe('/jobs/start notify parameters', () => {
  it.each([
    ['only one of the three', { notifyTo: CONTACT }],
    ['two of the three', { notifyFlowSid: newFlowSid(), notifyTo: CONTACT }],
    ['a flow SID of the wrong shape', { notifyFlowSid: 'FW123', notifyTo: CONTACT, notifyFrom: NUMBER }],
    ['a call SID for the flow', { notifyFlowSid: `CA${'a'.repeat(32)}`, notifyTo: CONTACT, notifyFrom: NUMBER }],
    [
      'an address over 64 characters',
      { notifyFlowSid: newFlowSid(), notifyTo: `+1${'5'.repeat(63)}`, notifyFrom: NUMBER },
    ],
    ['an address with a line break', { notifyFlowSid: newFlowSid(), notifyTo: CONTACT, notifyFrom: `${NUMBER}\n` }],
  ])('%s: 400 INVALID_PARAMETER, and no job is made', async (_name, params) => {
    const documents = service.stack.emulator.state().documents.length;
    const start = await service.post('/jobs/start', { task: 'bad-notify', behaviour: 'manual', ...params });
    expect(start.status).toBe(400);
    expect(start.body).toEqual({ error: { code: 'INVALID_PARAMETER', message: expect.stringMatching(/notify/) } });
    expect(service.stack.emulator.state().documents).toHaveLength(documents);
  });
});

describe('a completion while the contact is mid-conversation in the flow', () => {
  it('documented (Studio refuses the create): 503 DELIVERY_PENDING, the outcome kept; once the conversation ended, the retry delivers it once', async () => {
    const flowSid = newFlowSid();
    const { jobId, callbackUrl } = await startMessagingJob(flowSid);
    const conversation = await contactTexts(flowSid);
    const completion = { status: 'COMPLETED', result: { message: 'Your order ships tomorrow.' } };

    const refused = await postCompletion(callbackUrl, completion);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      error: { code: 'DELIVERY_PENDING', message: expect.stringContaining('CONTACT_ACTIVE') },
      retryAfter: 5,
    });
    expect(refused.retryAfter).toBe('5');
    // The job took the outcome: Studio can read it, and nothing was started.
    expect((await service.post('/jobs/result', { jobId })).body).toEqual({
      jobId,
      status: 'COMPLETED',
      result: completion.result,
    });
    expect(restExecutions(jobId)).toEqual([]);

    // Sent again while the conversation goes on: still pending, still nothing started.
    expect((await postCompletion(callbackUrl, completion)).status).toBe(503);
    await emulatorControl('POST', `/executions/${conversation}/end`);
    const delivered = await postCompletion(callbackUrl, completion);
    expect(delivered).toMatchObject({
      status: 200,
      body: { jobId, status: 'COMPLETED', accepted: true, duplicate: true },
    });
    expect(restExecutions(jobId)).toEqual([
      expect.objectContaining({
        flowSid,
        contact: CONTACT,
        status: 'active',
        data: { jobId, status: 'COMPLETED', result: completion.result },
      }),
    ]);
    // Delivered: a further repeat starts nothing.
    expect((await postCompletion(callbackUrl, completion)).status).toBe(200);
    expect(restExecutions(jobId)).toHaveLength(1);
  });

  it('end-active (Studio ends the conversation and starts the new execution): delivered at once', async () => {
    service.stack.emulator.setBehaviour({
      name: 'end-active',
      switches: { ...BUILT_IN_PROFILES.documented.switches, executionCreateEndsActiveExecution: true },
    });
    const flowSid = newFlowSid();
    const { jobId, callbackUrl } = await startMessagingJob(flowSid);
    const conversation = await contactTexts(flowSid);
    const answer = await postCompletion(callbackUrl, {
      status: 'FAILED',
      error: { code: 'CRM_DOWN', message: 'The CRM did not answer' },
    });
    expect(answer).toMatchObject({ status: 200, body: { status: 'FAILED', duplicate: false } });
    expect((await emulatorControl('GET', `/executions/${conversation}`)).body).toMatchObject({
      status: 'ended',
      endedBy: 'replaced',
    });
    expect(restExecutions(jobId)).toEqual([
      expect.objectContaining({
        status: 'active',
        data: { jobId, status: 'FAILED', error: { code: 'CRM_DOWN', message: 'The CRM did not answer' } },
      }),
    ]);
  });
});
