/** A verify:live record: redacted (no secrets, SIDs or numbers), and loadable as a behaviour profile. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../emulator/server';
import { BUILT_IN_PROFILES, loadBehaviourProfile } from '../../emulator/twilio-behaviour';
import { findLeaks, redactText } from '../../verify/redact';
import type { CleanupResult } from '../../verify/cleanup';
import { buildRecord, recordText, switchesFrom, type ProbeResult } from '../../verify/record';

const TOKEN = '0123456789abcdef0123456789abcdef';
const KEY = 'Zq3-secret_probe-key';
const ACCOUNT = `AC${'a1'.repeat(16)}`;
const CALL = `CA${'b2'.repeat(16)}`;
const ROOM = `CF${'c3'.repeat(16)}`;
const redactions = {
  secrets: [TOKEN, KEY],
  names: [{ value: 'studio-async-verify-abc123-verify.twil.io', label: '<domain>' }],
};

function sampleProbes(): ProbeResult[] {
  return [
    {
      probe: 'leave',
      answers: [
        { id: 'V9', switch: 'participantCallStatusOnLeave', question: 'q', answer: true, sentence: `seen on ${CALL}` },
      ],
      evidence: {
        leaveOnMove: {
          params: {
            AccountSid: ACCOUNT,
            CallSid: CALL,
            ConferenceSid: ROOM,
            From: '+15551234567',
            To: '+442071234567',
            Caller: '%2B15551234567',
          },
        },
        url: `https://studio-async-verify-abc123-verify.twil.io/verify/probe?key=${encodeURIComponent(KEY)}&run=abc123`,
        auth: `token ${TOKEN}`,
        [`key-${ACCOUNT}`]: 1,
      },
      durationMs: 10,
    },
    {
      probe: 'rooms',
      answers: [
        { id: 'V2', switch: 'endInitConferenceByRest', question: 'q', answer: 'unknown', sentence: 'never joined' },
        { id: 'V12', switch: 'listInitConferencesByStatus', question: 'q', answer: false, sentence: 'not listed' },
      ],
      evidence: { timestamp: 'Tue, 01 Dec 2026 18:00:13 +0000', durationMs: 1234567 },
      durationMs: 10,
    },
  ];
}

/** The record of a twilio run that started on 1 December 2026 and took `minutes`. */
function recordOf(probes: ProbeResult[], cleanup: CleanupResult[], minutes = 15) {
  return buildRecord({
    target: 'twilio',
    startedAt: Date.UTC(2026, 11, 1),
    finishedAt: Date.UTC(2026, 11, 1, 0, minutes),
    probes,
    cleanup,
  });
}

describe('redaction', () => {
  test('SIDs keep their kind, numbers and secrets go, plain numbers and dates stay', () => {
    expect(redactText(`call ${CALL} in ${ROOM}`, redactions)).toBe('call <CA> in <CF>');
    expect(redactText('from +15551234567 to +442071234567 (%2B15551234567)', redactions)).toBe(
      'from <phone> to <phone> (<phone>)',
    );
    expect(redactText(`Basic ${TOKEN}; key=${encodeURIComponent(KEY)}`, redactions)).toBe(
      'Basic <secret>; key=<secret>',
    );
    expect(redactText('1234567 ms on Tue, 01 Dec 2026 18:00:13 +0000', redactions)).toBe(
      '1234567 ms on Tue, 01 Dec 2026 18:00:13 +0000',
    );
  });

  test('a written record holds no SID, phone number or secret, keys included', () => {
    const record = recordOf(sampleProbes(), [{ label: `flow FW${'d4'.repeat(16)}`, ok: true }]);
    const text = recordText(record, redactions);
    expect(findLeaks(text, [TOKEN, KEY])).toEqual([]);
    expect(text).not.toMatch(/\b(AC|CA|CF|FW|FN|ZS|ZE|ZH|IS|ET|PN)[0-9a-f]{32}\b/i);
    expect(text).not.toMatch(/\+\d{7,15}/);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('twil.io');
    expect(text).toContain('<CA>');
  });

  test('the scan finds what a record must not hold', () => {
    expect(findLeaks(`x ${CALL} +15551234567 ${TOKEN}`, [TOKEN])).toEqual([
      'SID CA…',
      'phone number +15…',
      'a secret of the run',
    ]);
  });
});

describe('a record is a behaviour profile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-record-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('its switches are the settled answers; unknown ones fall back to documented', () => {
    const record = recordOf(sampleProbes(), []);
    expect(record.switches).toEqual({ listInitConferencesByStatus: false, participantCallStatusOnLeave: true });
    const file = path.join(dir, '2026-12-01.json');
    fs.writeFileSync(file, recordText(record, redactions));
    const profile = loadBehaviourProfile(file);
    expect(profile).toEqual({
      name: 'verify:live 2026-12-01',
      switches: {
        ...BUILT_IN_PROFILES.documented.switches,
        participantCallStatusOnLeave: true,
        listInitConferencesByStatus: false,
      },
    });
    expect(
      switchesFrom([{ id: 'V2', switch: 'endInitConferenceByRest', question: 'q', answer: 'unknown', sentence: '' }]),
    ).toEqual({});
  });

  test('the emulator plays it (what `npm start -- --twilio-behaviour <record>` starts with)', async () => {
    const record = recordOf(
      [
        {
          probe: 'rooms',
          answers: [{ id: 'V2', switch: 'endInitConferenceByRest', question: 'q', answer: true, sentence: '' }],
          evidence: {},
          durationMs: 0,
        },
      ],
      [],
      0,
    );
    const file = path.join(dir, 'played.json');
    fs.writeFileSync(file, recordText(record, redactions));
    const emulator = await startEmulator({ behaviour: loadBehaviourProfile(file) });
    try {
      const played = (await (await fetch(`${emulator.url}/_emulator/behaviour`)).json()) as {
        name: string;
        switches: Record<string, boolean>;
      };
      expect(played.name).toBe('verify:live 2026-12-01');
      expect(played.switches).toEqual({ ...BUILT_IN_PROFILES.documented.switches, endInitConferenceByRest: true });
    } finally {
      await emulator.close();
    }
  });
});
