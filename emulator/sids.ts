/** Twilio-shaped identifiers: two-letter prefix + 32 hex digits. */
import { randomBytes } from 'node:crypto';

/** Account used when a request does not name one (Sync, Studio and control-API calls). */
export const DEFAULT_ACCOUNT_SID = 'AC00000000000000000000000000000000';

/** Sync service that stands for the `default` alias, so replies always carry a real IS sid. */
export const DEFAULT_SYNC_SERVICE_SID = 'IS00000000000000000000000000000000';

export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

export function isSid(value: string, prefix: string): boolean {
  return new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value);
}
