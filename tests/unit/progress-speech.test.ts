import { loadConfig, ConfigError } from '../../src/lib/config';
import type { JobRecord } from '../../src/lib/jobs/job';
import { progressPhrase, progressSpeech, speechKey } from '../../src/lib/voice/progress-speech';

const job = (over: Partial<JobRecord> = {}): JobRecord => ({
  v: 1,
  jobId: 'JB' + '0'.repeat(32),
  status: 'PENDING',
  inputHash: 'h',
  createdAt: 0,
  deadline: 60_000,
  mode: 'push',
  ...over,
});

describe('what a hold-loop turn says', () => {
  it('speaks every N turns, the message before the progress, and not the same text twice in a row', () => {
    const j = job({ progressEveryTurns: 3, message: 'Checking', progress: 50 });
    expect(progressSpeech(j, { turn: 1, defaultEveryTurns: 0 })).toBeUndefined();
    const said = progressSpeech(j, { turn: 3, defaultEveryTurns: 0 });
    expect(said).toEqual({ text: 'Checking', key: speechKey('Checking') });
    expect(progressSpeech(j, { turn: 6, defaultEveryTurns: 0, lastKey: said!.key })).toBeUndefined();
    expect(progressSpeech(job({ progressEveryTurns: 1, progress: 50 }), { turn: 7, defaultEveryTurns: 0 })?.text).toBe(
      'About 50 percent done.',
    );
  });

  it('uses the service default when the job does not say, and 0 means never', () => {
    expect(progressSpeech(job({ message: 'Hi' }), { turn: 2, defaultEveryTurns: 2 })?.text).toBe('Hi');
    expect(progressSpeech(job({ message: 'Hi' }), { turn: 2, defaultEveryTurns: 0 })).toBeUndefined();
    expect(
      progressSpeech(job({ message: 'Hi', progressEveryTurns: 0 }), { turn: 2, defaultEveryTurns: 2 }),
    ).toBeUndefined();
  });

  it('prefers what a poll just reported, and carries the voice and language', () => {
    const said = progressSpeech(
      job({ progressEveryTurns: 1, message: 'old', progressVoice: 'Polly.Lupe-Neural', progressLanguage: 'es-US' }),
      {
        turn: 0,
        defaultEveryTurns: 0,
        polled: { message: 'nuevo' },
      },
    );
    expect(said).toMatchObject({ text: 'nuevo', voice: 'Polly.Lupe-Neural', language: 'es-US' });
  });

  it('phrases progress in English only, rounded to tens', () => {
    expect(progressPhrase(3, undefined)).toBeUndefined();
    expect(progressPhrase(57, 'en-US')).toBe('About 60 percent done.');
    expect(progressPhrase(99, 'en-GB')).toBe('Almost done.');
    expect(progressPhrase(57, 'de-DE')).toBeUndefined();
  });
});

describe('PROGRESS_EVERY_TURNS', () => {
  const env = { ACCOUNT_SID: 'AC' + '0'.repeat(32), AUTH_TOKEN: 't' };
  it('defaults to 0 and takes 0-100', () => {
    expect(loadConfig(env).progressEveryTurns).toBe(0);
    expect(loadConfig({ ...env, PROGRESS_EVERY_TURNS: '3' }).progressEveryTurns).toBe(3);
    expect(() => loadConfig({ ...env, PROGRESS_EVERY_TURNS: '101' })).toThrow(ConfigError);
  });
});
