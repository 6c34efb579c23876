/** The counter both local function hosts use to play Twilio's concurrency limit, and its figures. */
import path from 'node:path';
import {
  ConcurrencyCounter,
  functionPathsIn,
  jobIdOfQuery,
  parseConcurrencyCap,
  REFUSAL_HEADERS,
  refusalBody,
  TWILIO_CONCURRENCY_CAP,
} from '../../dev/function-concurrency';
import { DIST_DIR } from '../../dev/paths';
import { SERVICE_FUNCTIONS } from '../flows/flow-fixtures';

describe('ConcurrencyCounter', () => {
  it('admits up to the cap in flight, refuses the next, admits again once one finishes', () => {
    const counter = new ConcurrencyCounter(2);
    const a = counter.start('/hold/wait', 'JB1');
    const b = counter.start('/jobs/start');
    expect(a && b).toBeTruthy();
    expect(counter.start('/hold/wait', 'JB2')).toBeUndefined();
    a!(200);
    a!(500); // finishing twice counts once
    const c = counter.start('/jobs/result');
    expect(c).toBeTruthy();
    b!(200);
    c!(404);
    const stats = counter.stats();
    expect(stats).toMatchObject({
      cap: 2,
      inFlight: 0,
      peakInFlight: 2,
      total: 4,
      refused: 1,
      refusedByPath: { '/hold/wait': 1 },
    });
    expect(stats.invocations.map(({ path: p, jobId, status, refused }) => ({ p, jobId, status, refused }))).toEqual([
      { p: '/hold/wait', jobId: 'JB1', status: 200, refused: false },
      { p: '/jobs/start', jobId: undefined, status: 200, refused: false },
      { p: '/hold/wait', jobId: 'JB2', status: 429, refused: true },
      { p: '/jobs/result', jobId: undefined, status: 404, refused: false },
    ]);
    expect(stats.executionMs).toBe(stats.invocations.reduce((sum, i) => sum + i.durationMs, 0));
  });

  it('with no cap (0 or undefined) refuses nothing and still counts', () => {
    for (const counter of [new ConcurrencyCounter(0), new ConcurrencyCounter()]) {
      const finishes = Array.from({ length: 50 }, () => counter.start('/jobs/status'));
      expect(finishes.every(Boolean)).toBe(true);
      finishes.forEach((finish) => finish!(200));
      expect(counter.stats()).toMatchObject({ cap: null, peakInFlight: 50, refused: 0, total: 50 });
    }
  });

  it('forgets its figures on resetStats, keeping what is in flight', () => {
    const counter = new ConcurrencyCounter(1);
    const running = counter.start('/hold');
    counter.start('/hold');
    counter.resetStats();
    expect(counter.stats()).toMatchObject({ inFlight: 1, peakInFlight: 1, total: 0, refused: 0, invocations: [] });
    running!(200);
    expect(counter.stats().inFlight).toBe(0);
  });

  it('refuses a cap that is not a non-negative integer', () => {
    expect(() => new ConcurrencyCounter(-1)).toThrow(/non-negative integer/);
    expect(() => new ConcurrencyCounter(1.5)).toThrow(/non-negative integer/);
  });
});

describe('the pieces around it', () => {
  it('answers a refusal as 429 CONCURRENCY_LIMIT with Retry-After: 1', () => {
    expect(REFUSAL_HEADERS).toEqual({ 'content-type': 'application/json', 'retry-after': '1' });
    expect(refusalBody(30)).toEqual({
      error: { code: 'CONCURRENCY_LIMIT', message: expect.stringContaining('30 function executions at once') },
    });
  });

  it("parses --concurrency-cap (Twilio's 30 is the default the commands use)", () => {
    expect(TWILIO_CONCURRENCY_CAP).toBe(30);
    expect(parseConcurrencyCap('0')).toBe(0);
    expect(parseConcurrencyCap('12')).toBe(12);
    for (const bad of ['', '-1', '2.5', 'many', undefined])
      expect(() => parseConcurrencyCap(bad)).toThrow(/--concurrency-cap takes a non-negative integer/);
  });

  it('reads the job of a URL query and the function paths of a build', () => {
    expect(jobIdOfQuery('?jobId=JB12&turn=3')).toBe('JB12');
    expect(jobIdOfQuery('turn=3')).toBeUndefined();
    expect(functionPathsIn(path.join(DIST_DIR, 'functions')).sort()).toEqual(SERVICE_FUNCTIONS);
  });
});
