/**
 * A verify:live record: what one account (or the emulator, in a rehearsal) answered, probe by
 * probe, with the evidence. It is also a behaviour profile (emulator/twilio-behaviour.ts): its
 * `switches` hold the answers that settle a switch, `extends: "documented"` fills the rest, so
 * `npm start -- --twilio-behaviour verify/records/<date>.json` plays that account.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BEHAVIOUR_SWITCHES, SWITCH_NAMES, type BehaviourSwitchName } from '../emulator/twilio-behaviour';
import type { CleanupResult } from './cleanup';
import { findLeaks, redactValue, type Redactions } from './redact';

export type Answer = true | false | 'unknown';

export interface ProbeAnswer {
  /** The audit id (V2, V12, S4, F4, Y1, ...) or a name for a confirmed behaviour (call-update). */
  id: string;
  /** The behaviour switch this answer settles, if any. */
  switch?: BehaviourSwitchName;
  question: string;
  answer: Answer;
  /** One sentence: what was seen. */
  sentence: string;
}

export interface ProbeResult {
  /** The probe's name (one probe can settle several ids). */
  probe: string;
  answers: ProbeAnswer[];
  /** Set when the probe did not run: why. */
  skipped?: string;
  /** Set when the probe failed part-way: the error. */
  error?: string;
  /** Status codes, error codes, callback parameters, timings (redacted before writing). */
  evidence: Record<string, unknown>;
  durationMs: number;
}

export interface VerifyRecord {
  kind: 'studio-async verify:live record';
  format: 1;
  /** The profile name the emulator shows when it plays this record. */
  name: string;
  extends: 'documented';
  /** The answers that settle a behaviour switch; unknown answers are left out (documented applies). */
  switches: Partial<Record<BehaviourSwitchName, boolean>>;
  /** `twilio` (a real account) or `emulator` (a rehearsal; `emulatorProfile` says which profile it played). */
  target: 'twilio' | 'emulator';
  emulatorProfile?: string;
  createdAt: string;
  durationMs: number;
  /** The prices the estimate assumed, and the estimate. */
  costEstimateUsd?: number;
  answers: Array<ProbeAnswer & { probe: string }>;
  probes: ProbeResult[];
  cleanup: CleanupResult[];
}

/** The switches a set of answers settles (an unknown answer settles nothing). */
export function switchesFrom(answers: ProbeAnswer[]): VerifyRecord['switches'] {
  const switches: VerifyRecord['switches'] = {};
  for (const answer of answers) {
    if (!answer.switch || answer.answer === 'unknown') continue;
    switches[answer.switch] = answer.answer;
  }
  // Fixed key order (as the switches are declared), so records diff cleanly.
  return Object.fromEntries(
    SWITCH_NAMES.filter((name) => name in switches).map((name) => [name, switches[name]]),
  ) as VerifyRecord['switches'];
}

export function buildRecord(input: {
  target: VerifyRecord['target'];
  emulatorProfile?: string;
  startedAt: number;
  finishedAt: number;
  probes: ProbeResult[];
  cleanup: CleanupResult[];
  costEstimateUsd?: number;
}): VerifyRecord {
  const day = new Date(input.startedAt).toISOString().slice(0, 10);
  const answers = input.probes.flatMap((probe) => probe.answers.map((answer) => ({ probe: probe.probe, ...answer })));
  return {
    kind: 'studio-async verify:live record',
    format: 1,
    name:
      input.target === 'twilio'
        ? `verify:live ${day}`
        : `verify:live ${day} (emulator, profile ${input.emulatorProfile ?? '?'})`,
    extends: 'documented',
    switches: switchesFrom(answers),
    target: input.target,
    ...(input.emulatorProfile ? { emulatorProfile: input.emulatorProfile } : {}),
    createdAt: new Date(input.startedAt).toISOString(),
    durationMs: input.finishedAt - input.startedAt,
    ...(input.costEstimateUsd !== undefined ? { costEstimateUsd: input.costEstimateUsd } : {}),
    answers,
    probes: input.probes,
    cleanup: input.cleanup,
  };
}

/** The record as it is written: redacted, then scanned; a leak stops the write. */
export function recordText(record: VerifyRecord, redactions: Redactions): string {
  const text = `${JSON.stringify(redactValue(record, redactions), null, 2)}\n`;
  const leaks = findLeaks(text, redactions.secrets);
  if (leaks.length > 0) throw new Error(`the record still holds ${[...new Set(leaks)].join(', ')}; it was not written`);
  return text;
}

export function writeRecord(file: string, record: VerifyRecord, redactions: Redactions): string {
  const text = recordText(record, redactions);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return text;
}

/** `verify/records/<YYYY-MM-DD>.json` for a run started at `at`. */
export function defaultRecordFile(root: string, at: number): string {
  return path.join(root, 'verify', 'records', `${new Date(at).toISOString().slice(0, 10)}.json`);
}

/** The question of each switch, from the one list of switches. */
export function switchQuestion(name: BehaviourSwitchName): string {
  return BEHAVIOUR_SWITCHES[name].question;
}
