/**
 * A fixed-seed slice of the chaos run (`npm run test:chaos` runs the full one): simulated calls
 * through the real voice flow, with faults in Twilio's API and in the backend, then every
 * invariant of chaos/harness.ts checkRun, under each built-in behaviour profile (Twilio's
 * unknowns at their least helpful, and as the first version hoped).
 *
 * The hopeful run also plays the Functions concurrency limit with a small cap (8 executions
 * for 30 calls), so requests are refused (429) while the invariants are checked: Run Functions,
 * hold-loop turns, completions, Dial actions. The documented run counts executions without a cap:
 * there, a refused hold-loop turn of a poll-mode job leaves the caller in silence with no
 * documented way out (docs/TWILIO-DIFFERENCES.md), which tests/reliability/concurrency-cap.test.ts
 * shows on its own.
 */
import { BUILT_IN_PROFILES } from '../../emulator/twilio-behaviour';
import { runChaos, summaryLine } from '../../chaos/harness';

const RUNS = [
  { behaviour: BUILT_IN_PROFILES.documented, concurrencyCap: 0 },
  { behaviour: BUILT_IN_PROFILES.hopeful, concurrencyCap: 8 },
];

it.each(RUNS)(
  '30 chaotic calls lose nothing under $behaviour.name (seed 7, concurrency cap $concurrencyCap)',
  async ({ behaviour, concurrencyCap }) => {
    const report = await runChaos({
      calls: 30,
      concurrency: 30,
      seed: 7,
      timeScale: 0.1,
      faultScale: 2,
      behaviour,
      concurrencyCap,
    });
    const shown = report.violations.map((v) => `[${v.rule}] call ${v.call ?? '-'} job ${v.jobId ?? '-'}: ${v.detail}`);
    expect({ summary: summaryLine(report), violations: shown }).toEqual({
      summary: expect.any(String),
      violations: [],
    });
    expect(report.profile).toBe(behaviour.name);
    expect(report.calls).toBe(30);
    expect(report.faults.total).toBeGreaterThan(50);
    if (concurrencyCap > 0) {
      expect(report.capacity).toMatchObject({ cap: concurrencyCap, peakInFlight: concurrencyCap });
      expect(report.capacity.refused).toBeGreaterThan(0);
      // A start refused three times ends that call at the apology, without a job.
      expect(report.jobs).toBeGreaterThanOrEqual(26);
    } else {
      expect(report.capacity).toMatchObject({ cap: null, refused: 0 });
      expect(report.jobs).toBeGreaterThanOrEqual(29);
    }
  },
  120_000,
);
