/**
 * The benchmark code runs: a quick pass of `npm run bench` (tiny counts, one stack, dist/ as
 * built by the suite's setup), writing its JSON, report and chart to a temp dir. No timing
 * assertions: timings belong to docs/BENCHMARKS.md, not to a test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBench } from '../../bench/run';
import { criticalPath, type CallRecord } from '../../bench/lib/latency-proxy';
import { percentile } from '../../bench/lib/stats';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-bench-'));
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

describe('bench', () => {
  it('runs quickly end to end and writes results, report and chart', async () => {
    const results = await runBench({ quick: true, reuseBuild: true, outDir, docsDir: outDir, log: () => undefined });
    expect(results.violations).toBe(0);
    expect(results.startLatency).toEqual([
      expect.objectContaining({ mode: 'warm', errors: 0, summary: expect.objectContaining({ n: 2 }) }),
    ]);
    expect(results.release[0]).toMatchObject({ failures: 0, summary: { n: 1 } });
    expect(results.coldStart[0]).toMatchObject({ bytes: expect.any(Number), outcomes: expect.any(Array) });
    for (const file of [
      'summary.json',
      'start-latency.json',
      'release-latency.json',
      'cold-start.json',
      'BENCHMARKS.md',
      'benchmarks.svg',
    ]) {
      expect(fs.existsSync(path.join(outDir, file))).toBe(true);
    }
    expect(fs.readFileSync(path.join(outDir, 'benchmarks.svg'), 'utf8')).toMatch(
      /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
    expect(fs.readFileSync(path.join(outDir, 'BENCHMARKS.md'), 'utf8')).toContain('## Results against the goals');
  }, 60_000);

  it('finds the critical path of overlapping and chained calls', () => {
    const call = (op: string, start: number, end: number): CallRecord => ({
      method: 'GET',
      path: '/',
      op,
      start,
      end,
      status: 200,
    });
    // fetch and list at once, then update and end at once: 2 in a row.
    expect(
      criticalPath([call('fetch', 0, 80), call('list', 1, 81), call('update', 82, 160), call('end', 83, 161)]),
    ).toEqual({
      depth: 2,
      chain: ['fetch + list', 'update + end'],
    });
    expect(criticalPath([call('create', 0, 80), call('create', 2, 82), call('update', 90, 170)]).chain).toEqual([
      'create x2',
      'update',
    ]);
    expect(criticalPath([call('a', 0, 80), call('b', 81, 160), call('c', 161, 240)])).toEqual({
      depth: 3,
      chain: ['a', 'b', 'c'],
    });
    expect(criticalPath([]).depth).toBe(0);
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 99, 100]);
  });
});
