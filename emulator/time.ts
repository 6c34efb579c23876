/** Clock and the two date formats Twilio uses (ISO 8601 in v1/v2 APIs, RFC 2822 in 2010-04-01). */

/** Milliseconds since the epoch; injectable so tests can move time (TTL expiry, date filters). */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** `2026-11-21T19:16:43Z`: Twilio's v1/v2 APIs send whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `Sat, 21 Nov 2026 19:16:43 +0000`: the 2010-04-01 API's date format. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`
  );
}

/** `YYYY-MM-DD` in UTC, the form of the 2010 API's DateCreated filters. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
