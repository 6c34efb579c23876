import { LIMITS, PATHS } from './contracts';
import { DISPATCH_TIMEOUT } from './timing';
import { ACCOUNT_SID } from './twilio-sids';
import { audioSeconds } from './voice/audio-lengths';

/** Environment as Twilio's runtime hands it to a function (context). */
export type Env = Record<string, string | undefined>;

export interface ServiceConfig {
  accountSid: string;
  authToken: string;
  /** Set only for the local emulator: base URL that replaces https://<domain>.twilio.com. */
  apiBaseUrl?: string;
  syncServiceSid: string;
  backendUrl?: string;
  /** Standard Webhooks secrets, newest first; two are valid while a rotation is under way. */
  webhookSecrets: string[];
  /** Keys job ids derived from idempotency keys, so ids cannot be guessed. */
  jobIdSecret: string;
  jobTtlSeconds: number;
  defaultMaxHoldSeconds: number;
  holdMusicPath: string;
  /** How long the hold music plays (read from the asset at build time): one hold-loop period. */
  holdMusicSeconds: number;
  /** Default of /jobs/start's progressEveryTurns: speak progress every N hold-loop turns (0 = never). */
  progressEveryTurns: number;
  dispatchTimeoutMs: number;
  simulatedWorkSeconds: { min: number; max: number };
}

/** A setting is missing or malformed: the message names it. */
export class ConfigError extends Error {}

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function rangeSetting(env: Env, name: string, fallback: string): { min: number; max: number } {
  const raw = (env[name] ?? fallback).trim();
  const match = /^(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must look like "5-15" (seconds), got "${raw}"`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw new ConfigError(`${name}: the upper bound is below the lower one ("${raw}")`);
  return { min, max };
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads the service configuration; throws with the setting's name when one is malformed. */
export function loadConfig(env: Env): ServiceConfig {
  const accountSid = env.ACCOUNT_SID ?? '';
  if (!ACCOUNT_SID.test(accountSid)) {
    throw new ConfigError('ACCOUNT_SID is missing or malformed (AC followed by 32 hex digits)');
  }
  const authToken = env.AUTH_TOKEN ?? '';
  const webhookSecrets = [env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS]
    .map(blankToUndefined)
    .filter((s): s is string => s !== undefined);
  const backendUrl = blankToUndefined(env.BACKEND_URL);
  if (backendUrl && webhookSecrets.length === 0) {
    throw new ConfigError('BACKEND_URL is set but WEBHOOK_SECRET is not: dispatches and completions must be signed');
  }
  const holdMusicPath = blankToUndefined(env.HOLD_MUSIC_PATH) ?? PATHS.holdMusic;
  return {
    accountSid,
    authToken,
    apiBaseUrl: blankToUndefined(env.TWILIO_API_BASE_URL),
    syncServiceSid: blankToUndefined(env.SYNC_SERVICE_SID) ?? 'default',
    backendUrl,
    webhookSecrets,
    jobIdSecret: blankToUndefined(env.JOB_ID_SECRET) ?? webhookSecrets[0] ?? `${accountSid}:${authToken}`,
    jobTtlSeconds: intSetting(env, 'JOB_TTL_SECONDS', 86_400, 600, 31_536_000),
    defaultMaxHoldSeconds: intSetting(
      env,
      'DEFAULT_MAX_HOLD_SECONDS',
      300,
      LIMITS.minHoldSeconds,
      LIMITS.maxHoldSeconds,
    ),
    holdMusicPath,
    holdMusicSeconds: audioSeconds(holdMusicPath),
    progressEveryTurns: intSetting(env, 'PROGRESS_EVERY_TURNS', 0, 0, LIMITS.progressEveryTurns),
    dispatchTimeoutMs: intSetting(
      env,
      'DISPATCH_TIMEOUT_MS',
      DISPATCH_TIMEOUT.defaultMs,
      DISPATCH_TIMEOUT.minMs,
      DISPATCH_TIMEOUT.maxMs,
    ),
    simulatedWorkSeconds: rangeSetting(env, 'SIMULATED_WORK_SECONDS', '5-15'),
  };
}
