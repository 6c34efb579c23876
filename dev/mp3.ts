/**
 * Minimal MP3 reading: walks the MPEG audio frame headers of a file (after any ID3v2 tag, up to
 * an ID3v1 tag) and adds up their samples, which gives the exact length of constant and
 * variable bit rate files alike without decoding any audio. Enough to tell how long an MP3 asset
 * plays and whether it is MPEG layer 3 at all.
 */
import fs from 'node:fs';

export interface Mp3Info {
  /** 1, 2 or 2.5 (MPEG-1, MPEG-2, MPEG-2.5). */
  version: 1 | 2 | 2.5;
  /** 1, 2 or 3 (an .mp3 is layer 3). */
  layer: 1 | 2 | 3;
  sampleRate: number;
  channels: 1 | 2;
  /** Audio frames counted (an Xing/Info/VBRI header frame is not audio and is left out). */
  frames: number;
  /** Average bit rate in kbit/s. */
  bitrateKbps: number;
  durationSeconds: number;
  /** Offset of the first frame (after an ID3v2 tag). */
  firstFrameOffset: number;
}

interface FrameHeader {
  version: Mp3Info['version'];
  layer: Mp3Info['layer'];
  sampleRate: number;
  channels: 1 | 2;
  bitrateKbps: number;
  samples: number;
  bytes: number;
}

const BITRATES_KBPS: Record<string, readonly number[]> = {
  'v1-l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1-l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1-l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2-l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2-l23': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<string, readonly number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/** The frame header at `offset`, or undefined when there is none (free-format frames count as none). */
export function readFrameHeader(bytes: Buffer, offset: number): FrameHeader | undefined {
  if (offset + 4 > bytes.length) return undefined;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  const b3 = bytes[offset + 3]!;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 0b11;
  const layerBits = (b1 >> 1) & 0b11;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 0b11;
  if (versionBits === 0b01 || layerBits === 0b00 || bitrateIndex === 0 || bitrateIndex === 0b1111 || rateIndex === 0b11)
    return undefined;
  const version: Mp3Info['version'] = versionBits === 0b11 ? 1 : versionBits === 0b10 ? 2 : 2.5;
  const layer = (4 - layerBits) as Mp3Info['layer'];
  const table = version === 1 ? `v1-l${layer}` : layer === 1 ? 'v2-l1' : 'v2-l23';
  const bitrateKbps = BITRATES_KBPS[table]![bitrateIndex]!;
  const sampleRate = SAMPLE_RATES[String(version)]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const samples = layer === 1 ? 384 : layer === 2 || version === 1 ? 1152 : 576;
  const bytesPerFrame =
    layer === 1
      ? (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + padding) * 4
      : Math.floor(((samples / 8) * bitrateKbps * 1000) / sampleRate) + padding;
  return { version, layer, sampleRate, channels: b3 >> 6 === 0b11 ? 1 : 2, bitrateKbps, samples, bytes: bytesPerFrame };
}

/** Where the audio starts: after an ID3v2 tag (10-byte header, syncsafe size, optional footer). */
function skipId3v2(bytes: Buffer): number {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 3) !== 'ID3') return 0;
  const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
  const footer = bytes[5]! & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/** True when two frames agree on what stays fixed in a stream (a false sync rarely does). */
const sameStream = (a: FrameHeader, b: FrameHeader) =>
  a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;

/** The first offset from `from` where a frame is followed by another of the same stream. */
function findStream(bytes: Buffer, from: number, limit: number): number | undefined {
  for (let offset = from; offset < Math.min(bytes.length - 4, limit); offset++) {
    const header = readFrameHeader(bytes, offset);
    if (!header) continue;
    const next = readFrameHeader(bytes, offset + header.bytes);
    if ((next && sameStream(header, next)) || offset + header.bytes === bytes.length) return offset;
  }
  return undefined;
}

/** A VBR header frame (Xing, Info or VBRI) carries no audio. */
function isVbrHeaderFrame(bytes: Buffer, offset: number, header: FrameHeader): boolean {
  const frame = bytes.toString('latin1', offset + 4, Math.min(offset + header.bytes, offset + 4 + 40));
  return /Xing|Info|VBRI/.test(frame);
}

/** Parses an MP3 held in memory. Throws when it holds no MPEG audio frames. */
export function parseMp3(bytes: Buffer): Mp3Info {
  const start = skipId3v2(bytes);
  const first = findStream(bytes, start, start + 64 * 1024);
  if (first === undefined) throw new Error('no MPEG audio frames found');
  const end =
    bytes.length >= 128 && bytes.toString('latin1', bytes.length - 128, bytes.length - 125) === 'TAG'
      ? bytes.length - 128
      : bytes.length;
  const stream = readFrameHeader(bytes, first)!;
  let offset = first;
  let frames = 0;
  let seconds = 0;
  let audioBytes = 0;
  while (offset + 4 <= end) {
    const header = readFrameHeader(bytes, offset);
    if (!header || !sameStream(header, stream)) {
      // Junk between frames (or a trailing tag): look for the stream again a little further on.
      const resumed = findStream(bytes, offset + 1, Math.min(end, offset + 4096));
      if (resumed === undefined) break;
      offset = resumed;
      continue;
    }
    if (offset + header.bytes > end) break; // a truncated last frame does not play
    if (!(frames === 0 && offset === first && isVbrHeaderFrame(bytes, offset, header))) {
      frames++;
      seconds += header.samples / header.sampleRate;
      audioBytes += header.bytes;
    }
    offset += header.bytes;
  }
  if (frames === 0) throw new Error('no MPEG audio frames found');
  return {
    version: stream.version,
    layer: stream.layer,
    sampleRate: stream.sampleRate,
    channels: stream.channels,
    frames,
    bitrateKbps: Math.round((audioBytes * 8) / seconds / 1000),
    durationSeconds: seconds,
    firstFrameOffset: first,
  };
}

export function readMp3Info(file: string): Mp3Info {
  return parseMp3(fs.readFileSync(file));
}

/**
 * Silent MPEG-1 layer 3 frames (a valid header, zeroed side info and data: every decoder plays
 * silence), for tests and examples: about `seconds` long, at a constant bit rate.
 */
export function encodeSilentMp3(
  seconds: number,
  options: { bitrateKbps?: number; sampleRate?: 44100 | 48000 | 32000; mono?: boolean } = {},
): Buffer {
  const bitrateKbps = options.bitrateKbps ?? 128;
  const sampleRate = options.sampleRate ?? 44100;
  const bitrateIndex = BITRATES_KBPS['v1-l3']!.indexOf(bitrateKbps);
  if (bitrateIndex <= 0) throw new Error(`${bitrateKbps} kbit/s is not an MPEG-1 layer 3 bit rate`);
  const rateIndex = SAMPLE_RATES['1']!.indexOf(sampleRate);
  const frames = Math.round((seconds * sampleRate) / 1152);
  const parts: Buffer[] = [];
  let carried = 0;
  for (let i = 0; i < frames; i++) {
    // Padding spreads the fractional byte of 44.1 kHz frames, as encoders do.
    const exact = (144 * bitrateKbps * 1000) / sampleRate;
    carried += exact - Math.floor(exact);
    const padding = carried >= 1 ? 1 : 0;
    if (padding) carried -= 1;
    const frame = Buffer.alloc(Math.floor(exact) + padding);
    frame[0] = 0xff;
    frame[1] = 0xfb; // MPEG-1, layer 3, no CRC
    frame[2] = (bitrateIndex << 4) | (rateIndex << 2) | (padding << 1);
    frame[3] = options.mono ? 0xc0 : 0x00;
    parts.push(frame);
  }
  return Buffer.concat(parts);
}
