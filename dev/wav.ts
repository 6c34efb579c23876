/**
 * Minimal WAV (RIFF/WAVE) writing and reading: enough to write the generated hold music and to
 * tell how long any WAV asset plays (the flow runner simulates <Play> lasting that long).
 */
import fs from 'node:fs';

export const WAVE_FORMAT_PCM = 0x0001;
export const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface WavInfo {
  /** Format tag from the fmt chunk (for WAVE_FORMAT_EXTENSIBLE: the sub-format's tag). */
  audioFormat: number;
  formatName: 'pcm' | 'mulaw' | 'alaw' | 'float' | 'other';
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  byteRate: number;
  blockAlign: number;
  /** Offset of the first audio byte in the file. */
  dataOffset: number;
  /** Bytes of audio actually present (a truncated or streamed file counts what is there). */
  dataBytes: number;
  durationSeconds: number;
}

function formatName(tag: number): WavInfo['formatName'] {
  switch (tag) {
    case WAVE_FORMAT_PCM:
      return 'pcm';
    case WAVE_FORMAT_MULAW:
      return 'mulaw';
    case WAVE_FORMAT_ALAW:
      return 'alaw';
    case WAVE_FORMAT_IEEE_FLOAT:
      return 'float';
    default:
      return 'other';
  }
}

/** Parses the header of a WAV file held in memory. Throws on anything that is not WAVE audio. */
export function parseWav(bytes: Buffer): WavInfo {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'durationSeconds'> | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new Error('WAV fmt chunk is too short');
      let audioFormat = bytes.readUInt16LE(body);
      if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40) {
        audioFormat = bytes.readUInt16LE(body + 24); // first two bytes of the sub-format GUID
      }
      fmt = {
        audioFormat,
        formatName: formatName(audioFormat),
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        byteRate: bytes.readUInt32LE(body + 8),
        blockAlign: bytes.readUInt16LE(body + 12),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk comes before its fmt chunk');
      if (fmt.byteRate === 0) throw new Error('WAV byte rate is 0');
      const dataBytes = Math.min(size, bytes.length - body);
      return { ...fmt, dataOffset: body, dataBytes, durationSeconds: dataBytes / fmt.byteRate };
    }
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  throw new Error(fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

export function readWavInfo(file: string): WavInfo {
  return parseWav(fs.readFileSync(file));
}

/** How long a WAV file plays, in seconds. */
export function readWavDurationSeconds(file: string): number {
  return readWavInfo(file).durationSeconds;
}

/** Encodes mono 16-bit PCM samples as a canonical 44-byte-header WAV file. */
export function encodeWavPcm16Mono(samples: Int16Array, sampleRate: number): Buffer {
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(1, 22); // channels
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32); // block align
  out.writeUInt16LE(16, 34); // bits per sample
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i], 44 + i * 2);
  return out;
}

/** Reads back the samples of a mono 16-bit PCM WAV. */
export function decodeWavPcm16Mono(bytes: Buffer): { sampleRate: number; samples: Int16Array } {
  const info = parseWav(bytes);
  if (info.formatName !== 'pcm' || info.bitsPerSample !== 16 || info.channels !== 1) {
    throw new Error(`expected mono 16-bit PCM, got ${info.formatName} ${info.bitsPerSample}-bit x${info.channels}`);
  }
  const samples = new Int16Array(Math.floor(info.dataBytes / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(info.dataOffset + i * 2);
  return { sampleRate: info.sampleRate, samples };
}
