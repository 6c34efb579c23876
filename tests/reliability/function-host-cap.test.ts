/**
 * The in-process function host (chaos/function-host.ts) plays Twilio's concurrency limit when asked
 * (`concurrencyCap`), and counts every invocation either way. The batteries use it without a cap.
 */
import { bodyOf, sleep, useInProcessStack } from '../support/in-process-stack';

const { stack } = useInProcessStack({
  env: { SIMULATED_WORK_SECONDS: '600' },
  host: { concurrencyCap: 1 },
  checkViolations: false,
});

it('refuses an execution past the cap without running it, and keeps the figures', async () => {
  const { host } = stack;
  const started = await host.call('/jobs/start', { form: { task: 'x', wait: '0' } });
  const { jobId } = bodyOf(started);
  // A long-polling /jobs/status holds the only slot (it checks again after 2 s, then answers).
  const holding = host.call('/jobs/status', { form: { jobId, wait: '2.5' } });
  const refused = await host.call('/jobs/status', { query: `jobId=${jobId}` });
  expect(refused).toMatchObject({
    kind: 'refused',
    status: 429,
    headers: { 'retry-after': '1', 'content-type': 'application/json' },
  });
  expect(bodyOf(refused)).toEqual({ error: { code: 'CONCURRENCY_LIMIT', message: expect.any(String) } });
  expect((await holding).status).toBe(200);
  expect((await host.call('/jobs/status', { query: `jobId=${jobId}` })).status).toBe(200);
  // An unknown path is no function: a 404, not counted.
  expect((await host.call('/nope')).status).toBe(404);
  const stats = host.stats();
  expect(stats).toMatchObject({
    cap: 1,
    inFlight: 0,
    peakInFlight: 1,
    total: 4,
    refused: 1,
    refusedByPath: { '/jobs/status': 1 },
  });
  expect(stats.invocations.map((i) => [i.path, i.jobId, i.status, i.refused])).toEqual([
    ['/jobs/start', undefined, 200, false],
    ['/jobs/status', undefined, 200, false],
    ['/jobs/status', jobId, 429, true],
    ['/jobs/status', jobId, 200, false],
  ]);
  expect(stats.invocations[1]!.durationMs).toBeGreaterThanOrEqual(1900);
});

it('answers a refusal over HTTP too', async () => {
  const { baseUrl, host } = stack;
  const started = await host.call('/jobs/start', { form: { task: 'y', wait: '0' } });
  const { jobId } = bodyOf(started);
  const holding = fetch(`${baseUrl}/jobs/status`, {
    method: 'POST',
    body: new URLSearchParams({ jobId, wait: '2.5' }),
  });
  while (host.stats().inFlight < 1) await sleep(5);
  const refused = await fetch(`${baseUrl}/jobs/status?jobId=${jobId}`);
  expect({
    status: refused.status,
    retryAfter: refused.headers.get('retry-after'),
    body: await refused.json(),
  }).toEqual({
    status: 429,
    retryAfter: '1',
    body: { error: { code: 'CONCURRENCY_LIMIT', message: expect.any(String) } },
  });
  expect((await holding).status).toBe(200);
});
