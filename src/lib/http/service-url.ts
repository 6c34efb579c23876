import type { HandlerContext } from './handler';

/** Absolute URL of one of this service's paths (http only for the local server). */
export function serviceUrl(
  context: HandlerContext,
  path: string,
  query: Record<string, string | number | undefined> = {},
): string {
  const domain = context.DOMAIN_NAME;
  const scheme = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(domain) ? 'http' : 'https';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const suffix = search.toString();
  return `${scheme}://${domain}${path}${suffix ? `?${suffix}` : ''}`;
}
