/**
 * Answers for HTTP requests that leave the local service: a Make HTTP Request widget, a Run
 * Function on another domain, TwiML or audio on another host. Offline there is nobody there, so
 * the user says what each URL answers (a JSON file, documented in README.md):
 *
 *   [ { "url": "https://api.example.com/customers/*", "method": "GET", "status": 200, "body": { "name": "Ada" } } ]
 *
 * `url` is the whole URL; `*` matches any run of characters; a pattern without `?` matches the URL
 * whatever its query. The first fixture that matches answers; `replies` (a list) answers the 1st,
 * 2nd, ... matching request in turn, the last one again after that. A request nobody answers is
 * an error naming the URL (UnmockedRequestError), unless the fixtures generate answers (--auto):
 * then `200 {}` (JSON) for Studio's HTTP widgets and TwiML that returns to the flow for Voice.
 */
import fs from 'node:fs';

export interface HttpFixtureReply {
  status?: number;
  /** An object or array is sent as JSON; a string as it is. */
  body?: unknown;
  contentType?: string;
  /** Answer after this long (Studio gives up after 10 s). */
  delayMs?: number;
}

export interface HttpFixture extends HttpFixtureReply {
  url: string;
  /** GET, POST, ...; any method when omitted. */
  method?: string;
  /** Answers in turn, instead of the single reply above. */
  replies?: HttpFixtureReply[];
}

/** What the request is for: the answer --auto generates depends on it. */
export type HttpPurpose = 'studio' | 'twiml' | 'audio';

export interface FixtureAnswer {
  status: number;
  contentType: string;
  body: string;
  delayMs: number;
  source: 'fixture' | 'generated';
}

export class UnmockedRequestError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
  ) {
    super(
      `unmocked HTTP request: ${method} ${url} (offline nothing answers it; give it an answer in the HTTP fixtures, --http FILE)`,
    );
    this.name = 'UnmockedRequestError';
  }
}

export class HttpFixtureError extends Error {}

/** One fixture list per run (the reply counters are the run's). */
export class HttpFixtures {
  private readonly used = new Map<HttpFixture, number>();
  private readonly patterns: Array<{ fixture: HttpFixture; pattern: RegExp; ignoresQuery: boolean }>;

  constructor(
    readonly fixtures: readonly HttpFixture[] = [],
    /** Answer unmatched requests with a plausible generated reply instead of failing (--auto). */
    readonly generate = false,
    /** Called for a generated answer, so the explorer can vary it (status per widget). */
    private readonly chooseGenerated?: (request: {
      widget: string;
      method: string;
      url: string;
      purpose: HttpPurpose;
    }) => { status: number; body: unknown } | undefined,
  ) {
    this.patterns = fixtures.map((fixture) => ({
      fixture,
      pattern: globToRegExp(fixture.url),
      ignoresQuery: !fixture.url.includes('?'),
    }));
  }

  /** A fresh copy for another run (same fixtures, counters reset). */
  fresh(): HttpFixtures {
    return new HttpFixtures(this.fixtures, this.generate, this.chooseGenerated);
  }

  answer(request: {
    widget: string;
    method: string;
    url: string;
    purpose: HttpPurpose;
    flowWebhook?: string;
  }): FixtureAnswer {
    const method = request.method.toUpperCase();
    const withoutQuery = request.url.split('?')[0]!;
    for (const { fixture, pattern, ignoresQuery } of this.patterns) {
      if (fixture.method && fixture.method.toUpperCase() !== method) continue;
      if (!pattern.test(ignoresQuery ? withoutQuery : request.url)) continue;
      const count = this.used.get(fixture) ?? 0;
      this.used.set(fixture, count + 1);
      const reply =
        fixture.replies && fixture.replies.length > 0
          ? fixture.replies[Math.min(count, fixture.replies.length - 1)]!
          : fixture;
      return { ...encode(reply), source: 'fixture' };
    }
    if (!this.generate) throw new UnmockedRequestError(method, request.url);
    const chosen = this.chooseGenerated?.(request);
    if (request.purpose === 'twiml') {
      const back = request.flowWebhook
        ? `<Redirect>${escapeXml(`${request.flowWebhook}?FlowEvent=return`)}</Redirect>`
        : '';
      return {
        status: 200,
        contentType: 'text/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?><Response>${back}</Response>`,
        delayMs: 0,
        source: 'generated',
      };
    }
    if (request.purpose === 'audio')
      return { status: 404, contentType: 'text/plain', body: '', delayMs: 0, source: 'generated' };
    return { ...encode({ status: chosen?.status ?? 200, body: chosen?.body ?? {} }), source: 'generated' };
  }
}

function encode(reply: HttpFixtureReply): Omit<FixtureAnswer, 'source'> {
  const body = reply.body;
  const isText = typeof body === 'string';
  return {
    status: reply.status ?? 200,
    contentType: reply.contentType ?? (isText ? 'text/plain' : 'application/json'),
    body: body === undefined ? '' : isText ? body : JSON.stringify(body),
    delayMs: reply.delayMs ?? 0,
  };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** Checks a parsed fixture list (an array, or `{"http": [...]}`); throws HttpFixtureError saying what is wrong. */
export function parseHttpFixtures(value: unknown, where = 'HTTP fixtures'): HttpFixture[] {
  const list = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null && Array.isArray((value as { http?: unknown }).http)
      ? (value as { http: unknown[] }).http
      : undefined;
  if (!list)
    throw new HttpFixtureError(
      `${where}: expected a list of {url, method?, status?, body?, contentType?, delayMs?, replies?}`,
    );
  return list.map((item, index) => {
    if (
      typeof item !== 'object' ||
      item === null ||
      typeof (item as HttpFixture).url !== 'string' ||
      (item as HttpFixture).url === ''
    ) {
      throw new HttpFixtureError(`${where}[${index}]: needs a "url" (a URL, * matches anything)`);
    }
    const fixture = item as HttpFixture;
    if (
      fixture.status !== undefined &&
      (!Number.isInteger(fixture.status) || fixture.status < 100 || fixture.status > 599)
    ) {
      throw new HttpFixtureError(`${where}[${index}]: "status" must be an HTTP status (100-599)`);
    }
    if (fixture.replies !== undefined && !Array.isArray(fixture.replies))
      throw new HttpFixtureError(`${where}[${index}]: "replies" must be a list`);
    return fixture;
  });
}

export function readHttpFixtures(file: string): HttpFixture[] {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HttpFixtureError(`cannot read HTTP fixtures ${file}: ${(error as Error).message}`);
  }
  return parseHttpFixtures(value, file);
}
