/** What a deploy publishes, by path: the seven functions with their visibility, and the hold music. */
export const PUBLISHED = [
  { kind: 'function', path: '/hold', visibility: 'protected' },
  { kind: 'asset', path: '/hold-music.wav', visibility: 'public' },
  { kind: 'function', path: '/hold/events', visibility: 'protected' },
  { kind: 'function', path: '/hold/wait', visibility: 'protected' },
  { kind: 'function', path: '/jobs/complete', visibility: 'public' },
  { kind: 'function', path: '/jobs/result', visibility: 'protected' },
  { kind: 'function', path: '/jobs/start', visibility: 'protected' },
  { kind: 'function', path: '/jobs/status', visibility: 'protected' },
];
