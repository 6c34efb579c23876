import fs from 'node:fs';
import { HOLD_MUSIC_SAMPLE_RATE, HOLD_MUSIC_SECONDS, renderHoldMusic } from '../../dev/hold-music';
import { HOLD_MUSIC_FILE } from '../../dev/paths';
import {
  decodeWavPcm16Mono,
  encodeWavPcm16Mono,
  parseWav,
  readWavDurationSeconds,
  readWavInfo,
  WAVE_FORMAT_MULAW,
} from '../../dev/wav';

/** A WAV header built by hand, with optional extra chunks before the data. */
function wavBytes(options: {
  format: number;
  sampleRate: number;
  bitsPerSample: number;
  dataBytes: number;
  extraChunks?: { id: string; body: Buffer }[];
}): Buffer {
  const blockAlign = options.bitsPerSample / 8;
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(options.format, 0);
  fmt.writeUInt16LE(1, 2);
  fmt.writeUInt32LE(options.sampleRate, 4);
  fmt.writeUInt32LE(options.sampleRate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(options.bitsPerSample, 14);
  const chunk = (id: string, body: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(id, 0, 'ascii');
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body, Buffer.alloc(body.length % 2)]);
  };
  const chunks = [
    chunk('fmt ', fmt),
    ...(options.extraChunks ?? []).map((c) => chunk(c.id, c.body)),
    chunk('data', Buffer.alloc(options.dataBytes)),
  ];
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(4 + chunks.reduce((n, c) => n + c.length, 0), 4);
  riff.write('WAVE', 8, 'ascii');
  return Buffer.concat([riff, ...chunks]);
}

describe('WAV duration', () => {
  test('of 16-bit PCM is data bytes / byte rate', () => {
    const info = parseWav(wavBytes({ format: 1, sampleRate: 8000, bitsPerSample: 16, dataBytes: 24_000 }));
    expect(info).toMatchObject({ formatName: 'pcm', sampleRate: 8000, bitsPerSample: 16, channels: 1 });
    expect(info.durationSeconds).toBeCloseTo(1.5, 6);
  });

  test('of mu-law, after chunks it does not know (odd sizes are padded)', () => {
    const info = parseWav(
      wavBytes({
        format: WAVE_FORMAT_MULAW,
        sampleRate: 8000,
        bitsPerSample: 8,
        dataBytes: 16_000,
        extraChunks: [
          { id: 'fact', body: Buffer.alloc(4) },
          { id: 'LIST', body: Buffer.from('odd') },
        ],
      }),
    );
    expect(info.formatName).toBe('mulaw');
    expect(info.durationSeconds).toBeCloseTo(2, 6);
  });

  test('counts only the audio present in a truncated file', () => {
    const full = wavBytes({ format: 1, sampleRate: 8000, bitsPerSample: 16, dataBytes: 16_000 });
    expect(parseWav(full.subarray(0, full.length - 8000)).durationSeconds).toBeCloseTo(0.5, 6);
  });

  test('refuses what is not WAV', () => {
    expect(() => parseWav(Buffer.from('ID3 this is an mp3'))).toThrow(/RIFF\/WAVE/);
    const noData = wavBytes({ format: 1, sampleRate: 8000, bitsPerSample: 16, dataBytes: 0 }).subarray(0, 36);
    expect(() => parseWav(noData)).toThrow(/no data chunk/);
  });

  test('round-trips through encodeWavPcm16Mono', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
    const decoded = decodeWavPcm16Mono(encodeWavPcm16Mono(samples, 8000));
    expect(decoded.sampleRate).toBe(8000);
    expect(Array.from(decoded.samples)).toEqual(Array.from(samples));
  });
});

describe('the committed hold music (src/assets/hold-music.wav)', () => {
  const bytes = fs.readFileSync(HOLD_MUSIC_FILE);
  const { samples } = decodeWavPcm16Mono(bytes);

  test('is 8 kHz mono 16-bit PCM, about 10 s, under 200 KB', () => {
    expect(readWavInfo(HOLD_MUSIC_FILE)).toMatchObject({
      formatName: 'pcm',
      sampleRate: 8000,
      channels: 1,
      bitsPerSample: 16,
    });
    expect(readWavDurationSeconds(HOLD_MUSIC_FILE)).toBeCloseTo(HOLD_MUSIC_SECONDS, 2);
    expect(HOLD_MUSIC_SECONDS).toBeGreaterThanOrEqual(9);
    expect(HOLD_MUSIC_SECONDS).toBeLessThanOrEqual(11);
    expect(bytes.length).toBeLessThan(200 * 1024);
  });

  test('is what `npm run music` generates (regenerate after changing the generator)', () => {
    const rendered = renderHoldMusic();
    expect(rendered.length).toBe(samples.length);
    let largestDifference = 0;
    rendered.forEach((value, i) => (largestDifference = Math.max(largestDifference, Math.abs(value - samples[i]))));
    expect(largestDifference).toBeLessThanOrEqual(2); // rounding may differ across Node versions
  });

  test('is quiet enough for a phone line and not silent', () => {
    const peak = samples.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    const rms = Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length);
    expect(peak).toBeLessThan(0.6 * 32768); // headroom: no clipping after the line's own processing
    expect(rms).toBeGreaterThan(0.05 * 32768);
  });

  test('loops without a click: the jump from last to first sample is no bigger than its neighbours', () => {
    const around = Math.round(0.025 * HOLD_MUSIC_SAMPLE_RATE);
    const steps: number[] = [];
    for (let i = samples.length - around; i < samples.length - 1; i++)
      steps.push(Math.abs(samples[i + 1] - samples[i]));
    for (let i = 0; i < around; i++) steps.push(Math.abs(samples[i + 1] - samples[i]));
    const seam = Math.abs(samples[0] - samples[samples.length - 1]);
    expect(seam).toBeLessThanOrEqual(Math.max(...steps));
  });
});
