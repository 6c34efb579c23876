/**
 * Maps the service's URLs as a flow or TwiML names them to the local server: the
 * `https://__SERVICE_DOMAIN__/path` placeholder, the deployed domain, and Run Function widgets
 * whose URL is only a placeholder (resolved through their `__FUNCTION_SID_*__`).
 */
import { isSid } from '../../emulator/sids';
import { functionSidPlaceholder } from '../checker/service-functions';

const DOMAIN_PLACEHOLDER = '__SERVICE_DOMAIN__';
/** A run of letters and digits; a SID in running text is one on its own. */
const WORD = /[A-Za-z0-9]+/g;

export class ServiceUrls {
  private readonly base: string;
  private readonly baseHost: string;

  constructor(
    baseUrl: string,
    private readonly serviceDomain?: string,
    /** The service's function paths, or a function that lists them when first needed. */
    private readonly functionPaths: readonly string[] | (() => readonly string[]) = [],
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.baseHost = new URL(this.base).host;
  }

  /** The URL to request: service URLs are moved onto the local base URL, others stay. */
  resolve(url: string): string {
    const trimmed = url.trim();
    for (const domain of [DOMAIN_PLACEHOLDER, this.serviceDomain]) {
      if (!domain) continue;
      for (const scheme of ['https://', 'http://']) {
        const prefix = `${scheme}${domain}`;
        if (trimmed === prefix || trimmed.startsWith(`${prefix}/`) || trimmed.startsWith(`${prefix}?`)) {
          return this.base + trimmed.slice(prefix.length);
        }
      }
    }
    if (trimmed.startsWith('/')) return this.base + trimmed; // relative to the service
    return trimmed;
  }

  /**
   * A Run Function widget's URL. When `url` is not a URL (an unfilled placeholder), the function
   * is found by its `__FUNCTION_SID_*__` placeholder among the service's function paths.
   */
  resolveFunction(url: unknown, functionSid: unknown): string | undefined {
    if (typeof url === 'string' && /^(https?:\/\/|\/)/.test(url.trim())) return this.resolve(url);
    if (typeof functionSid !== 'string') return undefined;
    const paths = typeof this.functionPaths === 'function' ? this.functionPaths() : this.functionPaths;
    const path = paths.find((candidate) => functionSidPlaceholder(candidate) === functionSid);
    return path === undefined ? undefined : this.base + path;
  }

  /** True for URLs served by the local service (its assets can be read from disk). */
  isLocal(url: string): boolean {
    try {
      const parsed = new URL(url);
      return (
        parsed.host === this.baseHost ||
        (/^(localhost|127\.0\.0\.1|\[::1\])$/.test(parsed.hostname) && parsed.port === new URL(this.base).port)
      );
    } catch {
      return false;
    }
  }

  /** A short form for the timeline: path and query for the service's URLs, SIDs abbreviated. */
  display(url: string): string {
    let shown = url;
    try {
      const parsed = new URL(url);
      if (this.isLocal(url)) shown = parsed.pathname + parsed.search;
    } catch {
      // not a URL: shown as it is
    }
    return abbreviateSids(shown);
  }
}

/** A SID as Twilio writes it: a two-capital prefix, then its hex digits in lower case. */
function isWrittenSid(word: string): boolean {
  const prefix = word.slice(0, 2);
  const digits = word.slice(2);
  return /^[A-Z]{2}$/.test(prefix) && isSid(word, prefix) && digits === digits.toLowerCase();
}

/** `JB0123...cdef` (34 characters) -> `JB0123…cdef`, so timelines stay readable. */
export function abbreviateSids(text: string): string {
  return text.replace(WORD, (word) => (isWrittenSid(word) ? `${word.slice(0, 6)}…${word.slice(-4)}` : word));
}
