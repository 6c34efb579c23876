/** docs/TWILIO-DIFFERENCES.md shows the latest committed record's answers (npm run verify:doc). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOC_FILE, END_MARKER, latestRecord, renderSection, START_MARKER, updateDoc } from '../../verify/doc';
import { buildRecord, recordText } from '../../verify/record';

test('the page is in sync with verify/records/ (none committed yet)', () => {
  const doc = fs.readFileSync(DOC_FILE, 'utf8');
  expect(updateDoc(doc, renderSection(latestRecord()))).toBe(doc);
  if (!latestRecord()) expect(doc).toContain('No record committed yet.');
});

test('with a record, the section gives its answers per behaviour and ignores rehearsals', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-doc-'));
  try {
    const probes = [
      {
        probe: 'rooms',
        answers: [
          {
            id: 'V2',
            switch: 'endInitConferenceByRest' as const,
            question: 'q',
            answer: false as const,
            sentence: 'Refused: HTTP 400, code 16099; the room stayed init.',
          },
          {
            id: 'V12',
            switch: 'listInitConferencesByStatus' as const,
            question: 'q',
            answer: 'unknown' as const,
            sentence: 'The call never | reached the room.',
          },
        ],
        evidence: {},
        durationMs: 1,
      },
      { probe: 'time-limit', answers: [], skipped: 'needs --from', evidence: {}, durationMs: 0 },
    ];
    const real = buildRecord({
      target: 'twilio',
      startedAt: Date.UTC(2027, 0, 5),
      finishedAt: Date.UTC(2027, 0, 5),
      probes,
      cleanup: [],
    });
    const rehearsal = buildRecord({
      target: 'emulator',
      emulatorProfile: 'hopeful',
      startedAt: Date.UTC(2027, 0, 9),
      finishedAt: Date.UTC(2027, 0, 9),
      probes,
      cleanup: [],
    });
    fs.writeFileSync(path.join(dir, '2027-01-05.json'), recordText(real, { secrets: [] }));
    fs.writeFileSync(path.join(dir, '2027-01-09.json'), recordText(rehearsal, { secrets: [] }));
    fs.writeFileSync(path.join(dir, 'notes.json'), '{}');
    const latest = latestRecord(dir);
    expect(latest?.file).toBe('2027-01-05.json');
    const section = renderSection(latest);
    expect(section.startsWith(START_MARKER)).toBe(true);
    expect(section.endsWith(END_MARKER)).toBe(true);
    expect(section).toContain(
      'From `verify/records/2027-01-05.json` (2027-01-05). As a profile it sets `endInitConferenceByRest=false`',
    );
    expect(section).toMatch(/\| V2 \| .* \| no \| Refused: HTTP 400, code 16099; the room stayed init\. \|/);
    expect(section).toMatch(/\| V12 \| .* \| unknown \| The call never \\\| reached the room\. \|/);
    expect(section).toMatch(/\| V10 \| .* \| not run \| skipped: needs --from \|/);
    // Replacing is idempotent and leaves the rest of the page alone.
    const page = `# Page\n\ntext\n\n${renderSection(undefined)}\n\nafter\n`;
    const updated = updateDoc(page, section);
    expect(updated.startsWith('# Page\n\ntext\n\n')).toBe(true);
    expect(updated.endsWith('\n\nafter\n')).toBe(true);
    expect(updateDoc(updated, section)).toBe(updated);
    expect(updateDoc('# No markers\n', section)).toBe(`# No markers\n\n${section}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
