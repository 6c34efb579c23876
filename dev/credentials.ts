import { fixedSid, isSid } from '../emulator/sids';
import type { EnvValues } from './env-file';

/** A fixed, obviously fake Account SID for the offline stack (valid shape, so the runtime accepts it). */
export const LOCAL_ACCOUNT_SID = fixedSid('AC');
export const LOCAL_AUTH_TOKEN = 'local';

/** True when env names a real Twilio account: an AC + 32 hex SID (not the local fake) and a token. */
export function hasRealCredentials(env: EnvValues): boolean {
  const sid = env.ACCOUNT_SID?.trim() ?? '';
  const token = env.AUTH_TOKEN?.trim() ?? '';
  return isSid(sid, 'AC') && sid !== LOCAL_ACCOUNT_SID && token !== '' && token !== LOCAL_AUTH_TOKEN;
}
