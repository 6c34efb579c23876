/**
 * Twilio Voice's side of a call that a TwiML Redirect widget handed out of Studio: fetch the
 * TwiML, act on it (Say, Play, Pause, Redirect, Dial Conference, Hangup) until it redirects back
 * to Studio's webhook or the call ends.
 *
 * A Dial into a conference joins the room through the emulator, then plays the room's waitUrl
 * loop while the caller waits alone; every wait lasts the audio's real length but ends the
 * moment the emulator reports the call released. The Dial's timeLimit is enforced; when the Dial
 * ends, its action URL is requested and its TwiML followed.
 */
import { RunInterrupted, sleep, sleepUnless, throwIfInterrupted, unlessInterrupted, withDeadline } from './clock';
import { digitsDurationSeconds, sayDurationSeconds } from './audio';
import type { EmulatorControl, Release } from './emulator-control';
import { HttpFailure, type Execution } from './execution';
import { describeVerb, parseTwiml, TwimlParseError, type TwimlElement } from './twiml';
import type { RoomStay } from './types';

/** Twilio Voice waits this long for a TwiML document. */
const TWIML_FETCH_TIMEOUT_MS = 15_000;
/** Bounds a TwiML loop that never plays anything (Twilio would also give up). */
const MAX_DOCUMENTS_PER_REDIRECT = 2_000;
const DEFAULT_TIME_LIMIT_SECONDS = 14_400;
const STUDIO_WEBHOOK = /^https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/(AC[0-9a-fA-F]{32})\/Flows\/(FW[0-9a-fA-F]{32})\/?(\?.*)?$/;

export type TwimlOutcome =
  /** a `<Redirect>` to the flow's webhook: the widget's `return`, with the query's extra keys */
  | { kind: 'returned'; params: Record<string, string> }
  | { kind: 'call-ended'; reason: string }
  /** the first document could not be fetched: the widget's `fail` */
  | { kind: 'fetch-failed'; reason: string };

/** The next TwiML: fetched from a URL (`label` says why, for the timeline) or given inline (REST update). */
type Document = { url: string; method: string; params?: Record<string, string>; label?: string } | { twiml: string; from: string };
type VerbsResult = TwimlOutcome | { kind: 'document'; document: Document };
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
}

/** Where the call is now: in a room (waiting) or not. One per run. */
export class VoiceCall {
  /** Set while the caller is in a conference. */
  room: { conferenceSid: string; friendlyName: string } | null = null;
  /** Set once the caller hung up; the Dial action is then requested with the call completed. */
  hungUp = false;
  private hangupDone: Promise<void> = Promise.resolve();
  private joinedOnce = false;
  private readonly execution: Execution;

  constructor(private readonly options: VoiceCallOptions) {
    this.execution = options.execution;
  }

  get callSid(): string {
    return this.options.callSid;
  }

  /**
   * The caller hangs up. The emulator only knows calls that joined a room; for those it ends the
   * call (the room sees the participant leave). Resolves when the emulator has taken note.
   */
  hangUp(): Promise<void> {
    if (this.hungUp) return this.hangupDone;
    this.hungUp = true;
    const control = this.options.control;
    this.hangupDone =
      control && this.joinedOnce
        ? control.hangup(this.options.callSid).catch((error: unknown) => {
            this.execution.log('(call)', 'note', `the emulator did not take the hang-up: ${(error as Error).message}`);
          })
        : Promise.resolve();
    return this.hangupDone;
  }

  /** Follows TwiML from `url` until it returns to Studio or the call ends. */
  async follow(widget: string, url: string, method: string, signal: AbortSignal): Promise<TwimlOutcome> {
    let document: Document = { url, method };
    for (let fetched = 0; fetched < MAX_DOCUMENTS_PER_REDIRECT; fetched++) {
      const root = await this.load(widget, document, signal);
      if ('kind' in root) return fetched === 0 ? root : { kind: 'call-ended', reason: `Twilio could not use the TwiML (${root.reason}): "An application error has occurred", then the call ends` };
      const result = await this.runVerbs(widget, root.children, signal);
      if (result.kind !== 'document') return result;
      document = result.document;
    }
    return { kind: 'call-ended', reason: `more than ${MAX_DOCUMENTS_PER_REDIRECT} TwiML documents without an end` };
  }

  /** Fetches (or takes) a document and parses it; failures come back as `fetch-failed`. */
  private async load(widget: string, document: Document, signal: AbortSignal): Promise<TwimlElement | { kind: 'fetch-failed'; reason: string }> {
    let xml: string;
    if ('twiml' in document) {
      xml = document.twiml;
    } else {
      const reply = await this.fetchTwiml(widget, document.url, document.method, document.params ?? {}, signal, document.label);
      if ('reason' in reply) return { kind: 'fetch-failed', reason: reply.reason };
      xml = reply.xml;
    }
    try {
      const root = parseTwiml(xml);
      if (root.name !== 'Response') return { kind: 'fetch-failed', reason: `root element is <${root.name}>, not <Response>` };
      return root;
    } catch (error) {
      if (error instanceof TwimlParseError) return { kind: 'fetch-failed', reason: `not valid TwiML: ${error.message}` };
      throw error;
    }
  }

  private async fetchTwiml(
    widget: string,
    url: string,
    method: string,
    extra: Record<string, string>,
    signal: AbortSignal,
    label = 'fetches TwiML',
  ): Promise<{ xml: string } | { reason: string }> {
    const { execution } = this;
    const target = execution.urls.resolve(url);
    const params = { ...this.options.callParams, CallStatus: this.hungUp ? 'completed' : 'in-progress', ...extra };
    try {
      const reply = await execution.http({ widget, method: method.toUpperCase() === 'GET' ? 'GET' : 'POST', url: target, form: Object.entries(params), timeoutMs: TWIML_FETCH_TIMEOUT_MS }, signal);
      const verbs = reply.status < 300 ? summarizeTwiml(reply.body) : '';
      execution.log(widget, 'http', `${label}: ${method.toUpperCase()} ${execution.urls.display(target)} ← ${reply.status}${verbs ? ` ${verbs}` : ''}`, 1);
      if (reply.status >= 400) return { reason: `HTTP ${reply.status}` };
      return { xml: reply.body };
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      execution.log(widget, 'http', `${label}: ${method.toUpperCase()} ${execution.urls.display(target)} failed: ${error.message}`, 1);
      return { reason: error.message };
    }
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
          const studio = STUDIO_WEBHOOK.exec(target);
          if (studio) return this.backToStudio(widget, target, studio[1]!, studio[2]!);
          return { kind: 'document', document: { url: target, method: verb.attributes.method ?? 'POST', label: 'Redirect' } };
        }
        case 'Dial': {
          const dialed = await this.dial(widget, verb, signal);
          if (dialed.kind === 'call-ended') return dialed;
          if (dialed.kind === 'redirected') return { kind: 'document', document: dialed.document };
          const action = verb.attributes.action;
          if (action) {
            const params = { DialCallStatus: dialed.status, DialCallDuration: String(dialed.seconds) };
            return { kind: 'document', document: { url: action, method: verb.attributes.method ?? 'POST', params, label: 'Dial action' } };
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
    if (flowSid !== this.options.flowSid || accountSid !== this.options.accountSid) {
      this.execution.log(widget, 'voice', `redirect to another Studio flow (${flowSid}): the call leaves this execution`, 1);
      return { kind: 'call-ended', reason: `redirected to Studio flow ${flowSid} of ${accountSid}` };
    }
    const query = new URL(target).searchParams;
    const params: Record<string, string> = {};
    for (const [key, value] of query) if (key !== 'FlowEvent') params[key] = value;
    if (query.get('FlowEvent') !== 'return') {
      this.execution.log(widget, 'note', 'the redirect to Studio has no FlowEvent=return; Studio treats any fetch for the execution as the return', 1);
    }
    return { kind: 'returned', params };
  }

  /** Say, Play or Pause: the caller listens; `early` (a release) cuts it short. */
  private async playVerb(widget: string, verb: TwimlElement, signal: AbortSignal, early?: Promise<unknown>): Promise<void> {
    const { execution } = this;
    const loops = Math.max(1, Number(verb.attributes.loop ?? '1') || 1);
    if (verb.name === 'Pause') {
      const seconds = Math.max(0, Number(verb.attributes.length ?? '1') || 0);
      await execution.listen(widget, { kind: 'pause', content: 'silence', seconds }, { early, signal, depth: 1, label: `silence ${seconds} s` });
    } else if (verb.name === 'Say') {
      const seconds = sayDurationSeconds(verb.text) * loops;
      await execution.listen(widget, { kind: 'say', content: verb.text, seconds }, { early, signal, depth: 1, label: `hears "${verb.text}" (${seconds.toFixed(1)} s)` });
    } else if (verb.attributes.digits) {
      const seconds = digitsDurationSeconds(verb.attributes.digits);
      await execution.listen(widget, { kind: 'play', content: `digits ${verb.attributes.digits}`, seconds }, { early, signal, depth: 1, label: `hears digits ${verb.attributes.digits}` });
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
      if (heard.cutShortBy === 'released') execution.log(widget, 'audio', `music stops after ${heard.heardSeconds.toFixed(1)} s`, 1);
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
    if (options.joinDelayMs > 0) await sleep(options.joinDelayMs, signal); // Twilio connecting the caller

    const joined = await control.join(
      {
        friendlyName: conference.text,
        callSid: options.callSid,
        from: options.callParams.From,
        to: options.callParams.To,
        startConferenceOnEnter: attributes.startConferenceOnEnter !== 'false',
        endConferenceOnExit: attributes.endConferenceOnExit === 'true',
        statusCallback: attributes.statusCallback ? execution.urls.resolve(attributes.statusCallback) : undefined,
        statusCallbackMethod: attributes.statusCallbackMethod,
        statusCallbackEvent: attributes.statusCallbackEvent?.split(/[\s,]+/).filter(Boolean),
      },
    ); // not cut off by a hang-up: the emulator must know the call to end it
    this.room = { conferenceSid: joined.conferenceSid, friendlyName: conference.text };
    this.joinedOnce = true;
    const stay: RoomStay = { widget, friendlyName: conference.text, conferenceSid: joined.conferenceSid, joinedAtMs: execution.clock.now() };
    execution.rooms.push(stay);
    const leave = (because: string) => {
      if (stay.leftAtMs !== undefined) return;
      stay.leftAtMs = execution.clock.now();
      stay.leftBecause = because;
    };
    if (this.hungUp) {
      // The caller hung up while joining: end the call in the room it just entered.
      this.hangupDone = this.hangupDone.then(() => control.hangup(options.callSid).catch(() => undefined));
      await this.hangupDone;
      this.room = null;
      leave('caller-hangup');
    }
    throwIfInterrupted(signal);
    const joinedAt = Date.now();
    const alone = joined.conferenceStatus === 'init';
    execution.log(widget, 'voice', `joins room ${conference.text} (${alone ? 'waiting alone' : 'conference in progress'}; Dial timeLimit ${timeLimit} s)`, 1);
    options.onJoinedRoom?.();

    const watch = control.watchRelease(options.callSid);
    const dialScope = new AbortController();
    const dialSignal = AbortSignal.any([signal, dialScope.signal]);
    // Twilio takes the caller out of the room at the timeLimit, whatever the TwiML does.
    const limit = this.enforceTimeLimit(widget, timeLimit, watch.released, dialSignal).then((reached) => {
      if (reached) stay.timeLimitReached = true;
    });
    try {
      const waitUrl = attributes.waitUrl;
      if (alone && waitUrl) await this.waitLoop(widget, waitUrl, attributes.waitMethod ?? 'POST', watch, dialSignal);
      // Waited out (or no wait music): silence until released.
      const release = await unlessInterrupted(watch.released, dialSignal);
      this.room = null;
      leave(release?.reason ?? 'unknown');
      return this.afterRelease(widget, release, joinedAt);
    } catch (error) {
      if (error instanceof RunInterrupted) {
        const released = watch.current();
        const kind = error.interruption.kind;
        leave(released?.reason ?? (kind === 'hangup' ? 'caller-hangup' : kind === 'widget-timeout' ? 'widget-timeout' : 'run-stopped'));
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
  private async leaveOnInterruption(widget: string, verb: TwimlElement, joinedAt: number, error: RunInterrupted, released: boolean): Promise<void> {
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
          execution.log(widget, 'voice', "the widget's timeout passed: Studio takes the call back from the room", 1);
          await control.redirectCall(options.accountSid, options.callSid, `https://webhooks.twilio.com/v1/Accounts/${options.accountSid}/Flows/${options.flowSid}`);
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
  private async enforceTimeLimit(widget: string, timeLimit: number, released: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
    try {
      const releasedFirst = await sleepUnless(timeLimit * 1000, released, signal);
      if (releasedFirst || !this.room) return false;
      this.execution.log(widget, 'voice', `Dial timeLimit of ${timeLimit} s reached: Twilio takes the caller out of the room`, 1);
      await this.options.control!.removeFromRoom(this.options.accountSid, this.room.conferenceSid, this.options.callSid);
      return true;
    } catch (error) {
      if (!(error instanceof RunInterrupted)) this.execution.log(widget, 'note', `could not end the Dial at its timeLimit: ${(error as Error).message}`, 1);
      return false;
    }
  }

  /** The room's waitUrl loop: each turn is a fresh request; it stops as soon as the call is released. */
  private async waitLoop(
    widget: string,
    firstUrl: string,
    firstMethod: string,
    watch: { released: Promise<Release | null>; current(): Release | null },
    signal: AbortSignal,
  ): Promise<void> {
    let next: { url: string; method: string } | undefined = { url: firstUrl, method: firstMethod };
    for (let turn = 0; next && !watch.current() && turn < MAX_DOCUMENTS_PER_REDIRECT; turn++) {
      const { url, method } = next;
      next = undefined;
      const reply = await this.fetchTwiml(widget, url, method, {}, signal, 'waitUrl');
      if (watch.current()) return;
      if ('reason' in reply) {
        this.execution.log(widget, 'note', 'the waitUrl failed: the caller hears silence until released', 1);
        return;
      }
      let root: TwimlElement;
      try {
        root = parseTwiml(reply.xml);
      } catch (error) {
        this.execution.log(widget, 'note', `the waitUrl TwiML is not valid (${(error as Error).message}): silence until released`, 1);
        return;
      }
      for (const verb of root.children) {
        if (watch.current()) return;
        if (verb.name === 'Redirect') {
          next = { url: verb.text, method: verb.attributes.method ?? 'POST' };
          break;
        }
        if (verb.name === 'Say' || verb.name === 'Play' || verb.name === 'Pause') await this.playVerb(widget, verb, signal, watch.released);
        else this.execution.log(widget, 'note', `<${verb.name}> is not allowed in a waitUrl (only Say, Play, Pause, Redirect); skipped`, 1);
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
          document: release?.twiml !== undefined ? { twiml: release.twiml, from: 'REST update' } : { url: release?.url ?? '', method: release?.method ?? 'POST' },
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
      await this.fetchTwiml(widget, action, verb.attributes.method ?? 'POST', { DialCallStatus: 'completed', DialCallDuration: seconds }, quiet.signal, 'Dial action after the hang-up (its TwiML is not used)');
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
