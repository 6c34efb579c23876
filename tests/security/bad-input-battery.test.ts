/**
 * A fixed-seed sample of the bad-input battery (chaos/battery.ts; `npm run test:chaos` runs
 * 30,000 + 2,000): generated parameters, completion bodies and signature headers against every
 * endpoint. No 5xx, no crash, refusals as `{error: {code, message}}` naming the problem, nothing
 * changed by a refused request, no phone number in the logs.
 */
import { runBatteryInProcess, runBatteryOverHttp, type BatteryReport } from '../../chaos/battery';
import { SERVICE_FUNCTIONS } from '../flows/flow-fixtures';

const shown = (report: BatteryReport) =>
  report.problems.map(
    (p) => `${p.endpoint} -> ${p.status}: ${p.problem}\n  ${JSON.stringify(p.request).slice(0, 300)}\n  ${p.reply}`,
  );

it('2,000 generated inputs against the built functions (in-process)', async () => {
  const report = await runBatteryInProcess({ inputs: 2000, seed: 2026 });
  expect(shown(report)).toEqual([]);
  expect(report.serverErrors).toBe(0);
  expect(report.tried).toBe(2000);
  expect(Object.keys(report.byEndpoint).sort()).toEqual(SERVICE_FUNCTIONS);
  // The sample reaches past validation too: accepted requests and each kind of refusal.
  for (const status of ['200', '400', '401', '404', '413', '422']) expect(report.byStatus[status]).toBeGreaterThan(0);
}, 60_000);

it('200 generated inputs over HTTP through twilio-run', async () => {
  const report = await runBatteryOverHttp({ inputs: 200, seed: 2027 });
  expect(shown(report)).toEqual([]);
  expect(report.serverErrors).toBe(0);
  expect(report.tried).toBe(200);
}, 60_000);
