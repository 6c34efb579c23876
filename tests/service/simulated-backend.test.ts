import {
  attribute,
  FLOW_SID,
  redirectTarget,
  pathOf,
  newCallSid,
  sleep,
  useService,
  waitForFinal,
} from '../support/service-client';

const { service } = useService({ env: { SIMULATED_WORK_SECONDS: '1-2' } });

describe('the simulated backend, end to end over HTTP', () => {
  it('goes PENDING -> COMPLETED and serves the result as an object', async () => {
    const start = await service.post('/jobs/start', { task: 'demo' });
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({
      jobId: expect.stringMatching(/^JB[0-9a-f]{32}$/),
      status: 'PENDING',
      retryAfter: expect.any(Number),
    });
    expect(start.body.statusUrl).toContain(`/jobs/status?jobId=${start.body.jobId}`);
    const final = await waitForFinal(service, start.body.jobId);
    expect(final).toEqual({ jobId: start.body.jobId, status: 'COMPLETED', retryAfter: 0 });
    const result = await service.post('/jobs/result', { jobId: start.body.jobId });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      jobId: start.body.jobId,
      status: 'COMPLETED',
      result: {
        message: expect.any(String),
        reference: expect.stringMatching(/^DEMO-/),
        source: 'simulated-backend',
        tookSeconds: expect.any(Number),
      },
    });
  });

  it('returns a fast job inline when it finishes within `wait`', async () => {
    const start = await service.post('/jobs/start', { task: 'fast', simulateSeconds: 1, wait: 3 });
    expect(start.body).toMatchObject({ status: 'COMPLETED', retryAfter: 0, result: { source: 'simulated-backend' } });
  });

  it('does not wait at all when the work cannot finish within `wait`', async () => {
    const began = Date.now();
    const start = await service.post('/jobs/start', { task: 'slow', simulateSeconds: 30, wait: 5 });
    expect(start.body.status).toBe('PENDING');
    expect(Date.now() - began).toBeLessThan(4000);
  });

  it('reports a failed job as 200 with its error, not as an HTTP failure', async () => {
    const start = await service.post('/jobs/start', {
      task: 'x',
      simulateSeconds: 0,
      simulateFailure: 'true',
      wait: 1,
    });
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({ status: 'FAILED', error: { code: 'SIMULATED_FAILURE' } });
    const result = await service.post('/jobs/result', { jobId: start.body.jobId });
    expect(result.body).toEqual({
      jobId: start.body.jobId,
      status: 'FAILED',
      error: { code: 'SIMULATED_FAILURE', message: expect.any(String) },
    });
  });

  it('is idempotent: same key and input -> same job; other input -> 422 and nothing changes', async () => {
    const first = await service.post('/jobs/start', { idempotencyKey: 'FN-exec-1', task: 'a' });
    const again = await service.post('/jobs/start', { idempotencyKey: 'FN-exec-1', task: 'a' });
    expect(again.body.jobId).toBe(first.body.jobId);
    const other = await service.post('/jobs/start', { idempotencyKey: 'FN-exec-1', task: 'b' });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      error: { code: 'IDEMPOTENCY_CONFLICT', message: expect.stringContaining(first.body.jobId) },
    });
  });

  it('makes exactly one job from concurrent starts with one key', async () => {
    const before = service.stack.emulator.stats()['sync.documents.create'] ?? 0;
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => service.post('/jobs/start', { idempotencyKey: 'FN-concurrent', task: 'same' })),
    );
    expect(new Set(replies.map((r) => r.body.jobId)).size).toBe(1);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const documents = await fetch(`${service.stack.emulator.url}/sync/v1/Services/default/Documents?PageSize=100`, {
      headers: { authorization: 'Basic ' + Buffer.from('AC00000000000000000000000000000000:x').toString('base64') },
    }).then((r) => r.json() as Promise<{ documents: Array<{ unique_name: string }> }>);
    expect(documents.documents.filter((d) => d.unique_name === `job_${replies[0]!.body.jobId}`)).toHaveLength(1);
    expect((service.stack.emulator.stats()['sync.documents.create'] ?? 0) - before).toBe(6);
  });

  it('times the job out at maxHoldSeconds', async () => {
    const start = await service.post('/jobs/start', { task: 'never', simulateSeconds: 600, maxHoldSeconds: 10 });
    await sleep(10_200);
    const status = await service.post('/jobs/status', { jobId: start.body.jobId });
    expect(status.body).toMatchObject({ status: 'TIMED_OUT', error: { code: 'TIMED_OUT' } });
  }, 20_000);
});

describe('the hold', () => {
  it('returns to Studio at once when the job is already done', async () => {
    const start = await service.post('/jobs/start', { task: 'x', simulateSeconds: 0, wait: 1 });
    const hold = await service.post(`/hold?jobId=${start.body.jobId}&flowSid=${FLOW_SID}`, {
      AccountSid: 'AC' + '1'.repeat(32),
      CallSid: newCallSid(),
    });
    expect(hold.status).toBe(200);
    expect(attribute(hold.text, 'method')).toBe('POST');
    expect(hold.text).toContain(
      `https://webhooks.twilio.com/v1/Accounts/AC${'1'.repeat(32)}/Flows/${FLOW_SID}?FlowEvent=return&amp;status=COMPLETED`,
    );
    expect(hold.text).not.toContain('<Dial');
  });

  it('holds a caller in the job room with music and releases them when the work is done', async () => {
    const start = await service.post('/jobs/start', { task: 'x', simulateSeconds: 3 });
    const jobId = start.body.jobId;
    const callSid = newCallSid();
    await service.createCall(callSid);
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
    expect(hold.text).toMatch(/<Dial [^>]*timeLimit="\d+"/);
    expect(hold.text).toContain(`>hold_${jobId}</Conference>`);
    expect(hold.text).toContain('startConferenceOnEnter="false"');
    expect(hold.text).toContain('statusCallbackEvent="leave"');
    const waitUrl = attribute(hold.text, 'waitUrl')!;
    expect(waitUrl).toContain(`/hold/wait?jobId=${jobId}&flowSid=${FLOW_SID}`);
    // Every URL Voice requests during the hold asks for retries (a refused turn must not end the loop).
    expect(waitUrl).toMatch(/#rc=5&rp=4xx,5xx,ct,rt$/);
    expect(attribute(hold.text, 'action')).toMatch(/^http:\/\/[^#]+\/hold\?[^#]+#rc=5&rp=4xx,5xx,ct,rt$/);

    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    const firstTurn = await service.post(new URL(waitUrl).pathname + new URL(waitUrl).search, { CallSid: callSid });
    expect(firstTurn.text).toMatch(
      /<Play>http:\/\/localhost:\d+\/hold-music.wav<\/Play><Redirect method="POST">[^<]*turn=1#rc=5&amp;rp=4xx,5xx,ct,rt<\/Redirect>/,
    );
    expect((await service.released(callSid, 200)).released).toBe(false);
    await sleep(3_100);
    await service.post(redirectTarget(firstTurn.text), { CallSid: callSid });
    // Released by redirecting the call (no conference lookup) to the after-hold URL, which returns to Studio.
    const released = await service.released(callSid, 2000);
    expect(released).toMatchObject({
      released: true,
      reason: 'call-redirected',
      url: expect.stringMatching(/releasedWith=COMPLETED#rc=5&rp=4xx,5xx,ct,rt$/),
    });
    const after = await service.post(pathOf(released.url!), { CallSid: callSid });
    expect(after.text).toContain('FlowEvent=return&amp;status=COMPLETED');
  });

  it('cancels the job when the caller hangs up on hold', async () => {
    const start = await service.post('/jobs/start', { task: 'x', simulateSeconds: 600 });
    const jobId = start.body.jobId;
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`);
    const callSid = newCallSid();
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.hangup(callSid);
    let status: any;
    for (let i = 0; i < 40; i++) {
      status = (await service.post('/jobs/status', { jobId })).body;
      if (status.status !== 'PENDING') break;
      await sleep(100);
    }
    expect(status).toMatchObject({ status: 'CANCELLED', error: { code: 'CALLER_HUNG_UP' } });
  });
});

describe('room events', () => {
  it("reads whether the caller hung up from their Call's status, not from the leave event's parameters", async () => {
    const start = await service.post('/jobs/start', { task: 'x', simulateSeconds: 600 });
    const jobId = start.body.jobId;
    const callSid = newCallSid();
    await service.createCall(callSid);
    const event = { StatusCallbackEvent: 'participant-leave', CallSid: callSid, FriendlyName: `hold_${jobId}` };
    // The call is still up (moved on, or taken back by Studio): whatever the event says, the job goes on.
    for (const extra of [{}, { ParticipantCallStatus: 'completed' }, { ParticipantCallStatus: 'in-progress' }] as Array<
      Record<string, string>
    >) {
      expect((await service.post(`/hold/events?jobId=${jobId}`, { ...event, ...extra })).status).toBe(204);
      expect((await service.post('/jobs/status', { jobId })).body.status).toBe('PENDING');
    }
    await service.hangup(callSid);
    expect((await service.post(`/hold/events?jobId=${jobId}`, event)).status).toBe(204);
    expect((await service.post('/jobs/status', { jobId })).body).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CALLER_HUNG_UP' },
    });
  });

  it('a Dial action whose CallStatus says the call is over abandons the job', async () => {
    const start = await service.post('/jobs/start', { task: 'x', simulateSeconds: 600 });
    const jobId = start.body.jobId;
    const after = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, {
      CallSid: newCallSid(),
      CallStatus: 'completed',
      DialCallStatus: 'completed',
    });
    expect(after.text).toContain('<Hangup/>');
    expect((await service.post('/jobs/status', { jobId })).body).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CALLER_HUNG_UP' },
    });
  });
});

describe('bad input gets a clear 4xx JSON error and changes nothing', () => {
  it.each([
    ['/jobs/status', {}, 400, /jobId is required/],
    ['/jobs/status', { jobId: 'nope' }, 400, /jobId must be/],
    ['/jobs/status', { jobId: 'JB' + '0'.repeat(32) }, 404, /no job/],
    ['/jobs/result', { jobId: 'JB' + '0'.repeat(32) }, 404, /no job/],
    ['/jobs/status', { jobId: 'JB' + '0'.repeat(32), wait: 99 }, 400, /wait must be/],
    ['/jobs/start', { wait: 'soon' }, 400, /wait must be/],
    ['/jobs/start', { maxHoldSeconds: 5 }, 400, /maxHoldSeconds must be/],
    ['/jobs/start', { maxHoldSeconds: 12.5 }, 400, /maxHoldSeconds must be an integer/],
    ['/jobs/start', { task: 'x'.repeat(9000) }, 413, /at most 8192/],
    ['/hold', { jobId: 'JB' + '0'.repeat(32) }, 400, /flowSid/],
    ['/hold/wait', { jobId: '../etc' }, 400, /jobId must be/],
    ['/hold/wait', { jobId: 'JB' + '0'.repeat(32) }, 404, /no job/],
    ['/hold', { jobId: 'JB' + '0'.repeat(32), flowSid: FLOW_SID }, 404, /no job/],
    ['/hold/events', {}, 400, /jobId is required/],
    ['/jobs/complete', { jobId: 'JB' + '0'.repeat(32), status: 'COMPLETED' }, 401, /callbackUrl/],
  ])('%s %o -> %i', async (path, params, status, message) => {
    const before = service.stack.emulator.stats()['sync.documents.create'] ?? 0;
    const reply = await service.post(path, params as Record<string, string>);
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ error: { code: expect.any(String), message: expect.stringMatching(message) } });
    expect(service.stack.emulator.stats()['sync.documents.create'] ?? 0).toBe(before);
  });
});
