/**
 * How long the caller listens: a Say lasts by its word count (about 150 words a minute, the pace
 * of Twilio's neural voices), a Play lasts as long as the audio file really is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseWav, readWavDurationSeconds } from '../../dev/wav';
import { throwIfInterrupted, withDeadline } from './clock';
import type { ServiceUrls } from './service-urls';

const WORDS_PER_SECOND = 2.5;
const SECONDS_PER_DIGIT = 0.5;
/** Used when a file's length cannot be read (not WAV, not reachable). */
export const UNKNOWN_AUDIO_SECONDS = 10;

export function sayDurationSeconds(text: string): number {
  const words = text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
  return words === 0 ? 0 : Math.max(0.5, Math.round((words / WORDS_PER_SECOND) * 10) / 10);
}

export function digitsDurationSeconds(digits: string): number {
  return digits.replace(/[^0-9*#wW]/g, '').length * SECONDS_PER_DIGIT;
}

export interface AudioLength {
  seconds: number;
  /** Set when the length is a guess. */
  note?: string;
}

/** Reads audio lengths; one instance per run, remembering what it read. */
export class AudioLengths {
  private readonly known = new Map<string, AudioLength>();

  constructor(
    private readonly urls: ServiceUrls,
    private readonly assetDirs: readonly string[],
    private readonly signal: AbortSignal,
  ) {}

  async of(url: string): Promise<AudioLength> {
    const cached = this.known.get(url);
    if (cached) return cached;
    const length = await this.measure(url);
    this.known.set(url, length);
    return length;
  }

  private async measure(url: string): Promise<AudioLength> {
    const local = this.localFile(url);
    if (local) {
      try {
        return { seconds: readWavDurationSeconds(local) };
      } catch (error) {
        return {
          seconds: UNKNOWN_AUDIO_SECONDS,
          note: `length of ${path.basename(local)} unknown (${(error as Error).message})`,
        };
      }
    }
    if (!this.urls.isLocal(url) && !/^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?\//.test(url)) {
      // Offline: a file on another host is not downloaded; Twilio would play it.
      return {
        seconds: UNKNOWN_AUDIO_SECONDS,
        note: `${url} is on another host: its length is taken as ${UNKNOWN_AUDIO_SECONDS} s`,
      };
    }
    const deadline = withDeadline(this.signal, 5000, 'audio download timed out');
    try {
      const response = await fetch(url, { signal: deadline.signal });
      if (!response.ok) return { seconds: UNKNOWN_AUDIO_SECONDS, note: `audio answered ${response.status}` };
      return { seconds: parseWav(Buffer.from(await response.arrayBuffer())).durationSeconds };
    } catch (error) {
      throwIfInterrupted(this.signal);
      return { seconds: UNKNOWN_AUDIO_SECONDS, note: `length unknown (${(error as Error).message})` };
    } finally {
      deadline.clear();
    }
  }

  /** The asset file behind a URL of the local service, if there is one. */
  private localFile(url: string): string | undefined {
    if (!this.urls.isLocal(url)) return undefined;
    const pathname = decodeURIComponent(new URL(url).pathname);
    for (const dir of this.assetDirs) {
      const file = path.join(dir, pathname);
      if (file.startsWith(path.resolve(dir) + path.sep) && fs.existsSync(file)) return file;
    }
    return undefined;
  }
}
