/**
 * The state of one run: clock, interruption signal, Liquid context, what the caller heard, the
 * timeline, and HTTP requests with Studio's limits. Everything a widget needs hangs off this;
 * nothing is module-level, so any number of runs can go at once.
 */
import twilio from 'twilio';
import { sleepUnless, RunClock, RunInterrupted, throwIfInterrupted, withDeadline, type Interruption } from './clock';
import { AudioLengths } from './audio';
import { HttpFixtures, type HttpPurpose } from './http-fixtures';
import type { ServiceUrls } from './service-urls';
import type { StudioContext } from './studio-context';
import type {
  EntryKind,
  FlexTask,
  FlowAction,
  HeardAudio,
  HttpExchange,
  RoomStay,
  SentMessage,
  TimelineEntry,
} from './types';

export interface HttpRequest {
  widget: string;
  method: string;
  url: string;
  /** Sent as application/x-www-form-urlencoded (Studio parameters, Twilio webhooks). */
  form?: Array<[string, string]>;
  json?: string;
  timeoutMs: number;
  /** Larger bodies are a failure (Studio's 64 KB). */
  maxBytes?: number;
  /** What the reply is for (default `studio`): an answer --auto generates depends on it. */
  purpose?: HttpPurpose;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
  durationMs: number;
}

/** The request got no usable reply: timeout, connection failure, or a body over the limit. */
export class HttpFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'network' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

export interface ExecutionOptions {
  context: StudioContext;
  urls: ServiceUrls;
  assetDirs: readonly string[];
  timeScale: number;
  onEntry?: (entry: TimelineEntry) => void;
  /** Answers for hosts other than the local service; default: none (every such request fails). */
  http?: HttpFixtures;
}

/** Loopback hosts are real servers on this machine (the service, a test's fake): requested for real. */
function isLoopback(url: string): boolean {
  try {
    return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

export class Execution {
  readonly clock = new RunClock();
  readonly timeline: TimelineEntry[] = [];
  readonly heard: HeardAudio[] = [];
  readonly messages: SentMessage[] = [];
  readonly flexTasks: FlexTask[] = [];
  readonly actions: FlowAction[] = [];
  readonly requests: HttpExchange[] = [];
  readonly rooms: RoomStay[] = [];
  /** The Liquid context of the flow running now (a subflow's while it runs). */
  context: StudioContext;
  readonly urls: ServiceUrls;
  readonly fixtures: HttpFixtures;
  readonly audio: AudioLengths;
  readonly timeScale: number;
  private readonly controller = new AbortController();
  private readonly onEntry?: (entry: TimelineEntry) => void;

  constructor(options: ExecutionOptions) {
    this.context = options.context;
    this.urls = options.urls;
    this.timeScale = options.timeScale;
    this.onEntry = options.onEntry;
    this.fixtures = options.http ?? new HttpFixtures();
    this.audio = new AudioLengths(options.urls, options.assetDirs, this.signal);
  }

  /** Aborts when the run is interrupted (hang-up, run timeout, stopped from outside). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  interrupt(interruption: Interruption): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunInterrupted(interruption));
  }

  /** Records something the flow did that nobody hears (a recording, a stream, a queue, ...). */
  act(widget: string, type: string, text: string): void {
    this.actions.push({ atMs: this.clock.now(), widget, type, text });
  }

  /** Requests to this URL leave the machine: they are answered from the HTTP fixtures. */
  isExternal(url: string): boolean {
    return !this.urls.isLocal(url) && !isLoopback(url);
  }

  log(widget: string, kind: EntryKind, text: string, depth: 0 | 1 = 0): void {
    const entry: TimelineEntry = { atMs: this.clock.now(), widget, kind, text, depth };
    this.timeline.push(entry);
    this.onEntry?.(entry);
  }

  /**
   * The caller listens to something for `seconds` (scaled by timeScale). Stops early when `early`
   * settles (released from a room); records what was heard, also when interrupted.
   */
  async listen(
    widget: string,
    audio: Pick<HeardAudio, 'kind' | 'content'> & { seconds: number },
    options: { early?: Promise<unknown>; signal?: AbortSignal; depth?: 0 | 1; label?: string } = {},
  ): Promise<HeardAudio> {
    const signal = options.signal ?? this.signal;
    const heard: HeardAudio = {
      atMs: this.clock.now(),
      widget,
      kind: audio.kind,
      content: audio.content,
      fullSeconds: audio.seconds,
      heardSeconds: 0,
    };
    this.heard.push(heard);
    if (options.label) this.log(widget, 'audio', options.label, options.depth ?? 0);
    const began = Date.now();
    const measure = () => Math.round(((Date.now() - began) / 1000 / this.timeScale) * 10) / 10;
    try {
      const cut = await sleepUnless(
        audio.seconds * 1000 * this.timeScale,
        options.early ?? new Promise(() => undefined),
        signal,
      );
      heard.heardSeconds = cut ? Math.min(measure(), audio.seconds) : audio.seconds;
      if (cut) heard.cutShortBy = 'released';
      return heard;
    } catch (error) {
      heard.heardSeconds = Math.min(measure(), audio.seconds);
      if (error instanceof RunInterrupted) {
        const kind = error.interruption.kind;
        heard.cutShortBy =
          kind === 'hangup'
            ? 'hangup'
            : kind === 'widget-timeout'
              ? 'timeout'
              : kind === 'redirected'
                ? 'redirected'
                : 'run-ended';
      }
      throw error;
    }
  }

  /** One HTTP request, recorded, within a timeout; rejects with HttpFailure or RunInterrupted. */
  async http(request: HttpRequest, signal: AbortSignal = this.signal): Promise<HttpReply> {
    throwIfInterrupted(signal);
    const exchange: HttpExchange = {
      atMs: this.clock.now(),
      widget: request.widget,
      method: request.method,
      url: request.url,
      durationMs: 0,
    };
    this.requests.push(exchange);
    const began = Date.now();
    if (this.isExternal(request.url)) return this.fromFixtures(request, exchange, signal);
    const deadline = withDeadline(signal, request.timeoutMs, 'timeout');
    try {
      const url = requestUrl(request);
      const response = await fetch(url, fetchInit(request, url, deadline.signal));
      const bytes = Buffer.from(await response.arrayBuffer());
      exchange.status = response.status;
      exchange.durationMs = Date.now() - began;
      if (request.maxBytes !== undefined && bytes.length > request.maxBytes) {
        throw new HttpFailure('too-large', `reply of ${bytes.length} bytes is over the ${request.maxBytes}-byte limit`);
      }
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: bytes.toString('utf8'),
        durationMs: exchange.durationMs,
      };
    } catch (error) {
      exchange.durationMs = Date.now() - began;
      throwIfInterrupted(signal);
      if (error instanceof HttpFailure) {
        exchange.error = error.message;
        throw error;
      }
      const timedOut = deadline.signal.aborted;
      const failure = timedOut
        ? new HttpFailure('timeout', `no reply within ${request.timeoutMs / 1000} s`)
        : new HttpFailure('network', `request failed: ${describeFetchError(error)}`);
      exchange.error = failure.message;
      throw failure;
    } finally {
      deadline.clear();
    }
  }

  /** A request to another host, answered from the fixtures (or generated); UnmockedRequestError when none answers. */
  private async fromFixtures(request: HttpRequest, exchange: HttpExchange, signal: AbortSignal): Promise<HttpReply> {
    const { accountSid, flowSid } = this.context.ids;
    const url = requestUrl(request);
    let answer;
    try {
      answer = this.fixtures.answer({
        widget: request.widget,
        method: request.method,
        url,
        purpose: request.purpose ?? 'studio',
        flowWebhook: `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}`,
      });
    } catch (error) {
      exchange.error = (error as Error).message;
      throw error;
    }
    exchange.mocked = answer.source;
    if (answer.delayMs > 0)
      await sleepUnless(Math.min(answer.delayMs, request.timeoutMs), new Promise(() => undefined), signal);
    exchange.durationMs = Math.min(answer.delayMs, request.timeoutMs);
    if (answer.delayMs >= request.timeoutMs) {
      exchange.error = `no reply within ${request.timeoutMs / 1000} s`;
      throw new HttpFailure('timeout', exchange.error);
    }
    exchange.status = answer.status;
    const bytes = Buffer.byteLength(answer.body);
    if (request.maxBytes !== undefined && bytes > request.maxBytes) {
      exchange.error = `reply of ${bytes} bytes is over the ${request.maxBytes}-byte limit`;
      throw new HttpFailure('too-large', exchange.error);
    }
    return {
      status: answer.status,
      contentType: answer.contentType,
      body: answer.body,
      durationMs: exchange.durationMs,
    };
  }
}

/** The URL requested: a GET carries its form in the query string. */
function requestUrl(request: HttpRequest): string {
  if (!request.form || request.method !== 'GET') return request.url;
  const target = new URL(request.url);
  for (const [key, value] of request.form) target.searchParams.append(key, value);
  return target.toString();
}

/** The fetch options: the body (form or JSON) and, when a token is configured, Twilio's signature. */
function fetchInit(request: HttpRequest, url: string, signal: AbortSignal): RequestInit {
  const init: RequestInit = { method: request.method, signal, redirect: 'follow' };
  const posted = request.form && request.method !== 'GET' ? request.form : undefined;
  if (posted) {
    init.body = new URLSearchParams(posted);
  } else if (!request.form && request.json !== undefined) {
    init.body = request.json;
    init.headers = { 'content-type': 'application/json' };
  }
  // Signed as Twilio signs (the URL requested, the POST params) when a token is configured.
  const signingToken = process.env.STUDIO_RUNNER_AUTH_TOKEN; // set by `npm run call -- --deployed`
  if (signingToken) {
    const params = (posted ?? []).reduce<Record<string, string[]>>(
      (all, [k, v]) => ({ ...all, [k]: [...(all[k] ?? []), v] }),
      {},
    );
    init.headers = {
      ...(init.headers as Record<string, string>),
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(signingToken, url, params),
    };
  }
  return init;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
