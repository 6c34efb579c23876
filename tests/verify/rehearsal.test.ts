/**
 * The offline rehearsal (`npm run verify:live -- --against-emulator --twilio-behaviour NAME`):
 * the same probes, against the local stack. Under each profile every answer that settles a switch
 * must be that profile's value (so every probe tells the profiles apart), the documented
 * behaviours must come out as documented, and the two records differ exactly at the switches.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILT_IN_PROFILES, SWITCH_NAMES, type BuiltInProfileName } from '../../emulator/twilio-behaviour';
import { findLeaks } from '../../verify/redact';
import type { VerifyRecord } from '../../verify/record';
import { runCli } from './support';

jest.setTimeout(240_000);

/** What the documented behaviours (not switches) answer under every profile. */
const CONFIRMED: Record<string, boolean> = {
  V1: true,
  'call-update': true,
  S5: false,
  V14: true,
  F4: true,
  F5: true,
  S13: true,
  S13u: true,
  Y1: true,
  Y2: true,
  Y3: true,
  Y5: true,
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-rehearsal-'));
const records: Partial<Record<BuiltInProfileName, VerifyRecord>> = {};

async function rehearse(profile: BuiltInProfileName): Promise<VerifyRecord> {
  const out = path.join(dir, `${profile}.json`);
  const run = await runCli(['--against-emulator', '--twilio-behaviour', profile, '--no-build', '--json', '--out', out]);
  expect({
    code: run.code,
    failures: run.stderr.split('\n').filter((line) => /FAILED|NOT removed|stopped/.test(line)),
  }).toEqual({ code: 0, failures: [] });
  const text = fs.readFileSync(out, 'utf8');
  expect(run.stdout).toBe(text);
  expect(findLeaks(text)).toEqual([]);
  return JSON.parse(text) as VerifyRecord;
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(['documented', 'hopeful'] as const)('rehearsal under %s', (profile) => {
  test('every switch is answered as the profile plays it; the documented behaviours as documented', async () => {
    const record = await rehearse(profile);
    records[profile] = record;
    expect(record.target).toBe('emulator');
    expect(record.emulatorProfile).toBe(profile);
    expect(record.probes.filter((p) => p.error || p.skipped)).toEqual([]);
    expect(record.cleanup.every((step) => step.ok)).toBe(true);

    const settled = Object.fromEntries(record.answers.filter((a) => a.switch).map((a) => [a.switch, a.answer]));
    expect(settled).toEqual(BUILT_IN_PROFILES[profile].switches);
    expect(record.switches).toEqual(BUILT_IN_PROFILES[profile].switches);
    const confirmed = Object.fromEntries(record.answers.filter((a) => !a.switch).map((a) => [a.id, a.answer]));
    expect(confirmed).toEqual(CONFIRMED);
    // V2 under documented: refused with 16099.
    const v2 = record.answers.find((a) => a.id === 'V2')!;
    if (profile === 'documented') expect(v2.sentence).toMatch(/^Refused: HTTP 400, code 16099/);
  });
});

test('the two records differ exactly where the profiles differ', () => {
  const { documented, hopeful } = records;
  expect(documented && hopeful).toBeTruthy();
  const answers = (record: VerifyRecord) => new Map(record.answers.map((a) => [a.id, a.answer]));
  const a = answers(documented!);
  const b = answers(hopeful!);
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  const differing = [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
  const switchIds = documented!.answers
    .filter((x) => x.switch)
    .map((x) => x.id)
    .sort();
  expect(differing).toEqual(switchIds);
  // One answer per switch: no switch is left without a probe.
  expect(
    documented!.answers
      .filter((x) => x.switch)
      .map((x) => x.switch)
      .sort(),
  ).toEqual([...SWITCH_NAMES].sort());
});
