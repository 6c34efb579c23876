/**
 * Twilio's webhook connection overrides (docs: usage/webhooks/webhooks-connection-overrides): a
 * URL fragment such as `#rc=3&rp=4xx,5xx,ct,rt` that Twilio reads and never sends. `rc` is the
 * retry count (0-5), `rp` the failures worth a retry (`4xx`, `5xx`, `ct` connect timeout, `rt`
 * read timeout, `all`), `ct`/`rt`/`tt` timeouts in ms (connect, read, total with retries).
 *
 * The flow runner plays Voice's side: it strips the fragment before requesting and retries as
 * the overrides say. How long Twilio waits between attempts is not documented; the runner waits
 * RETRY_DELAY_MS (real time: a refusal lasts as long as the service's own executions, which run
 * in real time whatever the caller's time scale).
 */

export type RetryOn = '4xx' | '5xx' | 'ct' | 'rt';

export interface ConnectionOverrides {
  /** Further attempts after the first (rc). */
  retries: number;
  /** Failures that are retried (rp; `all` is every kind). */
  retryOn: ReadonlySet<RetryOn>;
  /** Per-attempt wait for an answer (rt), ms. */
  readTimeoutMs?: number;
  /** All attempts together (tt), ms. */
  totalTimeMs?: number;
}

export const RETRY_DELAY_MS = 1_000;
/** Twilio's documented limits. */
const MAX_RETRIES = 5;
const RETRY_KINDS: readonly RetryOn[] = ['4xx', '5xx', 'ct', 'rt'];
const TIMEOUT_RANGE = { rt: [100, 15_000], tt: [100, 15_000], ct: [100, 10_000] } as const;

export interface SplitUrl {
  /** The URL as requested: without its fragment. */
  url: string;
  /** The overrides its fragment set, if it set any. */
  overrides?: ConnectionOverrides;
  /** Values Twilio would refuse (e.g. error 11243, an invalid retry policy); they are ignored. */
  problems: string[];
}

/** Splits a URL into what is requested and the connection overrides of its fragment. */
export function splitConnectionOverrides(raw: string): SplitUrl {
  const at = raw.indexOf('#');
  if (at < 0) return { url: raw, problems: [] };
  const url = raw.slice(0, at);
  const params = new URLSearchParams(raw.slice(at + 1));
  const problems: string[] = [];
  let retries: number | undefined;
  const retryOn = new Set<RetryOn>();
  const timeouts: { rt?: number; tt?: number } = {};
  for (const [key, value] of params) {
    if (key === 'rc') {
      const count = Number(value);
      if (!Number.isInteger(count) || count < 0 || count > MAX_RETRIES)
        problems.push(`rc=${value} is not 0-${MAX_RETRIES}`);
      else retries = count;
    } else if (key === 'rp') {
      for (const kind of value.split(',').map((part) => part.trim())) {
        if (kind === 'all') RETRY_KINDS.forEach((each) => retryOn.add(each));
        else if ((RETRY_KINDS as readonly string[]).includes(kind)) retryOn.add(kind as RetryOn);
        else problems.push(`rp value "${kind}" is not one of 4xx, 5xx, ct, rt, all (Twilio error 11243)`);
      }
    } else if (key === 'rt' || key === 'tt' || key === 'ct') {
      const ms = Number(value);
      const [min, max] = TIMEOUT_RANGE[key];
      if (!Number.isInteger(ms) || ms < min || ms > max) problems.push(`${key}=${value} is not ${min}-${max} ms`);
      else if (key !== 'ct') timeouts[key] = ms; // a connect timeout cannot be told apart from the read one here
    }
  }
  if (retries === undefined && retryOn.size === 0 && timeouts.rt === undefined && timeouts.tt === undefined)
    return { url, problems };
  // Left out: rc is 1 by the page's defaults; for rp the runner assumes connect failures only.
  if (retryOn.size === 0) retryOn.add('ct');
  return {
    url,
    overrides: {
      retries: retries ?? 1,
      retryOn,
      ...(timeouts.rt ? { readTimeoutMs: timeouts.rt } : {}),
      ...(timeouts.tt ? { totalTimeMs: timeouts.tt } : {}),
    },
    problems,
  };
}

/** The kind of a failed attempt: an HTTP status, or a connection that failed (`ct`) or timed out (`rt`). */
export function failureKind(failure: { status: number } | { connection: 'failed' | 'timed-out' }): RetryOn | undefined {
  if ('connection' in failure) return failure.connection === 'failed' ? 'ct' : 'rt';
  if (failure.status >= 500 && failure.status <= 599) return '5xx';
  if (failure.status >= 400 && failure.status <= 499) return '4xx';
  return undefined;
}

/** The overrides as the fragment reads, for the timeline. */
export function describeOverrides(overrides: ConnectionOverrides): string {
  return `rc=${overrides.retries}, rp=${[...overrides.retryOn].join(',') || 'none'}`;
}
