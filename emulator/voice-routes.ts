/** Api 2010-04-01 handlers for Conferences, Participants and Calls, over the VoiceStore. */
import { json } from './http-io';
import { uriPage } from './paging';
import { one, type HandlerInput, type Route, type RouteTable } from './routes';
import { rfc2822, utcDay, type Clock } from './time';
import { DEFAULT_PROFILE, type BehaviourSwitches } from './twilio-behaviour';
import { ErrorCode, TwilioApiError } from './twilio-errors';
import type { Call, Conference, Participant, VoiceStore } from './voice-store';

const API_VERSION = '2010-04-01';

/**
 * From 2026-09-30 Twilio lists only `in-progress` conferences when no Status filter is given
 * (Twilio's announced change of default). The emulator follows its clock, so callers that forget
 * Status break here too.
 */
export const CONFERENCE_DEFAULT_STATUS_FILTER_FROM = Date.UTC(2026, 8, 30);

function accountPath(accountSid: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}`;
}

function renderConference(accountSid: string, c: Conference): Record<string, unknown> {
  const base = `${accountPath(accountSid)}/Conferences/${c.sid}`;
  return {
    account_sid: accountSid,
    date_created: rfc2822(c.dateCreated),
    date_updated: rfc2822(c.dateUpdated),
    api_version: API_VERSION,
    friendly_name: c.friendlyName,
    region: 'us1',
    sid: c.sid,
    status: c.status,
    uri: `${base}.json`,
    subresource_uris: { participants: `${base}/Participants.json`, recordings: `${base}/Recordings.json` },
    reason_conference_ended: c.reasonEnded,
    call_sid_ending_conference: c.callSidEnding,
  };
}

function renderParticipant(accountSid: string, conference: Conference, p: Participant): Record<string, unknown> {
  return {
    account_sid: accountSid,
    call_sid: p.callSid,
    label: null,
    call_sid_to_coach: null,
    coaching: false,
    conference_sid: conference.sid,
    date_created: rfc2822(p.joinedAt),
    date_updated: rfc2822(p.joinedAt),
    end_conference_on_exit: p.endConferenceOnExit,
    muted: false,
    hold: false,
    start_conference_on_enter: p.startConferenceOnEnter,
    status: 'connected',
    queue_time: '0',
    uri: `${accountPath(accountSid)}/Conferences/${conference.sid}/Participants/${p.callSid}.json`,
  };
}

function renderCall(accountSid: string, call: Call): Record<string, unknown> {
  const base = `${accountPath(accountSid)}/Calls/${call.sid}`;
  return {
    sid: call.sid,
    date_created: rfc2822(call.dateCreated),
    date_updated: rfc2822(call.dateUpdated),
    parent_call_sid: null,
    account_sid: accountSid,
    to: call.to,
    to_formatted: call.to,
    from: call.from,
    from_formatted: call.from,
    phone_number_sid: null,
    status: call.status,
    start_time: rfc2822(call.startTime),
    end_time: call.endTime === null ? null : rfc2822(call.endTime),
    duration: call.endTime === null ? null : String(Math.round((call.endTime - call.startTime) / 1000)),
    price: null,
    price_unit: 'USD',
    direction: 'inbound',
    answered_by: null,
    api_version: API_VERSION,
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri: `${base}.json`,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      events: `${base}/Events.json`,
      streams: `${base}/Streams.json`,
    },
  };
}

/** Fetch or update of one resource: 200 with what `find` returns (after any update), rendered for the account. */
function resourceRoute<T>(
  name: string,
  render: (accountSid: string, resource: T) => Record<string, unknown>,
  find: (input: HandlerInput) => T,
): Route {
  return { name, handle: (input) => json(200, render(input.accountSid, find(input))) };
}

/** `DateCreated`, `DateCreated<` (on or before) and `DateCreated>` (on or after), by UTC day. */
function matchesDay(query: HandlerInput['query'], name: string, ms: number): boolean {
  const day = utcDay(ms);
  const exact = one(query, name);
  const before = one(query, `${name}<`);
  const after = one(query, `${name}>`);
  return (!exact || day === exact) && (!before || day <= before) && (!after || day >= after);
}

/** Conferences as listed: filtered by FriendlyName, Status (default by the clock) and dates, newest first. */
function listedConferences(
  store: VoiceStore,
  clock: Clock,
  switches: () => BehaviourSwitches,
  query: HandlerInput['query'],
): Conference[] {
  const friendlyName = one(query, 'FriendlyName');
  const status = one(query, 'Status') ?? (clock() >= CONFERENCE_DEFAULT_STATUS_FILTER_FROM ? 'in-progress' : undefined);
  // V12: after the 2026-09-30 split each list call answers in-progress or completed rooms;
  // whether Status=init still finds the rooms waiting to start is unknown. With the switch
  // off they are not listable at all (whatever the clock says: the profile plays Twilio as
  // the service meets it after the rollout).
  const unlistable = status === 'init' && !switches().listInitConferencesByStatus;
  return (
    (unlistable ? [] : store.listConferences())
      .map((c, order) => ({ c, order }))
      .filter(({ c }) => (!friendlyName || c.friendlyName === friendlyName) && (!status || c.status === status))
      .filter(
        ({ c }) => matchesDay(query, 'DateCreated', c.dateCreated) && matchesDay(query, 'DateUpdated', c.dateUpdated),
      )
      // Newest first, as Twilio lists them.
      .sort((a, b) => b.c.dateCreated - a.c.dateCreated || b.order - a.order)
      .map(({ c }) => c)
  );
}

function conferenceRoutes(store: VoiceStore, clock: Clock, switches: () => BehaviourSwitches): RouteTable {
  return {
    'api:ListConference': {
      name: 'api.conferences.list',
      handle: ({ accountSid, query }) => {
        const conferences = listedConferences(store, clock, switches, query);
        return json(
          200,
          uriPage({
            key: 'conferences',
            all: conferences,
            render: (c) => renderConference(accountSid, c),
            base: `${accountPath(accountSid)}/Conferences.json`,
            query,
          }),
        );
      },
    },
    'api:FetchConference': resourceRoute('api.conferences.fetch', renderConference, ({ params }) =>
      store.getConference(params.Sid),
    ),
    // Announcements are not simulated; only Status=completed changes anything.
    'api:UpdateConference': resourceRoute('api.conferences.update', renderConference, ({ params, form }) =>
      one(form, 'Status') === 'completed' ? store.endConferenceViaApi(params.Sid) : store.getConference(params.Sid),
    ),
  };
}

function participantRoutes(store: VoiceStore): RouteTable {
  return {
    'api:ListParticipant': {
      name: 'api.participants.list',
      handle: ({ accountSid, params, query }) => {
        const conference = store.getConference(params.ConferenceSid);
        // Nobody is ever muted, on hold or coaching in the emulator.
        const flagged = ['Muted', 'Hold', 'Coaching'].some((name) => one(query, name) === 'true');
        const participants = flagged ? [] : [...conference.participants.values()];
        return json(
          200,
          uriPage({
            key: 'participants',
            all: participants,
            render: (p) => renderParticipant(accountSid, conference, p),
            sidOf: (p) => p.callSid,
            base: `${accountPath(accountSid)}/Conferences/${conference.sid}/Participants.json`,
            query,
          }),
        );
      },
    },
    'api:FetchParticipant': {
      name: 'api.participants.fetch',
      handle: ({ accountSid, params }) => {
        const conference = store.getConference(params.ConferenceSid);
        const participant = conference.participants.get(params.CallSid);
        if (!participant) {
          throw new TwilioApiError(
            404,
            ErrorCode.notFound,
            `Participant ${params.CallSid} is not in conference ${conference.sid}`,
          );
        }
        return json(200, renderParticipant(accountSid, conference, participant));
      },
    },
    'api:DeleteParticipant': {
      name: 'api.participants.remove',
      handle: ({ params }) => {
        store.removeParticipant(params.ConferenceSid, params.CallSid);
        return json(204);
      },
    },
  };
}

function callRoutes(store: VoiceStore): RouteTable {
  return {
    'api:FetchCall': resourceRoute('api.calls.fetch', renderCall, ({ params }) => store.getCall(params.Sid)),
    'api:UpdateCall': resourceRoute('api.calls.update', renderCall, ({ params, form }) =>
      store.updateCall(params.Sid, {
        twiml: one(form, 'Twiml'),
        url: one(form, 'Url'),
        method: one(form, 'Method'),
        status: one(form, 'Status'),
      }),
    ),
  };
}

export function voiceRoutes(
  store: VoiceStore,
  clock: Clock,
  switches: () => BehaviourSwitches = () => DEFAULT_PROFILE.switches,
): RouteTable {
  return { ...conferenceRoutes(store, clock, switches), ...participantRoutes(store), ...callRoutes(store) };
}
