/**
 * Every .env key the project knows, in one list: what it is for and what happens to it at deploy.
 * `npm start` takes the keys the local stack sets itself from here (EMULATOR_OWNED_KEYS), and
 * deploy preflight refuses to upload the local-only ones. .env.example documents the service's.
 *
 * - `service`: read by the deployed functions; uploaded as a Variable (secrets belong here).
 * - `credential`: used by twilio-run to authenticate; twilio-run never uploads ACCOUNT_SID or
 *   AUTH_TOKEN (the deployed runtime provides its own).
 * - `local`: meaningful only on this machine; uploading it would point the deployed functions at
 *   the wrong place or do nothing, so preflight refuses it.
 */
export type EnvKeyScope = 'service' | 'credential' | 'local';

export interface EnvKey {
  scope: EnvKeyScope;
  /** The local stack (dev/local-stack.ts emulatorEnv) sets it; the user's value is ignored there. */
  emulatorSets?: boolean;
  what: string;
}

export const ENV_KEYS: Record<string, EnvKey> = {
  ACCOUNT_SID: {
    scope: 'credential',
    emulatorSets: true,
    what: 'Twilio Account SID (or an API key SID, SK...) twilio-run deploys with',
  },
  AUTH_TOKEN: { scope: 'credential', emulatorSets: true, what: 'the auth token (or API key secret) for ACCOUNT_SID' },
  TWILIO_API_BASE_URL: {
    scope: 'local',
    emulatorSets: true,
    what: 'points the functions at the local Twilio emulator',
  },
  SYNC_SERVICE_SID: {
    scope: 'service',
    emulatorSets: true,
    what: 'Sync service holding the job documents ("default" or IS...)',
  },
  PORT: { scope: 'local', what: 'port of `npm start`' },
  EMULATOR_PORT: { scope: 'local', what: 'port of the local Twilio emulator' },
  TWILIO_BEHAVIOUR: { scope: 'local', what: "how the emulator plays Twilio's unsettled behaviours" },
  DOMAIN_NAME: {
    scope: 'local',
    what: "the runtime's own; the local stack sets it to its concurrency gate so service URLs go through it",
  },
  BACKEND_URL: { scope: 'service', what: 'your backend; empty = the simulated backend' },
  WEBHOOK_SECRET: { scope: 'service', what: 'Standard Webhooks secret for dispatches and completions' },
  WEBHOOK_SECRET_PREVIOUS: { scope: 'service', what: 'previous webhook secret during a rotation' },
  JOB_ID_SECRET: { scope: 'service', what: 'keys job ids derived from idempotency keys' },
  JOB_TTL_SECONDS: { scope: 'service', what: 'lifetime of a job document' },
  DEFAULT_MAX_HOLD_SECONDS: { scope: 'service', what: 'longest hold when /jobs/start does not say' },
  HOLD_MUSIC_PATH: { scope: 'service', what: 'hold music asset path' },
  PROGRESS_EVERY_TURNS: { scope: 'service', what: 'speak backend progress every N hold-loop turns (0 = never)' },
  DISPATCH_TIMEOUT_MS: { scope: 'service', what: 'how long /jobs/start waits for the backend to accept' },
  SIMULATED_WORK_SECONDS: { scope: 'service', what: 'how long the simulated backend works' },
};

/** Keys the offline stack sets itself; values for a real account would point at the wrong place. */
export const EMULATOR_OWNED_KEYS = Object.entries(ENV_KEYS)
  .filter(([, key]) => key.emulatorSets)
  .map(([name]) => name);

export const LOCAL_ONLY_KEYS = Object.entries(ENV_KEYS)
  .filter(([, key]) => key.scope === 'local')
  .map(([name]) => name);
