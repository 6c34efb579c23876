/**
 * Twilio-shaped identifiers: two-letter prefix + 32 hex digits. The emulator's one home for SID
 * shapes.
 *
 * Kept apart from the service's table (src/lib/twilio-sids.ts) on purpose: the emulator is a
 * witness, written from Twilio's documentation. Sharing the table would let a wrong shape in the
 * service agree with itself in every test.
 */
import { randomBytes } from 'node:crypto';

const HEX_DIGITS = 32;

/** The SID with every hex digit `digit`, e.g. `AC000...0`: a fixed, obviously fake identifier. */
export function fixedSid(prefix: string, digit = '0'): string {
  return prefix + digit.repeat(HEX_DIGITS);
}

function zeroSid(prefix: string): string {
  return fixedSid(prefix);
}

/** Account used when a request does not name one (Sync, Studio and control-API calls). */
export const DEFAULT_ACCOUNT_SID = zeroSid('AC');

/** Sync service that stands for the `default` alias, so replies always carry a real IS sid. */
export const DEFAULT_SYNC_SERVICE_SID = zeroSid('IS');

export function newSid(prefix: string): string {
  return prefix + randomBytes(HEX_DIGITS / 2).toString('hex');
}

/** The SID shape as Twilio writes it (lowercase hex, as in the specs' patterns). */
export function sidPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}[0-9a-f]{${HEX_DIGITS}}$`);
}

/** A SID of that prefix, hex digits of either case (what the emulator's stores accept). */
export function isSid(value: string, prefix: string): boolean {
  return new RegExp(`^${prefix}[0-9a-fA-F]{${HEX_DIGITS}}$`).test(value);
}
