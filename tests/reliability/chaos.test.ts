/**
 * A fixed-seed slice of the chaos run (`npm run test:chaos` runs the full one): simulated calls
 * through the real voice flow, with faults in Twilio's API and in the backend, then every
 * invariant of chaos/harness.ts checkRun, under each built-in behaviour profile (Twilio's
 * unknowns at their least helpful, and as the first version hoped).
 */
import { BUILT_IN_PROFILES } from '../../emulator/twilio-behaviour';
import { runChaos, summaryLine } from '../../chaos/harness';

it.each([BUILT_IN_PROFILES.documented, BUILT_IN_PROFILES.hopeful])('30 chaotic calls lose nothing under $name (seed 7)', async (behaviour) => {
  const report = await runChaos({ calls: 30, concurrency: 30, seed: 7, timeScale: 0.1, faultScale: 2, behaviour });
  const shown = report.violations.map((v) => `[${v.rule}] call ${v.call ?? '-'} job ${v.jobId ?? '-'}: ${v.detail}`);
  expect({ summary: summaryLine(report), violations: shown }).toEqual({ summary: expect.any(String), violations: [] });
  expect(report.profile).toBe(behaviour.name);
  expect(report.calls).toBe(30);
  expect(report.jobs).toBeGreaterThanOrEqual(29);
  expect(report.faults.total).toBeGreaterThan(50);
}, 120_000);
