/**
 * Twilio Voice's side of a call that a TwiML Redirect widget handed out of Studio: fetch the
 * TwiML, act on it (Say, Play, Pause, Redirect, Dial Conference, Hangup) until it redirects back
 * to Studio's webhook or the call ends.
 *
 * A Dial into a conference joins the room through the emulator, then plays the room's waitUrl
 * loop while the caller waits alone; every wait lasts the audio's real length but ends the
 * moment the emulator reports the call released. Whether the Dial's timeLimit bounds the room
 * is the behaviour profile's (V10); when the Dial ends, its action URL is requested and its TwiML
 * followed.
 *
 * When the first document cannot be fetched or used, Voice requests the number's Fallback URL if
 * there is one, else the caller hears the application error and the call ends (the widget's
 * `fail` does not fire: Studio never made that request). On an emulator that registers calls, a
 * REST update of the call (Url or Twiml) pre-empts whatever Voice is doing, in a room or not.
 * A URL's fragment is Twilio's (webhook connection overrides, connection-overrides.ts): never
 * requested, and its retries are played (for a waitUrl, as the profile says).
 */
import { isSid } from '../../emulator/sids';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { RunInterrupted, sleepUnless, throwIfInterrupted, unlessInterrupted, waitInRun, withDeadline } from './clock';
import { digitsDurationSeconds, sayDurationSeconds } from './audio';
import { ControlError, type EmulatorControl, type Release } from './emulator-control';
import { HttpFailure, type Execution } from './execution';
import {
  describeOverrides,
  failureKind,
  type ConnectionOverrides,
  RETRY_DELAY_MS,
  splitConnectionOverrides,
  type RetryOn,
} from './connection-overrides';
import { describeVerb, parseTwiml, TwimlParseError, type TwimlElement } from './twiml';
import type { RoomStay } from './types';

/** Twilio Voice waits this long for a TwiML document. */
const TWIML_FETCH_TIMEOUT_MS = 15_000;
/** Bounds a TwiML loop that never plays anything (Twilio would also give up). */
const MAX_DOCUMENTS_PER_REDIRECT = 2_000;
const DEFAULT_TIME_LIMIT_SECONDS = 14_400;
/** Studio's webhook for a flow, as a `<Redirect>` names it: `…/Accounts/AC…/Flows/FW…`, a query allowed. */
const STUDIO_WEBHOOK = /^https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/([^/]+)\/Flows\/([^/?]+)\/?(\?.*)?$/;

/** The account and flow of a URL that is Studio's webhook, else undefined. */
function studioWebhook(url: string): { accountSid: string; flowSid: string } | undefined {
  const [, accountSid, flowSid] = STUDIO_WEBHOOK.exec(url) ?? [];
  return accountSid && flowSid && isSid(accountSid, 'AC') && isSid(flowSid, 'FW') ? { accountSid, flowSid } : undefined;
}

/** What Twilio says when it cannot get usable TwiML and there is no Fallback URL. */
export const APPLICATION_ERROR = 'An application error has occurred.';

export type TwimlOutcome =
  /** a `<Redirect>` to the flow's webhook: the widget's `return`, with the query's extra keys */
  { kind: 'returned'; params: Record<string, string> } | { kind: 'call-ended'; reason: string };

/** A release as a room (or the pre-emption of a document) sees it. */
interface ReleaseWatch {
  released: Promise<Release | null>;
  current(): Release | null;
  stop(): void;
}

/** A watch fed by the call's numbered release feed (one room's stay). */
function inbox(): ReleaseWatch & { deliver(release: Release): void } {
  let found: Release | null = null;
  let settle!: (release: Release | null) => void;
  const released = new Promise<Release | null>((resolve) => (settle = resolve));
  return {
    released,
    current: () => found,
    stop: () => settle(null),
    deliver: (release) => {
      if (found) return;
      found = release;
      settle(release);
    },
  };
}

type Background = {
  widget: string;
  outcome: Promise<TwimlOutcome | { kind: 'interrupted'; error: unknown }>;
  settled: boolean;
  stop(reason: string): void;
};

/** The next TwiML: fetched from a URL (`label` says why, for the timeline) or given inline (REST update). */
type Document =
  { url: string; method: string; params?: Record<string, string>; label?: string } | { twiml: string; from: string };
type VerbsResult = TwimlOutcome | { kind: 'document'; document: Document };
type Unusable = { kind: 'unusable'; reason: string };

/** The caller's stay in one room of a `<Dial><Conference>`. */
interface RoomVisit {
  widget: string;
  /** The `<Dial>` and its `<Conference>`. */
  verb: TwimlElement;
  conference: TwimlElement;
  timeLimit: number;
  watch: ReleaseWatch;
  stay: RoomStay;
  /** Ends the stay (once), with the reason. */
  leave(because: string): void;
  /** Epoch ms when the caller was in the room. */
  joinedAt: number;
  /** Nobody else in the room yet: the waitUrl plays. */
  alone: boolean;
}

type DialResult =
  | { kind: 'dial-ended'; status: string; seconds: number }
  | { kind: 'redirected'; document: Document }
  | { kind: 'call-ended'; reason: string };

export interface VoiceCallOptions {
  execution: Execution;
  control?: EmulatorControl;
  accountSid: string;
  flowSid: string;
  callSid: string;
  /** Parameters Twilio sends with every request about this call. */
  callParams: Record<string, string>;
  joinDelayMs: number;
  /** Called once each time the caller is in a room. */
  onJoinedRoom?: () => void;
  behaviour: TwilioBehaviour;
  /** The number's Fallback URL, requested when the first document cannot be used. */
  fallbackUrl?: string;
}

/** Where the call is now: in a room (waiting) or not. One per run. */
export class VoiceCall {
  /** Set while the caller is in a conference. */
  room: { conferenceSid: string; friendlyName: string } | null = null;
  /** Set once the caller hung up; the Dial action is then requested with the call completed. */
  hungUp = false;
  /**
   * The Flow SID of the subflow running now (Run Subflow), if any. Studio runs a subflow in the
   * parent's execution; whether a TwiML Redirect inside it returns through the parent's webhook
   * or the subflow's is not documented, so a return to either is this execution's.
   */
  subflowSid: string | undefined;
  private hangupDone: Promise<void> = Promise.resolve();
  private joinedOnce = false;
  /** The emulator knows the call from its start (POST /_emulator/calls) and numbers its releases. */
  private registered = false;
  /** The highest release number seen: a release is followed once. */
  private lastSeq = 0;
  /** Set while a Dial is joining or in a room: the call's releases go to it. */
  private roomInbox?: ReturnType<typeof inbox>;
  /** Set while Voice works on a document: a REST redirect abandons it. */
  private preemptDocument?: (release: Release) => void;
  /** The Studio webhook URL of our own take-back (S4), whose release is not a pre-emption. */
  private ownTakeback?: string;
  /** Voice still following a widget's TwiML after Studio moved on (its timeout passed, no take-back). */
  private background?: Background;
  private timeLimitNoted = false;
  private readonly notedOnce = new Set<string>();
  private readonly execution: Execution;

  constructor(private readonly options: VoiceCallOptions) {
    this.execution = options.execution;
  }

  get callSid(): string {
    return this.options.callSid;
  }

  get behaviour(): TwilioBehaviour {
    return this.options.behaviour;
  }

  /**
   * The call starts: the emulator learns of it (in progress), so REST updates reach it at any
   * moment. An older emulator without the route learns of it only when it joins a room.
   */
  async register(): Promise<void> {
    const control = this.options.control;
    if (!control) return;
    try {
      const answer = await control.createCall({
        callSid: this.options.callSid,
        from: this.options.callParams.From,
        to: this.options.callParams.To,
      });
      this.registered = answer === 'registered';
      if (!this.registered) {
        this.execution.log(
          '(call)',
          'note',
          'the emulator has no POST /_emulator/calls: it knows the call only once it joins a room, and REST redirects outside a room are not seen',
        );
      }
    } catch (error) {
      this.execution.log('(call)', 'note', `the emulator did not register the call: ${(error as Error).message}`);
    }
  }

  /**
   * The caller hangs up. The emulator ends the call if it knows it (registered, or it joined a
   * room; the room sees the participant leave). Resolves when the emulator has taken note.
   */
  hangUp(): Promise<void> {
    if (this.hungUp) return this.hangupDone;
    this.hungUp = true;
    const control = this.options.control;
    this.hangupDone =
      control && (this.joinedOnce || this.registered)
        ? control.hangup(this.options.callSid).catch((error: unknown) => {
            if (error instanceof ControlError && error.status === 409) return; // the call had already ended
            this.execution.log('(call)', 'note', `the emulator did not take the hang-up: ${(error as Error).message}`);
          })
        : Promise.resolve();
    return this.hangupDone;
  }

  /** Follows TwiML from `url` until it returns to Studio or the call ends. */
  async follow(widget: string, url: string, method: string, signal: AbortSignal): Promise<TwimlOutcome> {
    const control = this.options.control;
    const feed =
      control && this.registered
        ? control.releaseFeed(
            this.options.callSid,
            this.lastSeq,
            (release) => this.onRelease(widget, release),
            () =>
              this.execution.log(
                widget,
                'note',
                "the emulator's releases carry no number: REST redirects outside a room are not followed",
                1,
              ),
          )
        : undefined;
    try {
      return await this.followDocuments(widget, { url, method }, signal);
    } finally {
      feed?.stop();
    }
  }

  /** A release from the numbered feed: to the room the caller is in, else it pre-empts the document. */
  private onRelease(widget: string, release: Release & { seq: number }): void {
    if (release.seq <= this.lastSeq) return;
    this.lastSeq = release.seq;
    if (this.ownTakeback !== undefined && release.reason === 'call-redirected' && release.url === this.ownTakeback) {
      this.ownTakeback = undefined; // Studio's own take-back, already acted on
      return;
    }
    if (this.roomInbox) return this.roomInbox.deliver(release);
    if (release.reason === 'call-redirected' || release.reason === 'call-completed') {
      if (this.preemptDocument) return this.preemptDocument(release);
    }
    this.execution.log(
      widget,
      'note',
      `release #${release.seq} (${release.reason}) arrived with nothing to act on it; ignored`,
      1,
    );
  }

  private async followDocuments(widget: string, start: Document, signal: AbortSignal): Promise<TwimlOutcome> {
    let document = start;
    let first = true;
    /** The first document's failure, once the Fallback URL was requested for it. */
    let firstFailure: string | undefined;
    for (let fetched = 0; fetched < MAX_DOCUMENTS_PER_REDIRECT; fetched++) {
      const studio = 'url' in document ? studioWebhook(document.url) : undefined;
      if (studio)
        return this.backToStudio(widget, (document as { url: string }).url, studio.accountSid, studio.flowSid);
      const result = await this.runDocument(widget, document, signal);
      if (result.kind === 'unusable') {
        const failure = `${this.describeDocument(document)} (${result.reason})`;
        if (first && this.options.fallbackUrl && firstFailure === undefined) {
          firstFailure = failure;
          document = this.fallbackFor(widget, document, failure, result.reason);
          continue;
        }
        return this.applicationError(
          widget,
          firstFailure !== undefined && first ? `${firstFailure}, then the Fallback URL ${failure}` : failure,
          signal,
        );
      }
      if (result.kind !== 'document') return result;
      document = result.document;
      first = false;
    }
    return { kind: 'call-ended', reason: `more than ${MAX_DOCUMENTS_PER_REDIRECT} TwiML documents without an end` };
  }

  /** Loads one document and acts on its verbs; a REST update of the call abandons it, wherever Voice is in it. */
  private async runDocument(widget: string, document: Document, signal: AbortSignal): Promise<VerbsResult | Unusable> {
    const scope = new AbortController();
    const documentSignal = AbortSignal.any([signal, scope.signal]);
    let redirect: Release | undefined;
    this.preemptDocument = (release) => {
      redirect ??= release;
      scope.abort(new RunInterrupted({ kind: 'redirected' }));
    };
    let result: VerbsResult | Unusable;
    try {
      const root = await this.load(widget, document, documentSignal);
      result = 'kind' in root ? root : await this.runVerbs(widget, root.children, documentSignal);
    } catch (error) {
      if (!(redirect && error instanceof RunInterrupted && error.interruption.kind === 'redirected' && !signal.aborted))
        throw error;
      result = { kind: 'document', document: { url: '', method: 'POST' } }; // replaced below
    } finally {
      this.preemptDocument = undefined;
    }
    if (redirect && (result.kind === 'document' || result.kind === 'unusable'))
      return this.preemptedBy(widget, redirect);
    return result;
  }

  /** The first document cannot be used (`failure`): Voice requests the number's Fallback URL, with the error. */
  private fallbackFor(widget: string, document: Document, failure: string, reason: string): Document {
    const { execution } = this;
    execution.log(
      widget,
      'voice',
      `Twilio Voice cannot use the TwiML of ${failure}: it requests the number's Fallback URL`,
      1,
    );
    const errorCode = /^HTTP|no reply|request failed/.test(reason) ? '11200' : '12100';
    const errorUrl = 'url' in document ? execution.urls.resolve(splitConnectionOverrides(document.url).url) : '';
    return {
      url: this.options.fallbackUrl!,
      method: 'POST',
      params: { ErrorCode: errorCode, ErrorUrl: errorUrl },
      label: 'Fallback URL',
    };
  }

  private describeDocument(document: Document): string {
    return 'twiml' in document
      ? `the TwiML given by ${document.from}`
      : `${document.method.toUpperCase()} ${this.execution.urls.display(this.execution.urls.resolve(document.url))}`;
  }

  /** A REST update of the call while Voice was busy with a document: on with its URL or TwiML. */
  private preemptedBy(widget: string, release: Release): VerbsResult {
    if (release.reason === 'call-completed') {
      this.execution.log(widget, 'voice', 'the call is ended through the REST API', 1);
      return { kind: 'call-ended', reason: 'the call was ended through the REST API' };
    }
    const target =
      release.twiml !== undefined
        ? 'inline TwiML'
        : `${release.method ?? 'POST'} ${this.execution.urls.display(this.execution.urls.resolve(release.url ?? ''))}`;
    this.execution.log(
      widget,
      'voice',
      `the call is redirected through the REST API (release #${release.seq ?? '?'}): Voice abandons its TwiML and follows ${target}`,
      1,
    );
    return {
      kind: 'document',
      document:
        release.twiml !== undefined
          ? { twiml: release.twiml, from: 'REST update' }
          : { url: release.url ?? '', method: release.method ?? 'POST', label: 'REST redirect' },
    };
  }

  /** No usable TwiML and no (working) Fallback URL: Twilio's message, then the call ends. */
  private async applicationError(widget: string, failure: string, signal: AbortSignal): Promise<TwimlOutcome> {
    this.execution.log(
      widget,
      'voice',
      `Twilio Voice cannot use the TwiML of ${failure}: the caller hears its application error and the call ends`,
      1,
    );
    const seconds = sayDurationSeconds(APPLICATION_ERROR);
    await this.execution.listen(
      widget,
      { kind: 'say', content: APPLICATION_ERROR, seconds },
      { signal, depth: 1, label: `hears "${APPLICATION_ERROR}" (Twilio)` },
    );
    return { kind: 'call-ended', reason: `application error: ${failure}` };
  }

  /**
   * Studio's timer for the widget passed and Studio cannot take the call back (S4): Voice goes
   * on with the TwiML in the background; Studio moves on along `timeout`.
   */
  carryOn(widget: string, following: Promise<TwimlOutcome>, scope: AbortController): void {
    const background: Background = {
      widget,
      settled: false,
      outcome: following.then(
        (outcome) => outcome,
        (error: unknown) => ({ kind: 'interrupted' as const, error }),
      ),
      stop: (reason) => scope.abort(new RunInterrupted({ kind: 'aborted', reason })),
    };
    void background.outcome.then(() => (background.settled = true));
    this.background = background;
  }

  /**
   * A widget that speaks to the caller (say-play, a TwiML Redirect, ...) can only do so when the
   * call fetches TwiML from Studio: while Voice is still in another widget's TwiML, Studio waits
   * for the call to come back to the flow's webhook (then answers with this widget) or to end.
   */
  async untilBackInStudio(
    widget: string,
    signal: AbortSignal,
  ): Promise<{ kind: 'in-studio' } | { kind: 'call-ended'; reason: string }> {
    const background = this.background;
    if (!background) return { kind: 'in-studio' };
    if (!background.settled) {
      this.execution.log(
        widget,
        'voice',
        `needs the caller, but the call is still in the TwiML ${background.widget} handed out: it waits until the call comes back to the flow's webhook or ends`,
      );
    }
    const outcome = await unlessInterrupted(background.outcome, signal);
    this.background = undefined;
    if (outcome.kind === 'interrupted') throw outcome.error;
    if (outcome.kind === 'call-ended') return outcome;
    const extra = Object.entries(outcome.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    this.execution.log(
      widget,
      'voice',
      `the call comes back to Studio's webhook${extra ? ` (${extra}, unused: ${background.widget} already fired timeout)` : ''}: Studio answers with ${widget}`,
    );
    return { kind: 'in-studio' };
  }

  /** The execution is over: stop following TwiML still running in the background (the run is bounded). */
  async finish(): Promise<void> {
    const background = this.background;
    if (!background) return;
    this.background = undefined;
    if (!background.settled) {
      const where = this.room ? ` (in room ${this.room.friendlyName})` : '';
      this.execution.log(
        background.widget,
        'note',
        `the execution ended with the call still in foreign TwiML${where}: on Twilio it would stay there until that TwiML ends; the run stops here`,
        1,
      );
      background.stop('the execution ended');
    }
    await background.outcome;
  }

  /** Fetches (or takes) a document and parses it; failures come back as `unusable`. */
  private async load(widget: string, document: Document, signal: AbortSignal): Promise<TwimlElement | Unusable> {
    let xml: string;
    if ('twiml' in document) {
      xml = document.twiml;
    } else {
      const reply = await this.fetchTwiml(
        widget,
        document.url,
        document.method,
        document.params ?? {},
        signal,
        document.label,
      );
      if ('reason' in reply) return { kind: 'unusable', reason: reply.reason };
      xml = reply.xml;
    }
    try {
      const root = parseTwiml(xml);
      if (root.name !== 'Response')
        return { kind: 'unusable', reason: `root element is <${root.name}>, not <Response>` };
      return root;
    } catch (error) {
      if (error instanceof TwimlParseError) return { kind: 'unusable', reason: `not valid TwiML: ${error.message}` };
      throw error;
    }
  }

  /**
   * Requests a TwiML document as Voice does. A URL's fragment is never sent: it may hold webhook
   * connection overrides (`#rc=..&rp=..`), which Voice honours for the call's own TwiML
   * (documented); whether a conference's waitUrl and the Redirects of its TwiML honour them is
   * the profile's (`waitLoop`, waitUrlHonoursConnectionOverrides). A wait-loop retry is not
   * made once the caller has left the room (`waitLoop.released`).
   */
  private async fetchTwiml(
    widget: string,
    url: string,
    method: string,
    extra: Record<string, string>,
    signal: AbortSignal,
    label = 'fetches TwiML',
    waitLoop?: { released: Promise<unknown> },
  ): Promise<{ xml: string } | { reason: string }> {
    const { execution } = this;
    const { target, overrides } = this.twimlTarget(widget, url, waitLoop !== undefined);
    const verb = method.toUpperCase() === 'GET' ? 'GET' : 'POST';
    const began = Date.now();
    const totalMs = overrides?.totalTimeMs ?? (overrides ? TWIML_FETCH_TIMEOUT_MS : Number.POSITIVE_INFINITY);
    const attempts = 1 + (overrides?.retries ?? 0);
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.max(
        1,
        Math.min(overrides?.readTimeoutMs ?? TWIML_FETCH_TIMEOUT_MS, totalMs - (Date.now() - began)),
      );
      const tries = attempt > 1 ? ` (attempt ${attempt} of ${attempts})` : '';
      const answer = await this.fetchOnce({ widget, verb, target, extra, timeoutMs, label, tries }, signal);
      if ('xml' in answer) return answer;
      const failure = answer;
      const retry =
        overrides !== undefined &&
        attempt < attempts &&
        failure.kind !== undefined &&
        overrides.retryOn.has(failure.kind) &&
        Date.now() - began + RETRY_DELAY_MS < totalMs;
      if (!retry) return { reason: attempt > 1 ? `${failure.reason}, ${attempt} attempts` : failure.reason };
      execution.log(
        widget,
        'voice',
        `Twilio Voice retries in ${RETRY_DELAY_MS / 1000} s (connection overrides ${describeOverrides(overrides)})`,
        1,
      );
      if (await sleepUnless(RETRY_DELAY_MS, waitLoop?.released ?? new Promise(() => undefined), signal))
        return { reason: `${failure.reason}; the caller left the room` };
    }
  }

  /**
   * The URL Voice requests (its fragment taken off) and the connection overrides it honours: a
   * waitUrl's only when the profile says so.
   */
  private twimlTarget(
    widget: string,
    url: string,
    isWaitUrl: boolean,
  ): { target: string; overrides: ConnectionOverrides | undefined } {
    const { execution } = this;
    const split = splitConnectionOverrides(url);
    const target = execution.urls.resolve(split.url);
    if (split.problems.length > 0)
      execution.log(
        widget,
        'note',
        `connection overrides of ${execution.urls.display(target)} ignored: ${split.problems.join('; ')}`,
        1,
      );
    const overrides = split.overrides;
    if (overrides && isWaitUrl && !this.options.behaviour.switches.waitUrlHonoursConnectionOverrides) {
      this.noteOnce(
        widget,
        'wait-overrides',
        `the waitUrl's connection overrides (${describeOverrides(overrides)}) are not honoured under profile ${this.options.behaviour.name} (waitUrlHonoursConnectionOverrides=false): a failed turn is not retried`,
      );
      return { target, overrides: undefined };
    }
    return { target, overrides };
  }

  /** One request for a TwiML document, logged: the document, or why not and what kind of failure (for retries). */
  private async fetchOnce(
    request: {
      widget: string;
      verb: 'GET' | 'POST';
      target: string;
      extra: Record<string, string>;
      timeoutMs: number;
      label: string;
      tries: string;
    },
    signal: AbortSignal,
  ): Promise<{ xml: string } | { reason: string; kind: RetryOn | undefined }> {
    const { execution } = this;
    const { widget, verb, target, tries } = request;
    const params = {
      ...this.options.callParams,
      CallStatus: this.hungUp ? 'completed' : 'in-progress',
      ...request.extra,
    };
    const shown = `${request.label}: ${verb} ${execution.urls.display(target)}`;
    try {
      const reply = await execution.http(
        {
          widget,
          method: verb,
          url: target,
          form: Object.entries(params),
          timeoutMs: request.timeoutMs,
          purpose: 'twiml',
        },
        signal,
      );
      const verbs = reply.status < 300 ? summarizeTwiml(reply.body) : '';
      execution.log(widget, 'http', `${shown} ← ${reply.status}${verbs ? ` ${verbs}` : ''}${tries}`, 1);
      if (reply.status < 400) return { xml: reply.body };
      return { reason: `HTTP ${reply.status}`, kind: failureKind({ status: reply.status }) };
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      execution.log(widget, 'http', `${shown} failed: ${error.message}${tries}`, 1);
      return {
        reason: error.message,
        kind:
          error.reason === 'too-large'
            ? undefined
            : failureKind({ connection: error.reason === 'timeout' ? 'timed-out' : 'failed' }),
      };
    }
  }

  /** A note the timeline needs once per call. */
  private noteOnce(widget: string, key: string, text: string): void {
    if (this.notedOnce.has(key)) return;
    this.notedOnce.add(key);
    this.execution.log(widget, 'note', text, 1);
  }

  private async runVerbs(widget: string, verbs: TwimlElement[], signal: AbortSignal): Promise<VerbsResult> {
    const { execution } = this;
    for (let index = 0; index < verbs.length; index++) {
      const verb = verbs[index]!;
      switch (verb.name) {
        case 'Say':
        case 'Play':
        case 'Pause':
          await this.playVerb(widget, verb, signal);
          break;
        case 'Redirect': {
          const target = verb.text;
          const studio = studioWebhook(target);
          if (studio) return this.backToStudio(widget, target, studio.accountSid, studio.flowSid);
          return {
            kind: 'document',
            document: { url: target, method: verb.attributes.method ?? 'POST', label: 'Redirect' },
          };
        }
        case 'Dial': {
          const dialed = await this.dial(widget, verb, signal);
          if (dialed.kind === 'call-ended') return dialed;
          if (dialed.kind === 'redirected') return { kind: 'document', document: dialed.document };
          const action = verb.attributes.action;
          if (action) {
            const params = { DialCallStatus: dialed.status, DialCallDuration: String(dialed.seconds) };
            return {
              kind: 'document',
              document: { url: action, method: verb.attributes.method ?? 'POST', params, label: 'Dial action' },
            };
          }
          break; // no action: on with the next verb
        }
        case 'Hangup':
        case 'Reject':
          execution.log(widget, 'voice', `<${verb.name}>: Twilio ends the call`, 1);
          return { kind: 'call-ended', reason: `<${verb.name}>` };
        default:
          execution.log(widget, 'note', `<${describeVerb(verb)}> is not simulated; skipped`, 1);
      }
    }
    execution.log(widget, 'voice', 'the TwiML document ends without a Redirect: Twilio ends the call', 1);
    return { kind: 'call-ended', reason: 'the TwiML ended without returning to Studio' };
  }

  private backToStudio(widget: string, target: string, accountSid: string, flowSid: string): TwimlOutcome {
    const toSubflow = this.subflowSid !== undefined && flowSid === this.subflowSid;
    if ((flowSid !== this.options.flowSid && !toSubflow) || accountSid !== this.options.accountSid) {
      this.execution.log(
        widget,
        'voice',
        `redirect to another Studio flow (${flowSid}): the call leaves this execution`,
        1,
      );
      return { kind: 'call-ended', reason: `redirected to Studio flow ${flowSid} of ${accountSid}` };
    }
    if (toSubflow)
      this.execution.log(
        widget,
        'note',
        `the return names the subflow's webhook (${flowSid}), not the parent's: taken as the return to this execution (Studio's docs do not say)`,
        1,
      );
    const query = new URL(target).searchParams;
    const params: Record<string, string> = {};
    for (const [key, value] of query) if (key !== 'FlowEvent') params[key] = value;
    if (query.get('FlowEvent') !== 'return') {
      this.execution.log(
        widget,
        'note',
        'the redirect to Studio has no FlowEvent=return; Studio treats any fetch for the execution as the return',
        1,
      );
    }
    return { kind: 'returned', params };
  }

  /** Say, Play or Pause: the caller listens; `early` (a release) cuts it short. */
  private async playVerb(
    widget: string,
    verb: TwimlElement,
    signal: AbortSignal,
    early?: Promise<unknown>,
  ): Promise<void> {
    const { execution } = this;
    const loops = Math.max(1, Number(verb.attributes.loop ?? '1') || 1);
    if (verb.name === 'Pause') {
      const seconds = Math.max(0, Number(verb.attributes.length ?? '1') || 0);
      await execution.listen(
        widget,
        { kind: 'pause', content: 'silence', seconds },
        { early, signal, depth: 1, label: `silence ${seconds} s` },
      );
    } else if (verb.name === 'Say') {
      const seconds = sayDurationSeconds(verb.text) * loops;
      await execution.listen(
        widget,
        { kind: 'say', content: verb.text, seconds },
        { early, signal, depth: 1, label: `hears "${verb.text}" (${seconds.toFixed(1)} s)` },
      );
    } else if (verb.attributes.digits) {
      const seconds = digitsDurationSeconds(verb.attributes.digits);
      await execution.listen(
        widget,
        { kind: 'play', content: `digits ${verb.attributes.digits}`, seconds },
        { early, signal, depth: 1, label: `hears digits ${verb.attributes.digits}` },
      );
    } else {
      const url = execution.urls.resolve(verb.text);
      const length = await execution.audio.of(url);
      if (length.note) execution.log(widget, 'note', length.note, 1);
      const seconds = length.seconds * loops;
      const heard = await execution.listen(
        widget,
        { kind: 'play', content: url, seconds },
        { early, signal, depth: 1, label: `hears ${execution.urls.display(url)} (${seconds.toFixed(1)} s)` },
      );
      if (heard.cutShortBy === 'released')
        execution.log(widget, 'audio', `music stops after ${heard.heardSeconds.toFixed(1)} s`, 1);
    }
  }

  /** `<Dial>`: only `<Conference>` is simulated (the hold room). */
  private async dial(widget: string, verb: TwimlElement, signal: AbortSignal): Promise<DialResult> {
    const { execution, options } = this;
    const conference = verb.children.find((child) => child.name === 'Conference');
    if (!conference) {
      execution.log(widget, 'note', `<${describeVerb(verb)}> is not simulated: the Dial fails at once`, 1);
      return { kind: 'dial-ended', status: 'failed', seconds: 0 };
    }
    if (!options.control) throw new Error('a <Dial><Conference> needs the emulator (emulatorUrl)');
    const control = options.control;
    const attributes = conference.attributes;
    const timeLimit = Number(verb.attributes.timeLimit ?? DEFAULT_TIME_LIMIT_SECONDS) || DEFAULT_TIME_LIMIT_SECONDS;
    if (options.joinDelayMs > 0) await waitInRun(options.joinDelayMs, signal); // Twilio connecting the caller

    // Registered calls: the release feed hands this room every release from now on (also one that
    // comes while joining). Older emulators: a long-poll of the room's release, once in it.
    const roomInbox = this.registered ? inbox() : undefined;
    this.roomInbox = roomInbox;
    let watch: ReleaseWatch | undefined;
    try {
      const joined = await control.join({
        friendlyName: conference.text,
        callSid: options.callSid,
        from: options.callParams.From,
        to: options.callParams.To,
        startConferenceOnEnter: attributes.startConferenceOnEnter !== 'false',
        endConferenceOnExit: attributes.endConferenceOnExit === 'true',
        statusCallback: attributes.statusCallback ? execution.urls.resolve(attributes.statusCallback) : undefined,
        statusCallbackMethod: attributes.statusCallbackMethod,
        statusCallbackEvent: attributes.statusCallbackEvent?.split(/[\s,]+/).filter(Boolean),
      }); // not cut off by a hang-up: the emulator must know the call to end it
      watch = roomInbox ?? control.watchRelease(options.callSid);
      return await this.inRoom(widget, verb, conference, joined, timeLimit, watch, signal);
    } finally {
      watch?.stop();
      roomInbox?.stop();
      if (this.roomInbox === roomInbox) this.roomInbox = undefined;
    }
  }

  /** The caller is in the room: wait music while alone, until released (or interrupted). */
  private async inRoom(
    widget: string,
    verb: TwimlElement,
    conference: TwimlElement,
    joined: { conferenceSid: string; conferenceStatus: string },
    timeLimit: number,
    watch: ReleaseWatch,
    signal: AbortSignal,
  ): Promise<DialResult> {
    const { execution, options } = this;
    const { stay, leave } = this.enterRoom(widget, conference, joined.conferenceSid, watch);
    if (this.hungUp) {
      // The caller hung up while joining: end the call in the room it just entered.
      const control = options.control!;
      this.hangupDone = this.hangupDone.then(() => control.hangup(options.callSid).catch(() => undefined));
      await this.hangupDone;
      this.room = null;
      leave('caller-hangup');
    }
    throwIfInterrupted(signal);
    const joinedAt = Date.now();
    const alone = joined.conferenceStatus === 'init';
    execution.log(
      widget,
      'voice',
      `joins room ${conference.text} (${alone ? 'waiting alone' : 'conference in progress'}; Dial timeLimit ${timeLimit} s)`,
      1,
    );
    options.onJoinedRoom?.();
    return this.untilReleased({ widget, verb, conference, timeLimit, watch, stay, leave, joinedAt, alone }, signal);
  }

  /** Records the caller's stay in the room; `leave` ends the stay once, at the release if there was one. */
  private enterRoom(
    widget: string,
    conference: TwimlElement,
    conferenceSid: string,
    watch: ReleaseWatch,
  ): Pick<RoomVisit, 'stay' | 'leave'> {
    const { execution } = this;
    this.room = { conferenceSid, friendlyName: conference.text };
    this.joinedOnce = true;
    const stay: RoomStay = { widget, friendlyName: conference.text, conferenceSid, joinedAtMs: execution.clock.now() };
    execution.rooms.push(stay);
    // Twilio moves the call the moment it is released, whatever request of the hold loop is
    // still in flight here: the stay ends then, not when this side finishes that request.
    let releasedAtMs: number | undefined;
    void watch.released.then((release) => {
      if (release) releasedAtMs ??= execution.clock.now();
    });
    const leave = (because: string) => {
      if (stay.leftAtMs !== undefined) return;
      stay.leftAtMs = releasedAtMs ?? execution.clock.now();
      stay.leftBecause = because;
    };
    return { stay, leave };
  }

  /** The room's wait music (while alone), then silence, until the release; the Dial's timeLimit runs beside. */
  private async untilReleased(visit: RoomVisit, signal: AbortSignal): Promise<DialResult> {
    const { widget, verb, conference, watch, stay, leave, joinedAt } = visit;
    const attributes = conference.attributes;
    const dialScope = new AbortController();
    const dialSignal = AbortSignal.any([signal, dialScope.signal]);
    // Twilio takes the caller out of the room at the timeLimit, whatever the TwiML does.
    const limit = this.enforceTimeLimit(widget, visit.timeLimit, watch.released, dialSignal).then((reached) => {
      if (reached) stay.timeLimitReached = true;
    });
    try {
      const waitUrl = attributes.waitUrl;
      if (visit.alone && waitUrl)
        await this.waitLoop(widget, waitUrl, attributes.waitMethod ?? 'POST', watch, dialSignal);
      // Waited out (or no wait music): silence until released.
      const release = await unlessInterrupted(watch.released, dialSignal);
      this.room = null;
      leave(release?.reason ?? 'unknown');
      return this.afterRelease(widget, release, joinedAt);
    } catch (error) {
      if (error instanceof RunInterrupted) {
        const released = watch.current();
        const kind = error.interruption.kind;
        leave(
          released?.reason ??
            (kind === 'hangup' ? 'caller-hangup' : kind === 'widget-timeout' ? 'widget-timeout' : 'run-stopped'),
        );
        await this.leaveOnInterruption(widget, verb, joinedAt, error, released !== null);
      }
      throw error;
    } finally {
      dialScope.abort(new RunInterrupted({ kind: 'aborted', reason: 'dial over' }));
      watch.stop();
      await limit;
      this.room = null;
    }
  }

  /**
   * The run was interrupted while the caller was in a room:
   * - hang-up: Twilio still requests the Dial's action (its TwiML is not used);
   * - the widget's timeout: Studio takes the call back (REST redirect to its webhook);
   * - the run stopped: the call is hung up so no room is left behind.
   */
  private async leaveOnInterruption(
    widget: string,
    verb: TwimlElement,
    joinedAt: number,
    error: RunInterrupted,
    released: boolean,
  ): Promise<void> {
    const { execution, options } = this;
    const control = options.control!;
    try {
      switch (error.interruption.kind) {
        case 'hangup':
          await this.hangupDone;
          await this.dialActionAfterHangup(widget, verb, joinedAt);
          break;
        case 'widget-timeout':
          if (released) break;
          {
            execution.log(
              widget,
              'voice',
              `the widget's timeout passed: Studio takes the call back from the room (profile ${options.behaviour.name}: studioTakesCallBackOnTimeout=true)`,
              1,
            );
            const webhook = `https://webhooks.twilio.com/v1/Accounts/${options.accountSid}/Flows/${options.flowSid}`;
            this.ownTakeback = webhook;
            await control.redirectCall(options.accountSid, options.callSid, webhook);
          }
          break;
        default:
          if (released) break;
          execution.log(widget, 'voice', 'the run stopped: the call is hung up', 1);
          await this.hangUp();
      }
    } catch (cleanupError) {
      execution.log(widget, 'note', `could not take the caller out of the room: ${(cleanupError as Error).message}`, 1);
    }
  }

  /** Resolves true when the timeLimit ran out first (and the caller was taken out of the room). */
  private async enforceTimeLimit(
    widget: string,
    timeLimit: number,
    released: Promise<unknown>,
    signal: AbortSignal,
  ): Promise<boolean> {
    try {
      const releasedFirst = await sleepUnless(timeLimit * 1000, released, signal);
      if (releasedFirst || !this.room) return false;
      const { behaviour } = this.options;
      if (!behaviour.switches.dialTimeLimitBoundsConference) {
        if (!this.timeLimitNoted) {
          this.timeLimitNoted = true;
          this.execution.log(
            widget,
            'note',
            `Dial timeLimit of ${timeLimit} s passed: under profile ${behaviour.name} (dialTimeLimitBoundsConference=false) it does not take the caller out of a <Conference>; the caller stays in the room`,
            1,
          );
        }
        return false;
      }
      this.execution.log(
        widget,
        'voice',
        `Dial timeLimit of ${timeLimit} s reached: Twilio takes the caller out of the room`,
        1,
      );
      await this.options.control!.removeFromRoom(
        this.options.accountSid,
        this.room.conferenceSid,
        this.options.callSid,
      );
      return true;
    } catch (error) {
      if (!(error instanceof RunInterrupted))
        this.execution.log(widget, 'note', `could not end the Dial at its timeLimit: ${(error as Error).message}`, 1);
      return false;
    }
  }

  /** The room's waitUrl loop: each turn is a fresh request; it stops as soon as the call is released. */
  private async waitLoop(
    widget: string,
    firstUrl: string,
    firstMethod: string,
    watch: ReleaseWatch,
    signal: AbortSignal,
  ): Promise<void> {
    let next: { url: string; method: string } | undefined = { url: firstUrl, method: firstMethod };
    for (let turn = 0; next && !watch.current() && turn < MAX_DOCUMENTS_PER_REDIRECT; turn++) {
      const { url, method } = next;
      next = undefined;
      const reply = await this.fetchTwiml(widget, url, method, {}, signal, 'waitUrl', { released: watch.released });
      if (watch.current()) return;
      if ('reason' in reply) {
        this.execution.log(
          widget,
          'note',
          `the waitUrl failed (${reply.reason}): the caller hears silence until released (what Twilio does then is not documented)`,
          1,
        );
        return;
      }
      let root: TwimlElement;
      try {
        root = parseTwiml(reply.xml);
      } catch (error) {
        this.execution.log(
          widget,
          'note',
          `the waitUrl TwiML is not valid (${(error as Error).message}): silence until released`,
          1,
        );
        return;
      }
      for (const verb of root.children) {
        if (watch.current()) return;
        if (verb.name === 'Redirect') {
          next = { url: verb.text, method: verb.attributes.method ?? 'POST' };
          break;
        }
        if (verb.name === 'Say' || verb.name === 'Play' || verb.name === 'Pause')
          await this.playVerb(widget, verb, signal, watch.released);
        else
          this.execution.log(
            widget,
            'note',
            `<${verb.name}> is not allowed in a waitUrl (only Say, Play, Pause, Redirect); skipped`,
            1,
          );
      }
    }
  }

  private afterRelease(widget: string, release: Release | null, joinedAt: number): DialResult {
    const seconds = Math.round((Date.now() - joinedAt) / 1000);
    const reason = release?.reason ?? 'unknown';
    this.execution.log(widget, 'voice', `released from the room: ${reason} (after ${seconds} s in the room)`, 1);
    switch (reason) {
      case 'call-redirected':
        return {
          kind: 'redirected',
          document:
            release?.twiml !== undefined
              ? { twiml: release.twiml, from: 'REST update' }
              : { url: release?.url ?? '', method: release?.method ?? 'POST' },
        };
      case 'call-completed':
        return { kind: 'call-ended', reason: 'the call was ended through the REST API' };
      case 'caller-hangup':
        return { kind: 'call-ended', reason: 'the caller hung up' };
      default:
        return { kind: 'dial-ended', status: 'completed', seconds };
    }
  }

  /** Twilio still requests the Dial's action after the caller hangs up; the TwiML it gets is not used. */
  private async dialActionAfterHangup(widget: string, verb: TwimlElement, joinedAt: number): Promise<void> {
    const action = verb.attributes.action;
    if (!action || !this.hungUp) return;
    const seconds = String(Math.round((Date.now() - joinedAt) / 1000));
    const quiet = withDeadline(new AbortController().signal, TWIML_FETCH_TIMEOUT_MS, 'timeout');
    try {
      await this.fetchTwiml(
        widget,
        action,
        verb.attributes.method ?? 'POST',
        { DialCallStatus: 'completed', DialCallDuration: seconds },
        quiet.signal,
        'Dial action after the hang-up (its TwiML is not used)',
      );
    } catch {
      // best effort: the call is over either way
    } finally {
      quiet.clear();
    }
  }
}

/** "-> Play, Redirect" style summary of a TwiML reply for the timeline. */
function summarizeTwiml(xml: string): string {
  try {
    const root = parseTwiml(xml);
    return root.children.length > 0 ? `(${root.children.map(describeVerb).join(', ')})` : '(empty)';
  } catch {
    return '';
  }
}
