/**
 * The audio assets of the service: how long each plays (the hold loop's period follows the hold
 * music's real length) and whether Twilio's <Play> can play it. Read at build time (dev/build.ts
 * hands the lengths to the function bundles) and by the deploy preflight.
 *
 * Twilio's <Play> documentation lists the types it plays: audio/mpeg (MPEG layer 3), WAV
 * (audio/wav, audio/wave, audio/x-wav), AIFF, GSM and μ-law. This service accepts what it can
 * also measure: WAV holding 8- or 16-bit PCM, and MP3 (MPEG layer 3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { assetUrlPath } from './function-paths';
import { listFiles } from './list-files';
import { parseMp3 } from './mp3';
import { parseWav } from './wav';

/** Extensions this service measures and Twilio plays. */
export const PLAYABLE_AUDIO_EXTENSIONS = ['.wav', '.mp3'] as const;
/** Audio extensions of files that are not WAV or MP3 (Twilio plays a few of them, but their length cannot be read here). */
export const OTHER_AUDIO_EXTENSIONS = [
  '.ogg',
  '.oga',
  '.opus',
  '.flac',
  '.m4a',
  '.aac',
  '.mp4',
  '.webm',
  '.wma',
  '.aif',
  '.aiff',
  '.aifc',
  '.gsm',
  '.ulaw',
  '.au',
  '.mp2',
  '.amr',
];

export type AudioInspection =
  { ok: true; format: 'wav' | 'mp3'; durationSeconds: number; description: string } | { ok: false; problem: string };

const FIX = 'convert it to 16-bit PCM WAV or to MP3';

/** What a WAV or MP3 file is, or why Twilio would not play it (a clause to follow the file's name). */
export function inspectAudio(bytes: Buffer, extension: string): AudioInspection {
  const ext = extension.toLowerCase();
  if (ext === '.wav') {
    let info;
    try {
      info = parseWav(bytes);
    } catch (error) {
      return { ok: false, problem: `is not a readable WAV file (${(error as Error).message}): ${FIX}` };
    }
    if (info.formatName !== 'pcm') {
      return {
        ok: false,
        problem: `is a WAV file of ${info.formatName === 'other' ? `format 0x${info.audioFormat.toString(16)}` : `${info.formatName} audio`}, not PCM, and Twilio plays WAV files only as PCM: ${FIX}`,
      };
    }
    if (info.bitsPerSample !== 8 && info.bitsPerSample !== 16) {
      return {
        ok: false,
        problem: `is ${info.bitsPerSample}-bit PCM, and Twilio plays 8- or 16-bit PCM WAV files: ${FIX}`,
      };
    }
    if (info.dataBytes === 0) return { ok: false, problem: 'is a WAV file with no audio in it: export it again' };
    return {
      ok: true,
      format: 'wav',
      durationSeconds: info.durationSeconds,
      description: `WAV, ${info.bitsPerSample}-bit PCM, ${info.sampleRate} Hz, ${info.channels === 1 ? 'mono' : `${info.channels} channels`}`,
    };
  }
  if (ext === '.mp3') {
    let info;
    try {
      info = parseMp3(bytes);
    } catch (error) {
      return { ok: false, problem: `is not an MP3 file (${(error as Error).message}): ${FIX}` };
    }
    if (info.layer !== 3)
      return { ok: false, problem: `is MPEG layer ${info.layer} audio, and Twilio plays MP3 (MPEG layer 3): ${FIX}` };
    return {
      ok: true,
      format: 'mp3',
      durationSeconds: info.durationSeconds,
      description: `MP3, ${info.bitrateKbps} kbit/s, ${info.sampleRate} Hz`,
    };
  }
  return {
    ok: false,
    problem: `is a ${ext || 'extensionless'} file, and the hold loop needs a WAV (8- or 16-bit PCM) or MP3 file whose length it can read: ${FIX}`,
  };
}

export function inspectAudioFile(file: string): AudioInspection {
  return inspectAudio(fs.readFileSync(file), path.extname(file));
}

export const isPlayableAudioName = (file: string) =>
  (PLAYABLE_AUDIO_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
export const isOtherAudioName = (file: string) => OTHER_AUDIO_EXTENSIONS.includes(path.extname(file).toLowerCase());

/**
 * Seconds each playable audio file under `assetsDir` plays, by the path it is served at
 * (`/hold-music.wav`). Files that cannot be read are left out (the preflight refuses them).
 */
export function audioDurations(assetsDir: string): Record<string, number> {
  const durations: Record<string, number> = {};
  if (!fs.existsSync(assetsDir)) return durations;
  for (const file of listFiles(assetsDir).filter(isPlayableAudioName)) {
    const inspected = inspectAudioFile(file);
    if (!inspected.ok) continue;
    const served = assetUrlPath(path.relative(assetsDir, file));
    durations[served] = Math.round(inspected.durationSeconds * 1000) / 1000;
  }
  return durations;
}
