/**
 * Conference status callbacks, sent form-encoded the way Twilio sends them.
 *
 * Deliveries to one URL go out in order (participant-leave before conference-end), each with a
 * timeout. A failing or unreachable callback URL is logged and otherwise ignored: Twilio does not
 * retry conference callbacks, and the emulator must never fail because of one.
 */
import twilio from 'twilio';
import { rfc2822, type Clock } from './time';
import { DEFAULT_PROFILE, type BehaviourSwitches, type TwilioBehaviour } from './twilio-behaviour';
import type { ConferenceEvent } from './voice-store';

const DELIVERY_TIMEOUT_MS = 5000;

export interface StatusCallbackOptions {
  clock: Clock;
  /** When set, requests carry `X-Twilio-Signature` computed with this auth token. */
  authToken?: string;
  log: (line: string) => void;
  /** The behaviour profile right now; `documented` when left out. */
  behaviour?: () => TwilioBehaviour;
}

/** The parameters Twilio posts for a conference event. */
export function conferenceCallbackParams(
  event: ConferenceEvent,
  sequence: number,
  now: number,
  switches: Pick<BehaviourSwitches, 'participantCallStatusOnLeave'> = DEFAULT_PROFILE.switches,
): Record<string, string> {
  const { conference, participant } = event;
  const params: Record<string, string> = {
    AccountSid: conference.accountSid,
    ConferenceSid: conference.sid,
    FriendlyName: conference.friendlyName,
    StatusCallbackEvent: event.name,
    Timestamp: rfc2822(now),
    SequenceNumber: String(sequence),
  };
  if (participant) {
    Object.assign(params, {
      CallSid: participant.callSid,
      Muted: 'false',
      Hold: 'false',
      Coaching: 'false',
      EndConferenceOnExit: String(participant.endConferenceOnExit),
      StartConferenceOnEnter: String(participant.startConferenceOnEnter),
    });
  }
  if (event.name === 'conference-end') {
    if (conference.reasonEnded) params.ReasonConferenceEnded = conference.reasonEnded;
    if (conference.callSidEnding) params.CallSidEndingConference = conference.callSidEnding;
  }
  // V9: ParticipantCallStatus and ReasonParticipantLeft exist on participant-leave since
  // 2023-10-25 (Twilio changelog), but no source gives their values. With the switch on, the
  // values are INVENTED: `in-progress` when the call moved on (redirected, kicked, room ended),
  // `completed` when it hung up; ReasonParticipantLeft as in voice-store.ts ParticipantLeftReason.
  if (event.name === 'participant-leave' && switches.participantCallStatusOnLeave) {
    if (event.participantCallStatus) params.ParticipantCallStatus = event.participantCallStatus;
    if (event.reasonParticipantLeft) params.ReasonParticipantLeft = event.reasonParticipantLeft;
  }
  if (event.reason) params.Reason = event.reason;
  return params;
}

export class StatusCallbackSender {
  /** Per-URL delivery chains, so events to one URL arrive in the order they happened. */
  private readonly chains = new Map<string, Promise<void>>();
  private abort = new AbortController();

  constructor(private readonly options: StatusCallbackOptions) {}

  /** Sends the conference event if the conference asked for it. */
  conferenceEvent(event: ConferenceEvent): void {
    const callback = event.conference.callback;
    if (!callback || !callback.events.has(event.name)) return;
    event.conference.sequence += 1;
    const switches = (this.options.behaviour?.() ?? DEFAULT_PROFILE).switches;
    const params = conferenceCallbackParams(event, event.conference.sequence, this.options.clock(), switches);
    this.enqueue(callback.url, callback.method, params);
  }

  /** Cancels deliveries queued or in flight (reset, close); later events are delivered normally. */
  async cancelAll(): Promise<void> {
    const cancelled = this.abort;
    this.abort = new AbortController();
    cancelled.abort();
    await Promise.all([...this.chains.values()]);
  }

  private enqueue(url: string, method: 'GET' | 'POST', params: Record<string, string>): void {
    const previous = this.chains.get(url) ?? Promise.resolve();
    const signal = this.abort.signal;
    const next = previous
      .then(() => this.deliver(url, method, params, signal))
      .finally(() => {
        if (this.chains.get(url) === next) this.chains.delete(url);
      });
    this.chains.set(url, next);
  }

  private async deliver(
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted) return;
    const body = new URLSearchParams(params).toString();
    const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${body}` : url;
    const headers: Record<string, string> = { 'User-Agent': 'TwilioProxy/1.1 (studio-async emulator)' };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
    if (this.options.authToken) {
      headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(
        this.options.authToken,
        target,
        method === 'POST' ? params : {},
      );
    }
    try {
      const response = await fetch(target, {
        method,
        headers,
        body: method === 'POST' ? body : undefined,
        signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      if (!response.ok)
        this.options.log(`status callback ${params.StatusCallbackEvent} to ${url} answered HTTP ${response.status}`);
    } catch (error) {
      if (!signal.aborted)
        this.options.log(`status callback ${params.StatusCallbackEvent} to ${url} failed: ${(error as Error).message}`);
    }
  }
}
