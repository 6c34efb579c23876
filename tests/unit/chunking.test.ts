import { CHUNK_BYTES, splitForDocuments } from '../../src/lib/store/job-store';

describe('splitForDocuments', () => {
  const escapedBytes = (part: string) => Buffer.byteLength(JSON.stringify({ part }));

  it('joins back to exactly the original text with every piece under the Sync limit', () => {
    const text = JSON.stringify({
      rows: Array.from({ length: 900 }, (_, i) => ({ i, name: `名前 "quoted" \\ ${i} 🎵`, nl: 'a\nb' })),
    });
    const parts = splitForDocuments(text, CHUNK_BYTES);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.join('')).toBe(text);
    for (const part of parts) expect(escapedBytes(part)).toBeLessThanOrEqual(CHUNK_BYTES + 20);
    for (const part of parts) expect(escapedBytes(part)).toBeLessThan(16 * 1024);
  });

  it('never splits a surrogate pair', () => {
    const parts = splitForDocuments('🎵'.repeat(100), 10);
    for (const part of parts) expect(part).toMatch(/^(🎵)+$/u);
  });

  it('returns one piece for small or empty text', () => {
    expect(splitForDocuments('{}', CHUNK_BYTES)).toEqual(['{}']);
    expect(splitForDocuments('', CHUNK_BYTES)).toEqual(['']);
  });
});
