/**
 * Simulated calls and conferences (the part of Programmable Voice the service touches).
 *
 * Conference life cycle, as Twilio documents it:
 * - the first participant creates the conference for a room name (`friendlyName`); status `init`;
 * - it becomes `in-progress` once at least two participants are in it and one of them has
 *   startConferenceOnEnter (default true): "Conferences will not start until at least two
 *   participants join" (TwiML <Conference> docs); one moderator alone leaves it `init`;
 * - it becomes `completed` when ended by REST (`Status=completed`), when a participant with
 *   endConferenceOnExit leaves, or when the last participant leaves; completed conferences stay
 *   listable and a room name can then get a new conference (one non-completed at a time).
 * Whether REST may end a conference that is still `init` is not documented: the behaviour
 * profile decides (`endInitConferenceByRest`, twilio-behaviour.ts).
 *
 * A call exists from the moment the caller dials in (control API `createCall`), before and
 * between conferences. A call that leaves a conference by anything but hanging up, or that is
 * redirected by REST anywhere, is "released": its TwiML goes on (after `<Dial>`, or at the
 * redirect target). Every release of a call is kept and numbered (`seq` 1, 2, ...); releases are
 * what a simulated caller waits for.
 */
import { DEFAULT_ACCOUNT_SID, isSid, newSid } from './sids';
import type { Clock } from './time';
import { DEFAULT_PROFILE, type BehaviourSwitches } from './twilio-behaviour';
import { ErrorCode, TwilioApiError } from './twilio-errors';

export type ConferenceStatus = 'init' | 'in-progress' | 'completed';

export type ConferenceEndReason =
  | 'conference-ended-via-api'
  | 'participant-with-end-conference-on-exit-left'
  | 'last-participant-left'
  | 'last-participant-kicked';

/** Why a call left its conference (or was redirected). */
export type ReleaseReason =
  'conference-ended' | 'call-redirected' | 'call-completed' | 'participant-removed' | 'caller-hangup';

export type ConferenceEventName = 'conference-start' | 'conference-end' | 'participant-join' | 'participant-leave';

export interface Participant {
  callSid: string;
  joinedAt: number;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
}

export interface ConferenceCallbackConfig {
  url: string;
  method: 'GET' | 'POST';
  /** StatusCallbackEvent values to send, e.g. `participant-leave`. */
  events: Set<string>;
}

export interface Conference {
  sid: string;
  accountSid: string;
  friendlyName: string;
  status: ConferenceStatus;
  dateCreated: number;
  dateUpdated: number;
  participants: Map<string, Participant>;
  reasonEnded: ConferenceEndReason | null;
  callSidEnding: string | null;
  /** Set by the first participant that asks for status callbacks, as on Twilio. */
  callback: ConferenceCallbackConfig | null;
  /** SequenceNumber of the last status callback sent. */
  sequence: number;
}

export interface CallRelease {
  /** 1 for the call's first release, then 2, 3, ... */
  seq: number;
  reason: ReleaseReason;
  at: number;
  conferenceSid: string | null;
  /** For `call-redirected`: the new TwiML or URL. */
  twiml?: string;
  url?: string;
  method?: string;
}

export interface Call {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  status: 'in-progress' | 'completed';
  dateCreated: number;
  dateUpdated: number;
  startTime: number;
  endTime: number | null;
  conferenceSid: string | null;
  /** Every release of the call, oldest first (`seq` = index + 1). */
  releases: CallRelease[];
  /** How many releases the call had when it last joined a conference (0 if it never joined). */
  releasesBeforeJoin: number;
}

export interface NewCall {
  callSid?: string;
  from?: string;
  to?: string;
  accountSid?: string;
}

export interface ConferenceEvent {
  name: ConferenceEventName;
  conference: Conference;
  participant?: Participant;
  /** Human-readable `Reason` sent with leave and end events. */
  reason?: string;
  /**
   * Leave events: the participant's call status as it leaves (`completed` when they hung up) and
   * why it left. Both are facts of the simulation; whether the callback carries them is the
   * behaviour profile's `participantCallStatusOnLeave` (status-callbacks.ts).
   */
  participantCallStatus?: 'in-progress' | 'completed';
  reasonParticipantLeft?: ParticipantLeftReason;
}

/**
 * ReasonParticipantLeft values. INVENTED: Twilio's changelog (2023-10-25) only says the parameter
 * exists on participant-leave; no public source lists its values.
 */
export type ParticipantLeftReason =
  | 'participant_hung_up'
  | 'call_ended_via_api'
  | 'participant_updated_via_api'
  | 'participant_kicked'
  | 'conference_ended';

export interface VoiceObserver {
  conferenceEvent(event: ConferenceEvent): void;
  callReleased(call: Call, release: CallRelease): void;
}

export interface JoinRequest {
  friendlyName: string;
  callSid?: string;
  startConferenceOnEnter?: boolean;
  endConferenceOnExit?: boolean;
  statusCallback?: string;
  statusCallbackMethod?: 'GET' | 'POST';
  /** Twilio's words: start end join leave mute hold modify speaker announcement. */
  statusCallbackEvent?: string[];
  from?: string;
  to?: string;
  accountSid?: string;
}

/** statusCallbackEvent words -> StatusCallbackEvent values (only the first four are ever produced here). */
export const CALLBACK_EVENT_WORDS: Record<string, string[]> = {
  start: ['conference-start'],
  end: ['conference-end'],
  join: ['participant-join'],
  leave: ['participant-leave'],
  mute: ['participant-mute', 'participant-unmute'],
  hold: ['participant-hold', 'participant-unhold'],
  modify: ['participant-modify'],
  speaker: ['participant-speech-start', 'participant-speech-stop'],
  announcement: ['announcement-end', 'announcement-fail'],
};

/** Twilio sends conference start and end when a callback is set without events. */
const DEFAULT_CALLBACK_EVENTS = ['start', 'end'];

/** A control-API request that the simulated call state cannot honour. */
export class CallStateError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CallStateError';
  }
}

export class VoiceStore {
  private readonly conferences = new Map<string, Conference>();
  private readonly calls = new Map<string, Call>();

  constructor(
    private readonly clock: Clock,
    private readonly observer: VoiceObserver,
    /** The behaviour profile's switches right now (they may change at run time). */
    private readonly switches: () => BehaviourSwitches = () => DEFAULT_PROFILE.switches,
  ) {}

  // ---- control API: what the simulated caller does ---------------------------------------------

  /** The caller dials in: an in-progress call that is in no conference yet. */
  createCall(request: NewCall): Call {
    const callSid = request.callSid ?? newSid('CA');
    if (!isSid(callSid, 'CA')) throw new CallStateError(400, `callSid must look like CA + 32 hex digits: ${callSid}`);
    if (this.calls.has(callSid)) throw new CallStateError(409, `call ${callSid} exists already`);
    return this.newCall(callSid, request);
  }

  join(request: JoinRequest): { conference: Conference; call: Call } {
    const now = this.clock();
    const callSid = request.callSid ?? newSid('CA');
    if (!isSid(callSid, 'CA')) throw new CallStateError(400, `callSid must look like CA + 32 hex digits: ${callSid}`);
    const events = request.statusCallbackEvent ?? DEFAULT_CALLBACK_EVENTS;
    const unknown = events.filter((e) => !(e in CALLBACK_EVENT_WORDS));
    if (unknown.length > 0) throw new CallStateError(400, `unknown statusCallbackEvent: ${unknown.join(', ')}`);

    let call = this.calls.get(callSid);
    if (call?.status === 'completed') throw new CallStateError(409, `call ${callSid} has ended`);
    if (call?.conferenceSid)
      throw new CallStateError(409, `call ${callSid} is already in conference ${call.conferenceSid}`);
    call ??= this.newCall(callSid, request);
    const accountSid = request.accountSid ?? call.accountSid;

    let conference = this.activeConference(request.friendlyName);
    if (!conference) {
      conference = {
        sid: newSid('CF'),
        accountSid,
        friendlyName: request.friendlyName,
        status: 'init',
        dateCreated: now,
        dateUpdated: now,
        participants: new Map(),
        reasonEnded: null,
        callSidEnding: null,
        callback: null,
        sequence: 0,
      };
      this.conferences.set(conference.sid, conference);
    }
    if (!conference.callback && request.statusCallback) {
      conference.callback = {
        url: request.statusCallback,
        method: request.statusCallbackMethod ?? 'POST',
        events: new Set(events.flatMap((e) => CALLBACK_EVENT_WORDS[e])),
      };
    }

    const participant: Participant = {
      callSid,
      joinedAt: now,
      startConferenceOnEnter: request.startConferenceOnEnter ?? true,
      endConferenceOnExit: request.endConferenceOnExit ?? false,
    };
    conference.participants.set(callSid, participant);
    call.conferenceSid = conference.sid;
    call.releasesBeforeJoin = call.releases.length;
    call.dateUpdated = now;
    this.observer.conferenceEvent({ name: 'participant-join', conference, participant });
    // Two participants at least, one of them with startConferenceOnEnter (not necessarily the newcomer).
    const participants = [...conference.participants.values()];
    if (
      conference.status === 'init' &&
      participants.length >= 2 &&
      participants.some((p) => p.startConferenceOnEnter)
    ) {
      conference.status = 'in-progress';
      conference.dateUpdated = now;
      this.observer.conferenceEvent({ name: 'conference-start', conference });
    }
    return { conference, call };
  }

  /** The caller hangs up. */
  hangup(callSid: string): Call {
    const call = this.calls.get(callSid);
    if (!call) throw new CallStateError(404, `unknown call ${callSid}`);
    if (call.status === 'completed') throw new CallStateError(409, `call ${callSid} has already ended`);
    const conferenceSid = call.conferenceSid;
    this.leaveConference(call, 'Participant hung up', 'last-participant-left', 'completed', 'participant_hung_up');
    this.complete(call);
    this.release(call, { reason: 'caller-hangup', conferenceSid });
    return call;
  }

  // ---- REST API: what the service does ---------------------------------------------------------

  /** `POST Conferences/{Sid}.json Status=completed`. */
  endConferenceViaApi(conferenceSid: string): Conference {
    const conference = this.getConference(conferenceSid);
    if (conference.status === 'completed') {
      throw new TwilioApiError(
        400,
        ErrorCode.unexpectedConferenceStatus,
        `Conference ${conferenceSid} is not in progress; it has completed`,
      );
    }
    if (conference.status === 'init' && !this.switches().endInitConferenceByRest) {
      // 16099: "participant actions only apply to active, in-progress conferences".
      throw new TwilioApiError(
        400,
        ErrorCode.unexpectedConferenceStatus,
        `Conference ${conferenceSid} has not started yet (status init); only an in-progress conference can be ended`,
      );
    }
    this.endConference(conference, 'conference-ended-via-api', null, 'Conference ended via API');
    return conference;
  }

  /** `POST Calls/{Sid}.json` with Twiml / Url (redirect) or Status=completed (hang up). */
  updateCall(callSid: string, change: { twiml?: string; url?: string; method?: string; status?: string }): Call {
    const call = this.getCall(callSid);
    const redirect = change.twiml !== undefined || change.url !== undefined;
    if (!redirect && change.status === undefined) return call;
    if (call.status !== 'in-progress') {
      throw new TwilioApiError(400, ErrorCode.callNotInProgress, 'Call is not in-progress. Cannot redirect.');
    }
    const conferenceSid = call.conferenceSid;
    if (change.status === 'completed') {
      this.leaveConference(
        call,
        'Participant updated via API',
        'last-participant-left',
        'completed',
        'call_ended_via_api',
      );
      this.complete(call);
      this.release(call, { reason: 'call-completed', conferenceSid });
    } else if (redirect) {
      // A call in no conference (still in its own TwiML) is simply redirected.
      this.leaveConference(
        call,
        'Participant updated via API',
        'last-participant-left',
        'in-progress',
        'participant_updated_via_api',
      );
      this.release(call, {
        reason: 'call-redirected',
        conferenceSid,
        ...(change.twiml !== undefined
          ? { twiml: change.twiml }
          : { url: change.url, method: change.method ?? 'POST' }),
      });
    }
    // Status=canceled only affects queued or ringing calls; an in-progress call carries on.
    call.dateUpdated = this.clock();
    return call;
  }

  /** `DELETE Conferences/{ConferenceSid}/Participants/{CallSid}.json`: kick one participant. */
  removeParticipant(conferenceSid: string, callSid: string): void {
    const conference = this.getConference(conferenceSid);
    const call = this.calls.get(callSid);
    if (!conference.participants.has(callSid) || !call) {
      throw new TwilioApiError(404, ErrorCode.notFound, `Participant ${callSid} is not in conference ${conferenceSid}`);
    }
    this.leaveConference(
      call,
      'Participant was kicked',
      'last-participant-kicked',
      'in-progress',
      'participant_kicked',
    );
    this.release(call, { reason: 'participant-removed', conferenceSid });
  }

  getConference(sid: string): Conference {
    const conference = this.conferences.get(sid);
    if (!conference)
      throw new TwilioApiError(404, ErrorCode.notFound, `The requested resource Conference ${sid} was not found`);
    return conference;
  }

  getCall(sid: string): Call {
    const call = this.calls.get(sid);
    if (!call) throw new TwilioApiError(404, ErrorCode.notFound, `The requested resource Call ${sid} was not found`);
    return call;
  }

  findCall(sid: string): Call | undefined {
    return this.calls.get(sid);
  }

  /** The call's first release numbered above `after`, if it happened. */
  releaseAfter(sid: string, after: number): CallRelease | undefined {
    return this.calls.get(sid)?.releases.find((release) => release.seq > after);
  }

  listConferences(): Conference[] {
    return [...this.conferences.values()];
  }

  clear(): void {
    this.conferences.clear();
    this.calls.clear();
  }

  // ---- internals ---------------------------------------------------------------------------------

  private activeConference(friendlyName: string): Conference | undefined {
    return [...this.conferences.values()].find((c) => c.friendlyName === friendlyName && c.status !== 'completed');
  }

  private leaveConference(
    call: Call,
    reason: string,
    lastReason: ConferenceEndReason,
    participantCallStatus: 'in-progress' | 'completed',
    reasonParticipantLeft: ParticipantLeftReason,
  ): void {
    const conference = call.conferenceSid ? this.conferences.get(call.conferenceSid) : undefined;
    call.conferenceSid = null;
    if (!conference) return;
    const participant = conference.participants.get(call.sid);
    if (!participant) return;
    conference.participants.delete(call.sid);
    conference.dateUpdated = this.clock();
    this.observer.conferenceEvent({
      name: 'participant-leave',
      conference,
      participant,
      reason,
      participantCallStatus,
      reasonParticipantLeft,
    });
    if (conference.status === 'completed') return;
    if (participant.endConferenceOnExit) {
      this.endConference(
        conference,
        'participant-with-end-conference-on-exit-left',
        call.sid,
        'Participant with endConferenceOnExit left',
      );
    } else if (conference.participants.size === 0) {
      this.endConference(
        conference,
        lastReason,
        call.sid,
        lastReason === 'last-participant-kicked' ? 'Last participant was kicked' : 'Last participant left',
      );
    }
  }

  /** Everyone still in the conference goes on with their TwiML after `<Dial>`. */
  private endConference(
    conference: Conference,
    reason: ConferenceEndReason,
    callSidEnding: string | null,
    reasonText: string,
  ): void {
    conference.status = 'completed';
    conference.reasonEnded = reason;
    conference.callSidEnding = callSidEnding;
    conference.dateUpdated = this.clock();
    for (const participant of [...conference.participants.values()]) {
      conference.participants.delete(participant.callSid);
      this.observer.conferenceEvent({
        name: 'participant-leave',
        conference,
        participant,
        reason: reasonText,
        participantCallStatus: 'in-progress',
        reasonParticipantLeft: 'conference_ended',
      });
      const call = this.calls.get(participant.callSid);
      if (call) {
        call.conferenceSid = null;
        this.release(call, { reason: 'conference-ended', conferenceSid: conference.sid });
      }
    }
    this.observer.conferenceEvent({ name: 'conference-end', conference, reason: reasonText });
  }

  private complete(call: Call): void {
    const now = this.clock();
    call.status = 'completed';
    call.endTime = now;
    call.dateUpdated = now;
  }

  private newCall(callSid: string, request: NewCall): Call {
    const now = this.clock();
    const call: Call = {
      sid: callSid,
      accountSid: request.accountSid ?? DEFAULT_ACCOUNT_SID,
      from: request.from ?? '+15005550006',
      to: request.to ?? '+15005550001',
      status: 'in-progress',
      dateCreated: now,
      dateUpdated: now,
      startTime: now,
      endTime: null,
      conferenceSid: null,
      releases: [],
      releasesBeforeJoin: 0,
    };
    this.calls.set(callSid, call);
    return call;
  }

  private release(
    call: Call,
    release: Omit<CallRelease, 'seq' | 'at' | 'conferenceSid'> & { conferenceSid?: string | null },
  ): void {
    const full: CallRelease = {
      seq: call.releases.length + 1,
      ...release,
      conferenceSid: release.conferenceSid ?? null,
      at: this.clock(),
    };
    call.releases.push(full);
    this.observer.callReleased(call, full);
  }
}
