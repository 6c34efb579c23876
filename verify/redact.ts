/**
 * The redaction pass every record goes through before it is written: no secrets, no SIDs and no
 * phone numbers may reach a record (it is meant to be committed and shared).
 *
 * - any Twilio SID (two capital letters + 32 hex digits: AC, CA, CF, FW, FN, ZS, ZE, ZH, IS, ET, PN, ...)
 *   becomes `<CA>` (its kind stays, which is evidence; its value goes);
 * - any E.164 number (+ and 7 to 15 digits) becomes `<phone>`;
 * - every secret named by the run (auth token, API key secret, the probe key, the throwaway
 *   service's domain and name) becomes `<secret>` / `<domain>`, wherever it appears.
 */
export const SID_PATTERN = /(?<![A-Za-z0-9])([A-Z]{2})[0-9a-fA-F]{32}(?![A-Za-z0-9])/g;
export const E164_PATTERN = /(?<![\w+])\+[1-9]\d{6,14}(?!\d)/g;

export interface Redactions {
  /** Values that must never appear: replaced by `<secret>`. */
  secrets: string[];
  /** Values that name the user's resources (domain, service name): replaced by the label given. */
  names?: Array<{ value: string; label: string }>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function redactText(text: string, redactions: Redactions): string {
  let out = text;
  const secrets = [...new Set(redactions.secrets.filter((secret) => secret.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  for (const secret of secrets) {
    out = out.replace(new RegExp(escapeRegExp(secret), 'g'), '<secret>');
    // also URL-encoded, as it would appear in a query
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.replace(new RegExp(escapeRegExp(encoded), 'g'), '<secret>');
  }
  for (const { value, label } of [...(redactions.names ?? [])]
    .filter((n) => n.value.length >= 4)
    .sort((a, b) => b.value.length - a.value.length)) {
    out = out.replace(new RegExp(escapeRegExp(value), 'gi'), label);
  }
  out = out.replace(SID_PATTERN, (_whole, prefix: string) => `<${prefix}>`);
  out = out.replace(/%2B([1-9]\d{6,14})(?!\d)/gi, '<phone>');
  out = out.replace(E164_PATTERN, '<phone>');
  return out;
}

/** Redacts every string (keys too) of a JSON value. */
export function redactValue<T>(value: T, redactions: Redactions): T {
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return redactText(item, redactions);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>).map(([key, v]) => [redactText(key, redactions), walk(v)]),
      );
    }
    return item;
  };
  return walk(value) as T;
}

/** What a scan of a written record found that should not be there (empty = clean). */
export function findLeaks(text: string, secrets: string[] = []): string[] {
  const leaks: string[] = [];
  for (const match of text.matchAll(SID_PATTERN)) leaks.push(`SID ${match[0].slice(0, 2)}…`);
  for (const match of text.matchAll(E164_PATTERN)) leaks.push(`phone number ${match[0].slice(0, 3)}…`);
  for (const secret of secrets) if (secret.length >= 4 && text.includes(secret)) leaks.push('a secret of the run');
  return leaks;
}
