/**
 * Reading the URLs out of the TwiML our functions return, to follow them against the local
 * server the way Twilio would (tests and benchmarks; the flow runner has a full TwiML parser).
 */

/** An attribute of the first element that has it, unescaped (waitUrl, action, statusCallback). */
export function attribute(twiml: string, name: string): string | undefined {
  const match = new RegExp(`${name}="([^"]*)"`).exec(twiml);
  return match?.[1]?.replace(/&amp;/g, '&');
}

/** Path and query of an absolute URL, to call it on the local server. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** Path and query of the first <Redirect> of some TwiML. */
export function redirectTarget(twiml: string): string {
  const match = /<Redirect[^>]*>([^<]*)<\/Redirect>/.exec(twiml);
  if (!match) throw new Error(`no <Redirect> in ${twiml.slice(0, 300)}`);
  return pathOf(match[1]!.replace(/&amp;/g, '&'));
}
