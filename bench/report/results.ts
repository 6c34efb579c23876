/**
 * The results of one run as bench/results/summary.json holds them (the other files in
 * bench/results/ are its parts), and the questions the report asks of them in several places.
 */
import type { CapacityResults } from '../capacity';
import type { ColdStartRow } from '../cold-start';
import type { MachineInfo } from '../lib/machine';
import type { ServeMode } from '../lib/stack';
import type { ReleaseRow } from '../release-latency';
import type { RoundTripResults } from '../round-trips';
import type { ScaleResult } from '../scale';
import type { StartLatencyRow } from '../start-latency';

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  machine: MachineInfo;
  commands: string[];
  settings: { latencyMs: number; backendAcceptMs: number; dispatchTimeoutMs: number; musicSeconds: number };
  roundTrips?: RoundTripResults;
  startLatency: StartLatencyRow[];
  release: ReleaseRow[];
  scale: ScaleResult[];
  coldStart: ColdStartRow[];
  /** Part 6: what one service sustains under the concurrency cap, and what a job costs. */
  capacity?: CapacityResults & { violations: number };
  /** OpenAPI violations the emulator recorded during the run (should be 0). */
  violations: number;
  /** Per section: seconds, and the share of all cores other processes used meanwhile. */
  sections: Record<string, { seconds: number; othersCpuShare?: number }>;
  /** Share of all cores used by other processes and by this run (its servers included). */
  cpu?: { others?: number; ours?: number };
  durationSeconds: number;
  eventLoopLagP99Ms: number;
}

/** Calls the room's leave callback cost in the push scenario. */
export function leaveCalls(rt: RoundTripResults | undefined): number {
  return rt?.scenarios.find((s) => s.scenario === 'push')?.phases.find((p) => p.phase === 'leave callback')?.total ?? 0;
}

/** The names of the run's sections (keys of `sections`) that the report refers to. */
export const SECTION_NAMES = {
  startLatency: (mode: ServeMode) => `2. /jobs/start latency (${mode})`,
  release: (mode: ServeMode) => `3. hold release (${mode})`,
};
