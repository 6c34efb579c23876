/**
 * Custom hold audio: lengths of WAV and MP3 files read from their headers, the lengths the build
 * hands the function bundles, and the preflight refusing audio Twilio's <Play> would not play.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { audioDurations, inspectAudio } from '../../dev/audio-assets';
import { checkAudio, checkFiles, MAX_HOLD_MUSIC_SECONDS, type DeployFile } from '../../dev/deploy/preflight';
import { encodeSilentMp3, parseMp3, readFrameHeader } from '../../dev/mp3';
import { PROJECT_ROOT } from '../../dev/paths';
import { encodeWavPcm16Mono, readWavDurationSeconds } from '../../dev/wav';

/** A WAV header of any format, with `seconds` of zeroed audio. */
function wav(options: { format?: number; bits?: number; rate?: number; channels?: number; seconds: number }): Buffer {
  const { format = 1, bits = 16, rate = 8000, channels = 1, seconds } = options;
  const blockAlign = (channels * bits) / 8;
  const dataBytes = Math.round(seconds * rate) * blockAlign;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(format, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * blockAlign, 28);
  out.writeUInt16LE(blockAlign, 32);
  out.writeUInt16LE(bits, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  return out;
}

function id3v2(bytes: number): Buffer {
  const tag = Buffer.alloc(10 + bytes);
  tag.write('ID3', 0, 'latin1');
  tag[3] = 4;
  tag[6] = (bytes >> 21) & 0x7f;
  tag[7] = (bytes >> 14) & 0x7f;
  tag[8] = (bytes >> 7) & 0x7f;
  tag[9] = bytes & 0x7f;
  tag.fill(0xff, 10); // sync-like bytes inside the tag must not be taken for frames
  return tag;
}

describe('MP3 length from frame headers', () => {
  it('reads the length of a constant bit rate file to within one frame', () => {
    const info = parseMp3(encodeSilentMp3(12.5));
    expect(info).toMatchObject({ version: 1, layer: 3, sampleRate: 44100, bitrateKbps: 128 });
    expect(Math.abs(info.durationSeconds - 12.5)).toBeLessThan(1152 / 44100);
  });

  it('skips an ID3v2 tag and an ID3v1 tag, and junk between frames', () => {
    const frames = encodeSilentMp3(3, { bitrateKbps: 64, sampleRate: 48000, mono: true });
    const tag1 = Buffer.concat([Buffer.from('TAG', 'latin1'), Buffer.alloc(125)]);
    const middle = Math.floor(frames.length / 2 / 192) * 192; // 64 kbit/s at 48 kHz: 192-byte frames
    const file = Buffer.concat([
      id3v2(2048),
      frames.subarray(0, middle),
      Buffer.from('junk!'),
      frames.subarray(middle),
      tag1,
    ]);
    const info = parseMp3(file);
    expect(info).toMatchObject({ sampleRate: 48000, channels: 1, firstFrameOffset: 2058 });
    expect(Math.abs(info.durationSeconds - 3)).toBeLessThan(0.05);
  });

  it('adds up frames of different bit rates (VBR) exactly', () => {
    const file = Buffer.concat([
      encodeSilentMp3(2, { bitrateKbps: 128 }),
      encodeSilentMp3(2, { bitrateKbps: 320 }),
      encodeSilentMp3(2, { bitrateKbps: 64 }),
    ]);
    const frames = 3 * Math.round((2 * 44100) / 1152);
    expect(parseMp3(file).durationSeconds).toBeCloseTo((frames * 1152) / 44100, 6);
  });

  it('reads MPEG-2 layer 3 frames (576 samples) and refuses what holds no frames', () => {
    // MPEG-2, layer 3, 32 kbit/s, 16 kHz: 72 * 32000 / 16000 = 144 bytes per frame.
    const frame = Buffer.alloc(144);
    frame.set([0xff, 0xf3, 0x48, 0xc0]);
    expect(readFrameHeader(frame, 0)).toMatchObject({
      version: 2,
      layer: 3,
      sampleRate: 16000,
      samples: 576,
      bytes: 144,
    });
    expect(parseMp3(Buffer.concat(Array.from({ length: 100 }, () => frame))).durationSeconds).toBeCloseTo(
      (100 * 576) / 16000,
      6,
    );
    expect(() => parseMp3(Buffer.from('this is not audio at all'.repeat(100)))).toThrow('no MPEG audio frames found');
  });
});

describe('what Twilio plays', () => {
  it('accepts 8- and 16-bit PCM WAV and MP3 with their lengths', () => {
    expect(inspectAudio(encodeWavPcm16Mono(new Int16Array(8000 * 4), 8000), '.wav')).toMatchObject({
      ok: true,
      format: 'wav',
      durationSeconds: 4,
    });
    expect(inspectAudio(wav({ bits: 8, seconds: 2.5 }), '.wav')).toMatchObject({ ok: true, durationSeconds: 2.5 });
    expect(inspectAudio(encodeSilentMp3(20), '.mp3')).toMatchObject({ ok: true, format: 'mp3' });
  });

  it('refuses WAV that is not 8/16-bit PCM, MP3 that is not layer 3, and other formats', () => {
    expect(inspectAudio(wav({ format: 3, bits: 32, seconds: 1 }), '.wav')).toEqual({
      ok: false,
      problem: expect.stringContaining('float audio, not PCM'),
    });
    expect(inspectAudio(wav({ format: 7, bits: 8, seconds: 1 }), '.wav')).toEqual({
      ok: false,
      problem: expect.stringContaining('mulaw audio, not PCM'),
    });
    expect(inspectAudio(wav({ bits: 24, seconds: 1 }), '.wav')).toEqual({
      ok: false,
      problem: expect.stringContaining('24-bit PCM'),
    });
    const layer2 = Buffer.alloc(417 * 50);
    for (let i = 0; i < 50; i++) layer2.set([0xff, 0xfd, 0x80, 0x00], i * 417); // MPEG-1 layer 2, 128 kbit/s, 44.1 kHz: 417-byte frames
    expect(inspectAudio(layer2, '.mp3')).toEqual({
      ok: false,
      problem: expect.stringContaining('is MPEG layer 2 audio, and Twilio plays MP3 (MPEG layer 3)'),
    });
    expect(inspectAudio(Buffer.from('OggS'), '.ogg')).toEqual({
      ok: false,
      problem: expect.stringContaining('a .ogg file'),
    });
  });
});

describe('custom hold audio in the build and the preflight', () => {
  let dir: string;
  const asset = (name: string, bytes: Buffer, access: DeployFile['access'] = 'public'): DeployFile => {
    const filePath = path.join(dir, 'assets', name);
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    fs.writeFileSync(filePath, bytes);
    return { kind: 'asset', path: `/${name.replace(/\.(protected|private)(?=\.[^.]+$)/, '')}`, access, filePath };
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-audio-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('measures every WAV and MP3 asset by the path it is served at', () => {
    asset('music/loop.mp3', encodeSilentMp3(31.3));
    asset('short.protected.wav', encodeWavPcm16Mono(new Int16Array(8000 * 6), 8000));
    asset('float.wav', wav({ format: 3, bits: 32, seconds: 1 }));
    const durations = audioDurations(path.join(dir, 'assets'));
    expect(Object.keys(durations).sort()).toEqual(['/music/loop.mp3', '/short.wav']);
    expect(durations['/music/loop.mp3']).toBeCloseTo(31.3, 1);
    expect(durations['/short.wav']).toBe(6);
  });

  it('hands the bundles the measured length of the shipped hold music', () => {
    const seconds = readWavDurationSeconds(path.join(PROJECT_ROOT, 'src', 'assets', 'hold-music.wav'));
    const bundle = fs.readFileSync(path.join(PROJECT_ROOT, 'dist', 'functions', 'hold', 'wait.protected.js'), 'utf8');
    expect(bundle).toContain(`"/hold-music.wav": ${Math.round(seconds * 1000) / 1000}`);
  });

  it("reads HOLD_MUSIC_PATH's length from what the build measured", () => {
    (globalThis as Record<string, unknown>).__STUDIO_ASYNC_AUDIO_SECONDS__ = { '/music/loop.mp3': 31.3 };
    try {
      jest.isolateModules(() => {
        const { loadConfig } = require('../../src/lib/config') as typeof import('../../src/lib/config');
        const env = { ACCOUNT_SID: 'AC' + '0'.repeat(32), AUTH_TOKEN: 't' };
        expect(loadConfig({ ...env, HOLD_MUSIC_PATH: '/music/loop.mp3' }).holdMusicSeconds).toBe(31.3);
        expect(loadConfig(env).holdMusicSeconds).toBe(10); // not measured: the generated music's length
      });
    } finally {
      delete (globalThis as Record<string, unknown>).__STUDIO_ASYNC_AUDIO_SECONDS__;
    }
  });

  it('refuses, naming the file, audio Twilio cannot play and hold music it cannot use', () => {
    const good = asset('hold.mp3', encodeSilentMp3(20));
    const float = asset('float.wav', wav({ format: 3, bits: 32, seconds: 1 }));
    const deep = asset('deep.wav', wav({ bits: 24, seconds: 1 }));
    const fake = asset('fake.mp3', Buffer.from('ID3 but nothing else'.repeat(10)));
    const ogg = asset('hold.ogg', Buffer.from('OggS'));
    const long = asset('long.wav', wav({ seconds: MAX_HOLD_MUSIC_SECONDS + 1, rate: 8000 }));
    const files = [good, float, deep, fake, ogg, long];
    expect(checkAudio(files, dir, '/hold.mp3')).toEqual({
      refusals: [
        'assets/float.wav is a WAV file of float audio, not PCM, and Twilio plays WAV files only as PCM: convert it to 16-bit PCM WAV or to MP3.',
        'assets/deep.wav is 24-bit PCM, and Twilio plays 8- or 16-bit PCM WAV files: convert it to 16-bit PCM WAV or to MP3.',
        'assets/fake.mp3 is not an MP3 file (no MPEG audio frames found): convert it to 16-bit PCM WAV or to MP3.',
      ],
      warnings: [],
    });
    expect(checkAudio([good, ogg], dir, '/hold.ogg').refusals).toEqual([
      'assets/hold.ogg (HOLD_MUSIC_PATH) is a .ogg file, and the hold loop needs a WAV (8- or 16-bit PCM) or MP3 file whose length it can read: convert it to 16-bit PCM WAV or to MP3.',
    ]);
    expect(checkAudio([good, long], dir, '/long.wav').refusals).toEqual([
      expect.stringMatching(/^assets\/long\.wav \(HOLD_MUSIC_PATH\) plays 241\.0 s.*at most 240 s/),
    ]);
    expect(checkAudio([good], dir, '/missing.wav').refusals).toEqual([
      'HOLD_MUSIC_PATH=/missing.wav names no asset of this build: put the file in src/assets (it is served at /<its name>) or fix HOLD_MUSIC_PATH.',
    ]);
    expect(checkAudio([good], dir, '/hold.mp3')).toEqual({ refusals: [], warnings: [] });
    // checkFiles runs the same check, HOLD_MUSIC_PATH from the deploy's .env.
    expect(checkFiles([good, float], dir, { holdMusicPath: '/hold.mp3' }).refusals).toContain(
      'assets/float.wav is a WAV file of float audio, not PCM, and Twilio plays WAV files only as PCM: convert it to 16-bit PCM WAV or to MP3.',
    );
  });
});
