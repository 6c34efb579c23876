/**
 * Through twilio-run (the real HTTP server, body parsing and request log):
 * - personal data: calls from real-looking numbers, with the number also in the job input,
 *   leave no phone number in the function logs, in room names, in the job documents or in the
 *   URLs the service hands to Twilio;
 * - request size limits: oversized inputs get 413 (or 400) as JSON, quickly, and change nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { completionToken } from '../../src/lib/backend/completion-token';
import { LIMITS } from '../../src/lib/contracts';
import type { FlowDefinition } from '../../studio/flow-model';
import { runFlow } from '../../studio/runner';
import { withStartParameters } from '../../studio/runner/scenarios';
import { PROJECT_ROOT } from '../../dev/paths';
import { E164, privateDistCopy } from '../../chaos/harness';
import { useService } from '../support/service-client';

const SECRET = 'whsec_' + Buffer.from('over-http-secret-0000001').toString('base64');
const CALLER = '+14155550123';
const CALLED = '+14155550999';

let dist: ReturnType<typeof privateDistCopy>;
beforeAll(() => {
  dist = privateDistCopy();
});
const { stack, backend } = useService({
  backend: { secret: SECRET, resultFor: (dispatch) => ({ message: `done ${dispatch.jobId.slice(-4)}` }) },
  stack: () => ({ forkProcess: false, live: false, distDir: dist.relative }),
});
afterAll(() => dist?.remove());

/** Sync documents and conferences, reduced to what a change would show. */
const fingerprint = () => {
  const state = stack.emulator.state();
  return JSON.stringify([
    state.documents.map((d) => `${d.uniqueName}@${d.revision}`).sort(),
    state.conferences.map((c) => `${c.sid}:${c.status}`).sort(),
  ]);
};

async function post(urlPath: string, body: string, headers: Record<string, string>) {
  const began = Date.now();
  const response = await fetch(`${stack.baseUrl}${urlPath}`, { method: 'POST', headers, body });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    json: JSON.parse(text) as any,
    ms: Date.now() - began,
  };
}
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('personal data', () => {
  it('no phone number in the function logs, room names, job documents or service URLs', async () => {
    const definition = JSON.parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'voice-hold.json'), 'utf8'),
    ) as FlowDefinition;
    const calls: Array<{ parameters: Record<string, string>; hangUpAfterMs?: number }> = [
      { parameters: { behaviour: 'push', delayMs: '1500' } },
      { parameters: { behaviour: 'fail', delayMs: '1000' } },
      { parameters: { behaviour: 'push', dispatchFault: 'hang', delayMs: '1000' }, hangUpAfterMs: 2500 },
      { parameters: { behaviour: 'manual' }, hangUpAfterMs: 3000 },
    ];
    const runs = await Promise.all(
      calls.map(({ parameters, hangUpAfterMs }) =>
        runFlow({
          definition: withStartParameters(definition, {
            callerNumber: '{{trigger.call.From}}',
            wait: '0',
            ...parameters,
          }),
          baseUrl: stack.baseUrl,
          emulatorUrl: stack.emulator.url,
          trigger: { kind: 'call', from: CALLER, to: CALLED },
          timeScale: 0.05,
          hangUpAfterMs,
          maxRunMs: 60_000,
        }),
      ),
    );
    // The number really went in: the backend got it as job input.
    expect(backend.dispatches.some((d) => d.input.callerNumber === CALLER)).toBe(true);
    expect(runs.map((run) => run.end.kind)).toEqual(['completed', 'completed', 'caller-hung-up', 'caller-hung-up']);
    expect(stack.recentOutput()).toMatch(/dispatch unconfirmed/); // a warning was logged, about a job with a number in its input

    const logs = stack.recentOutput();
    expect(logs).toMatch(/\/jobs\/start/); // the request log is there...
    expect(logs.split('\n').filter((line) => E164.test(line))).toEqual([]); // ...without a number in it
    const state = stack.emulator.state();
    expect(state.conferences.length).toBeGreaterThan(0);
    expect(
      state.conferences
        .map((c) => c.friendlyName)
        .filter((name) => E164.test(name) || !/^hold_JB[0-9a-f]{32}$/.test(name)),
    ).toEqual([]);
    const jobDocs = state.documents.filter((d) => d.uniqueName?.startsWith('job_'));
    expect(jobDocs.map((d) => JSON.stringify(d.data)).filter((data) => E164.test(data))).toEqual([]);
    // What the service handed to Twilio (TwiML fetched from it, its waitUrl, statusCallback and action URLs).
    const serviceUrls = runs.flatMap((run) =>
      run.timeline.filter((e) => e.depth === 1 && e.kind === 'http').map((e) => e.text),
    );
    expect(serviceUrls.length).toBeGreaterThan(0);
    expect(serviceUrls.filter((text) => E164.test(text))).toEqual([]);
  }, 60_000);
});

describe('request size limits', () => {
  const tooLargeStart: Array<[string, string]> = [
    ['an input just over 8 KiB', form({ task: 'x'.repeat(LIMITS.inputBytes) })],
    ['a 1 MB input (the platform cap)', form({ task: 'x'.repeat(1024 * 1024) })],
    ['900 parameters', form(Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`p${i}`, 'xxxxxxxx'])))],
  ];
  it.each(tooLargeStart)('/jobs/start with %s: 413 JSON naming the size, nothing created', async (_name, body) => {
    const before = fingerprint();
    const reply = await post('/jobs/start', body, FORM);
    expect(reply.status).toBe(413);
    expect(reply.type).toMatch(/application\/json/);
    expect(reply.json).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringMatching(/job input is \d+ bytes of JSON; at most 8192/),
      },
    });
    expect(reply.ms).toBeLessThan(5000);
    expect(fingerprint()).toBe(before);
  });

  it('a completion with a result over 60 KiB: 413 JSON, the job stays PENDING', async () => {
    const start = await post('/jobs/start', form({ task: 'big', behaviour: 'manual' }), FORM);
    const { jobId } = start.json as { jobId: string };
    const before = fingerprint();
    const raw = JSON.stringify({ status: 'COMPLETED', result: { blob: 'é'.repeat(40_000) } });
    const reply = await post(`/jobs/complete?jobId=${jobId}&token=${completionToken(SECRET, jobId)}`, raw, {
      'content-type': 'application/json',
    });
    expect(reply.status).toBe(413);
    expect(reply.json).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringMatching(/result is \d+ bytes of JSON; at most 61440/),
      },
    });
    expect(fingerprint()).toBe(before);
  });

  it('a 2 MB completion without a token is refused (401) before anything is read from Sync', async () => {
    const before = { ...stack.emulator.stats() };
    const raw = JSON.stringify({
      jobId: 'JB' + '0'.repeat(32),
      status: 'COMPLETED',
      result: { blob: 'x'.repeat(2 * 1024 * 1024) },
    });
    const reply = await post('/jobs/complete', raw, { 'content-type': 'application/json' });
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('INVALID_TOKEN');
    expect(stack.emulator.stats()).toEqual(before);
  });

  it.each([
    ['/jobs/status', { jobId: 'JB' + 'a'.repeat(20_000) }, /jobId must be/],
    ['/hold', { jobId: 'JB' + 'a'.repeat(32), flowSid: 'FW' + 'b'.repeat(100_000) }, /flowSid must be/],
    ['/jobs/start', { idempotencyKey: 'k'.repeat(5000), task: 'x' }, /idempotencyKey must be at most 256 characters/],
    ['/jobs/start', { ['n'.repeat(200)]: 'x' }, /parameter names must be at most 100 characters/],
    ['/hold/wait', { jobId: 'JB' + 'a'.repeat(32), turn: '9'.repeat(5000) }, /turn must be an integer/],
  ])('%s with an oversized parameter: 400 JSON naming it, short, nothing changed', async (urlPath, params, message) => {
    const before = fingerprint();
    const reply = await post(urlPath, form(params), FORM);
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: { code: 'INVALID_PARAMETER', message: expect.stringMatching(message) } });
    expect(reply.text.length).toBeLessThan(400);
    expect(fingerprint()).toBe(before);
  });
});
