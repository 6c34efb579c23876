import { createHash } from 'node:crypto';
import type { JobRecord } from '../jobs/job';

/** What one hold-loop turn says before the music. */
export interface ProgressSpeech {
  text: string;
  voice?: string;
  language?: string;
  /** Short fingerprint of the text; the next turn's URL carries it so the same text is not said twice in a row. */
  key: string;
}

/** Fingerprint of a spoken text (travels in the waitUrl: short, URL-safe, reveals nothing). */
export const speechKey = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 10);

/**
 * The progress phrase for a percentage, in English only: for a caller whose language is another
 * one only the backend's own message is spoken. Rounded to tens, so a caller hears a change.
 */
export function progressPhrase(progress: number | undefined, language: string | undefined): string | undefined {
  if (progress === undefined || !Number.isFinite(progress)) return undefined;
  if (language !== undefined && !/^en(-|$)/i.test(language)) return undefined;
  if (progress < 5) return undefined;
  if (progress >= 95) return 'Almost done.';
  return `About ${Math.round(progress / 10) * 10} percent done.`;
}

export interface SpeechTurn {
  /** The hold-loop turn (0 for the first waitUrl request). */
  turn: number;
  /** The service-wide default (PROGRESS_EVERY_TURNS) when the job does not say. */
  defaultEveryTurns: number;
  /** Key of what the previous speaking turn said (from the waitUrl). */
  lastKey?: string;
  /** What a poll of the backend reported on this turn (not stored). */
  polled?: { progress?: number; message?: string };
}

/**
 * What this turn says, if anything: every N turns (the job's progressEveryTurns, else the
 * service default; 0 = never), the backend's latest message, else its progress as a phrase, in
 * the job's voice and language; nothing when that is what the last speaking turn said.
 */
export function progressSpeech(job: JobRecord, turn: SpeechTurn): ProgressSpeech | undefined {
  const every = job.progressEveryTurns ?? turn.defaultEveryTurns;
  if (!(every > 0) || turn.turn % every !== 0) return undefined;
  const message = turn.polled?.message ?? job.message;
  const text = message ?? progressPhrase(turn.polled?.progress ?? job.progress, job.progressLanguage);
  if (text === undefined) return undefined;
  const key = speechKey(text);
  if (key === turn.lastKey) return undefined;
  return {
    text,
    key,
    ...(job.progressVoice ? { voice: job.progressVoice } : {}),
    ...(job.progressLanguage ? { language: job.progressLanguage } : {}),
  };
}
