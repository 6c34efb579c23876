/**
 * The probes: one per behaviour in docs/TWILIO-DIFFERENCES.md that an account can settle. Each
 * runs the same code on Twilio and on the emulator (target.ts); what it concludes comes only from
 * what it observed (HTTP answers, the probe endpoint's records), never from the profile played.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixedSid } from '../emulator/sids';
import { prepareFlows } from '../dev/flows/flow-files';
import { placeholdersIn } from '../dev/flows/placeholders';
import { PROJECT_ROOT } from '../dev/paths';
import { CleanupRegistry } from './cleanup';
import { restError } from './client';
import { EventWatch, isConf, type ProbeEvent } from './events';
import { busyFlow, probeFlow } from './flows';
import type { Answer, ProbeAnswer, ProbeResult } from './record';
import { probeUrl, type PlacedCall, type Target } from './target';
import { projectFlowFiles } from '../dev/paths';
import { flowSidPlaceholderName } from '../studio/project-subflows';

export interface ProbeContext {
  target: Target;
  watch: EventWatch;
  /** This probe's resources; removed when it ends, however it ends. */
  cleanup: CleanupRegistry;
  evidence: Record<string, unknown>;
  signal: AbortSignal;
  /** Throws when the run was asked to fail this probe (tests of the cleanup). */
  failpoint(): void;
}

export interface Probe {
  name: string;
  /** The ids it settles, for the plan. */
  ids: string[];
  what: string;
  /** Calls it places (each about a minute at most), for the cost estimate. */
  calls: number;
  /** Studio executions it starts besides its calls' (for the cost estimate). */
  executions?: number;
  needsVoice: boolean;
  run(ctx: ProbeContext): Promise<ProbeAnswer[]>;
}

const FINAL_CALL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** Waits `ms`; rejects with `interrupted` once the run is stopped. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {
    throw new Error('interrupted');
  });
}

/** What Twilio answered a REST action: the evidence `action` returns, or the REST error. */
async function restOutcome(action: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return await action();
  } catch (error) {
    return { error: restError(error) };
  }
}

/** The `{status, code}` of a refused REST action (see restOutcome). */
const refusal = (outcome: Record<string, unknown>) => outcome.error as { status?: number; code?: number };

/** Ends a call by REST if it is still up; what Twilio answered, for evidence. */
function endCall(target: Target, callSid: string): Promise<Record<string, unknown>> {
  return restOutcome(async () => {
    const call = await target.client.calls(callSid).fetch();
    if (FINAL_CALL_STATUSES.has(call.status)) return { alreadyEnded: call.status };
    const status = call.status === 'queued' || call.status === 'ringing' ? 'canceled' : 'completed';
    const updated = await target.client.calls(callSid).update({ status });
    return { httpStatus: 200, status: updated.status };
  });
}

/** The parameters of a conference callback worth keeping (all of them but the timestamps' noise). */
function callbackEvidence(event: ProbeEvent | undefined, t0: number): Record<string, unknown> | null {
  if (!event) return null;
  const { key: _key, run: _run, probe: _probe, step: _step, ...params } = event.params;
  return { afterMs: event.at - t0, params };
}

/** A request the probe endpoint recorded at `step` (for `room` only, when given). */
const isStep = (step: string, room?: string) => (event: ProbeEvent) =>
  event.step === step && (room === undefined || event.params.room === room);

/** The report of the probe flow's TwiML Redirect widget leaving along `name`. */
const isTransition = (name: string) => (event: ProbeEvent) => event.step === 'transition' && event.params.name === name;

/** The transitions the probe flow's TwiML Redirect widget reported, in order. */
async function transitionsSeen(ctx: ProbeContext): Promise<string[]> {
  return (await ctx.watch.all()).filter((e) => e.step === 'transition').map((e) => e.params.name);
}

const answer = (
  id: string,
  question: string,
  value: Answer,
  sentence: string,
  switchName?: ProbeAnswer['switch'],
): ProbeAnswer => ({
  id,
  ...(switchName ? { switch: switchName } : {}),
  question,
  answer: value,
  sentence,
});

/** The answer to `id`, with the question it asks and the switch it settles (ANSWER_INFO). */
function answerFor(id: string, value: Answer, sentence: string): ProbeAnswer {
  const info = ANSWER_INFO[id];
  return answer(id, info?.question ?? id, value, sentence, info?.switch);
}

/** A call into `probe`'s flow, its TwiML Redirect widget pointing at `redirect`; ended at cleanup. */
async function placeProbeCall(
  ctx: ProbeContext,
  probe: string,
  redirect: { url: string; timeoutSeconds: number },
  callOptions?: { fallbackUrl?: string },
): Promise<PlacedCall> {
  const { target } = ctx;
  const placed = await target.callIntoFlow(ctx.cleanup, probe, probeFlow(target, probe, redirect), callOptions);
  ctx.cleanup.add(`the probe's call (${probe})`, async () => {
    await endCall(target, placed.callSid);
  });
  return placed;
}

/** Ends the probe's call now, keeping what Twilio answered as evidence (`endCall` unless told). */
async function endProbeCall(ctx: ProbeContext, placed: PlacedCall, key = 'endCall'): Promise<void> {
  ctx.evidence[key] = await endCall(ctx.target, placed.callSid);
}

/** A call into a probe flow whose TwiML Redirect puts the caller alone in `room`; waits until they are in. */
async function callIntoRoom(
  ctx: ProbeContext,
  probe: string,
  room: string,
  extra: Record<string, string | number> = {},
  redirectTimeoutSeconds = 600,
) {
  const { target } = ctx;
  const url = probeUrl(target, { probe, step: 'room', room, ...extra });
  const startedAt = Date.now();
  const placed = await placeProbeCall(ctx, probe, { url, timeoutSeconds: redirectTimeoutSeconds });
  const join = await ctx.watch.waitFor(isConf('participant-join', room), target.timings.answerMs);
  ctx.evidence.join = join ? { afterMs: join.at - startedAt, conferenceSid: join.params.ConferenceSid } : null;
  return { placed, join, startedAt };
}

const neverJoined = (ids: string[]) =>
  ids.map((id) =>
    answerFor(
      id,
      'unknown',
      'The call never reached the probe room (not answered, or the TwiML failed), so nothing was seen.',
    ),
  );

// ---- the probes -----------------------------------------------------------------------------------

const Q = {
  V1: 'Does a caller alone with startConferenceOnEnter=false wait in an `init` conference?',
  V12: 'Does `GET Conferences.json?Status=init` list a room that is waiting to start?',
  V2: 'Does REST `Status=completed` end a conference that is still `init`?',
  V10: 'Does `<Dial timeLimit>` take the caller out of a `<Conference>` when it runs out?',
  callUpdate: 'Does updating a live Call with a new `Url` move it out of its conference to that TwiML?',
  V9: 'Does `participant-leave` carry `ParticipantCallStatus` (`in-progress` when moved on, `completed` when the call ended)?',
  S4: "When a TwiML Redirect widget's `timeout` passes, does Studio take the call back from the foreign TwiML?",
  V18: "Does a conference's waitUrl honour the connection overrides of its URL fragment (`#rc=2&rp=4xx`: a 429 is retried twice)?",
  S5: "Does the TwiML Redirect widget's `fail` fire when Voice's fetch of its URL fails (HTTP 500)?",
  V14: "When that fetch fails, does Voice request the call's Fallback URL?",
  F4: "Does a body parameter named `request` replace the runtime's own `event.request` ({headers, cookies}), for JSON and form bodies?",
  F5: 'Does `JSON.stringify(event)` differ from the JSON body sent (integer-like keys moved first, `1.0` written as `1`)?',
  S13: 'Does Studio FlowValidate accept both shipped flows once filled with a deployed service?',
  S13u: 'Does Studio FlowValidate accept both shipped flows with their `__PLACEHOLDERS__` left in?',
  Y1: 'Does creating a Sync Document with a taken UniqueName fail with 54301?',
  Y2: 'Does fetching a missing Sync Document fail with HTTP 404?',
  Y3: 'Does an update with a stale `If-Match` fail with 54103?',
  Y5: 'Is a Sync Document gone soon after its TTL passes?',
  S18: 'When Executions.create names a contact that already has an active execution of that flow, does Studio end that one and start the new one (instead of refusing)?',
};

/** Every id a probe can answer: its question and the switch it settles. */
export const ANSWER_INFO: Record<string, { question: string; switch?: ProbeAnswer['switch'] }> = {
  V1: { question: Q.V1 },
  V12: { question: Q.V12, switch: 'listInitConferencesByStatus' },
  V2: { question: Q.V2, switch: 'endInitConferenceByRest' },
  V10: { question: Q.V10, switch: 'dialTimeLimitBoundsConference' },
  'call-update': { question: Q.callUpdate },
  V9: { question: Q.V9, switch: 'participantCallStatusOnLeave' },
  S4: { question: Q.S4, switch: 'studioTakesCallBackOnTimeout' },
  V18: { question: Q.V18, switch: 'waitUrlHonoursConnectionOverrides' },
  S5: { question: Q.S5 },
  V14: { question: Q.V14 },
  F4: { question: Q.F4 },
  F5: { question: Q.F5 },
  S13: { question: Q.S13 },
  S13u: { question: Q.S13u },
  Y1: { question: Q.Y1 },
  Y2: { question: Q.Y2 },
  Y3: { question: Q.Y3 },
  Y5: { question: Q.Y5 },
  S18: { question: Q.S18, switch: 'executionCreateEndsActiveExecution' },
};

/** V18: how many times the room's always-refused waitUrl was requested, once the retries had time to come. */
async function waitUrlRequests(ctx: ProbeContext, room: string): Promise<number> {
  const requests = async () => (await ctx.watch.all()).filter(isStep('wait-refused', room)).length;
  const deadline = Date.now() + ctx.target.timings.settleMs;
  let seen = await requests();
  while (seen < 3 && Date.now() < deadline) {
    await pause(ctx.target.pollMs, ctx.signal);
    seen = await requests();
  }
  return seen;
}

function waitRetryAnswer(requests: number): ProbeAnswer {
  if (requests === 0) return answerFor('V18', 'unknown', 'The waitUrl was never requested, so nothing was seen.');
  return requests > 1
    ? answerFor(
        'V18',
        true,
        `Yes: the refused waitUrl was requested ${requests} times (the fragment asked for 2 retries).`,
      )
    : answerFor('V18', false, 'No: the refused waitUrl was requested once and not retried.');
}

/** V1/V12: the waiting room as fetched, and whether listing with Status=init finds it. */
async function lookUpRoom(ctx: ProbeContext, room: string, conferenceSid: string) {
  const { client } = ctx.target;
  const fetched = await client.conferences(conferenceSid).fetch();
  ctx.evidence.fetchedStatus = fetched.status;
  const init = await client.conferences.list({ friendlyName: room, status: 'init' });
  const inProgress = await client.conferences.list({ friendlyName: room, status: 'in-progress' });
  ctx.evidence.listed = { init: init.length, inProgress: inProgress.length };
  return {
    status: fetched.status,
    init: init.length,
    inProgress: inProgress.length,
    listed: init.some((c) => c.sid === conferenceSid),
  };
}

/** V2: ends the waiting room by REST; what Twilio answered, the Dial action if it came, the room's status after. */
async function endRoomByRest(ctx: ProbeContext, room: string, conferenceSid: string) {
  const { target, evidence } = ctx;
  const t0 = Date.now();
  const update = await restOutcome(async () => {
    const ended = await target.client.conferences(conferenceSid).update({ status: 'completed' });
    return { httpStatus: 200, status: ended.status };
  });
  evidence.endByRest = update;
  const dialAction = await ctx.watch.waitFor(isStep('dial-action', room), target.timings.settleMs);
  evidence.dialActionAfterMs = dialAction ? dialAction.at - t0 : null;
  const after = await target.client.conferences(conferenceSid).fetch();
  evidence.statusAfterEnd = after.status;
  return { update, dialAction, status: after.status };
}

function endByRestAnswer({ update, dialAction, status }: Awaited<ReturnType<typeof endRoomByRest>>): ProbeAnswer {
  if ('error' in update) {
    const err = refusal(update);
    return answerFor(
      'V2',
      false,
      `Refused: HTTP ${err.status ?? '?'}, code ${err.code ?? '?'}; the room stayed ${status}.`,
    );
  }
  return status === 'completed' || dialAction
    ? answerFor(
        'V2',
        true,
        `Ended: HTTP 200, the room is ${status}${dialAction ? ' and the Dial action was requested' : ''}.`,
      )
    : answerFor('V2', false, `Accepted (HTTP 200) but the room stayed ${status} and no Dial action came.`);
}

const rooms: Probe = {
  name: 'rooms',
  ids: ['V1', 'V12', 'V2', 'V18'],
  what: 'one call waits alone in a conference whose waitUrl is refused (429, with retry overrides); the room is fetched, listed with Status=init and ended by REST',
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const room = `${ctx.target.namePrefix}rooms`;
    const { placed, join } = await callIntoRoom(ctx, 'rooms', room, { waitRefused: 1 });
    if (!join) return neverJoined(['V1', 'V12', 'V2', 'V18']);
    ctx.failpoint();
    const waitRequests = await waitUrlRequests(ctx, room);
    ctx.evidence.refusedWaitUrlRequests = waitRequests;
    const seen = await lookUpRoom(ctx, room, join.params.ConferenceSid);
    const ended = await endRoomByRest(ctx, room, join.params.ConferenceSid);
    await endProbeCall(ctx, placed);
    return [
      answerFor('V1', seen.status === 'init', `The room was \`${seen.status}\` with the caller alone in it.`),
      answerFor(
        'V12',
        seen.listed,
        seen.listed
          ? 'Listed: Status=init found the waiting room.'
          : `Not listed: Status=init answered ${seen.init} room(s), Status=in-progress ${seen.inProgress}.`,
      ),
      endByRestAnswer(ended),
      waitRetryAnswer(waitRequests),
    ];
  },
};

const timeLimit: Probe = {
  name: 'time-limit',
  ids: ['V10'],
  what: 'one call waits alone in a conference dialled with a short timeLimit; does the Dial action come at the limit?',
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const room = `${target.namePrefix}limit`;
    const limit = target.timings.timeLimitSeconds;
    evidence.timeLimitSeconds = limit;
    const { placed, join } = await callIntoRoom(ctx, 'time-limit', room, { timeLimit: limit });
    if (!join) return neverJoined(['V10']);
    const action = await ctx.watch.waitFor(isStep('dial-action', room), limit * 1000 + target.timings.settleMs);
    evidence.dialActionAfterJoinMs = action ? action.at - join.at : null;
    evidence.dialAction = action
      ? {
          DialCallStatus: action.params.DialCallStatus ?? null,
          DialCallDuration: action.params.DialCallDuration ?? null,
        }
      : null;
    await endProbeCall(ctx, placed);
    return [
      action
        ? answerFor(
            'V10',
            true,
            `Yes: the Dial action came ${((action.at - join.at) / 1000).toFixed(1)} s after the caller joined (timeLimit ${limit} s).`,
          )
        : answerFor(
            'V10',
            false,
            `No: the caller was still in the room ${limit + target.timings.settleMs / 1000} s after joining (timeLimit ${limit} s).`,
          ),
    ];
  },
};

/** call-update: a REST Url update that moves the call out of room `first` into room `second`; what followed. */
async function moveByRest(ctx: ProbeContext, placed: PlacedCall, first: string, second: string) {
  const { target, evidence } = ctx;
  const t0 = Date.now();
  const update = await restOutcome(async () => {
    await target.client.calls(placed.callSid).update({
      url: probeUrl(target, { probe: 'leave', step: 'moved', then: 'room', room: second }),
      method: 'POST',
    });
    return { httpStatus: 200 };
  });
  evidence.moveByRest = update;
  const moved = await ctx.watch.waitFor(isStep('moved'), target.timings.settleMs);
  const leftFirst = await ctx.watch.waitFor(isConf('participant-leave', first), target.timings.settleMs);
  const joinedSecond = await ctx.watch.waitFor(isConf('participant-join', second), target.timings.answerMs);
  evidence.movedFetchAfterMs = moved ? moved.at - t0 : null;
  evidence.leaveOnMove = callbackEvidence(leftFirst, t0);
  return { t0, update, moved, leftFirst, joinedSecond };
}

/** V9: ends the call by REST once it is in room `second`; the participant-leave that follows, if any. */
async function endInRoom(
  ctx: ProbeContext,
  placed: PlacedCall,
  second: string,
  joinedSecond: ProbeEvent | undefined,
): Promise<ProbeEvent | undefined> {
  let leftSecond: ProbeEvent | undefined;
  const t1 = Date.now();
  if (joinedSecond) {
    await endProbeCall(ctx, placed, 'endByRest');
    leftSecond = await ctx.watch.waitFor(isConf('participant-leave', second), ctx.target.timings.settleMs);
  }
  ctx.evidence.leaveOnEnd = callbackEvidence(leftSecond, t1);
  return leftSecond;
}

function callUpdateAnswer(move: Awaited<ReturnType<typeof moveByRest>>, settleMs: number): ProbeAnswer {
  const { t0, update, moved, leftFirst } = move;
  if (moved && leftFirst)
    return answerFor(
      'call-update',
      true,
      `Yes: the new Url was fetched ${moved.at - t0} ms after the update and the caller left the room.`,
    );
  if ('error' in update)
    return answerFor('call-update', false, `The update was refused (${JSON.stringify(update.error)}).`);
  return answerFor(
    'call-update',
    false,
    `No: ${moved ? 'the Url was fetched but no participant-leave came' : 'the new Url was never fetched'} within ${settleMs} ms.`,
  );
}

function leaveStatusAnswer(leftFirst: ProbeEvent | undefined, leftSecond: ProbeEvent | undefined): ProbeAnswer {
  if (!leftFirst || !leftSecond)
    return answerFor(
      'V9',
      'unknown',
      `Not every participant-leave arrived (on the move: ${leftFirst ? 'yes' : 'no'}, on the end: ${leftSecond ? 'yes' : 'no'}).`,
    );
  const onMove = leftFirst.params.ParticipantCallStatus;
  const onEnd = leftSecond.params.ParticipantCallStatus;
  if (onMove === undefined && onEnd === undefined)
    return answerFor('V9', false, 'Absent: neither participant-leave carried ParticipantCallStatus.');
  if (onMove === 'in-progress' && onEnd === 'completed')
    return answerFor('V9', true, 'Present: `in-progress` on the move, `completed` when the call was ended.');
  return answerFor(
    'V9',
    false,
    `Present with other values: \`${onMove ?? 'absent'}\` on the move, \`${onEnd ?? 'absent'}\` when the call was ended.`,
  );
}

const leave: Probe = {
  name: 'leave',
  ids: ['call-update', 'V9'],
  what: 'one call is moved out of a room by a REST Url update into a second room, then ended by REST; both participant-leave callbacks are kept',
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target } = ctx;
    const first = `${target.namePrefix}leave-a`;
    const second = `${target.namePrefix}leave-b`;
    const { placed, join } = await callIntoRoom(ctx, 'leave', first);
    if (!join) return neverJoined(['call-update', 'V9']);
    const move = await moveByRest(ctx, placed, first, second);
    const leftSecond = await endInRoom(ctx, placed, second, move.joinedSecond);
    return [callUpdateAnswer(move, target.timings.settleMs), leaveStatusAnswer(move.leftFirst, leftSecond)];
  },
};

const redirectTimeout: Probe = {
  name: 'redirect-timeout',
  ids: ['S4'],
  what: "one call is handed by a TwiML Redirect widget (short timeout) to TwiML that waits in a room; after the widget's timeout, does the caller leave the room?",
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const room = `${target.namePrefix}timeout`;
    const seconds = target.timings.redirectTimeoutSeconds;
    evidence.widgetTimeoutSeconds = seconds;
    const { placed, join, startedAt } = await callIntoRoom(ctx, 'redirect-timeout', room, {}, seconds);
    if (!join) return neverJoined(['S4']);
    const timedOut = await ctx.watch.waitFor(isTransition('timeout'), seconds * 1000 + target.timings.settleMs);
    evidence.timeoutTransitionAfterMs = timedOut ? timedOut.at - startedAt : null;
    const left = timedOut
      ? await ctx.watch.waitFor(isConf('participant-leave', room), target.timings.settleMs)
      : undefined;
    evidence.leaveAfterTimeoutMs = left && timedOut ? left.at - timedOut.at : null;
    evidence.transitions = await transitionsSeen(ctx);
    await endProbeCall(ctx, placed);
    if (!timedOut)
      return [
        answerFor(
          'S4',
          'unknown',
          `The widget's timeout transition never fired within ${seconds} s plus ${target.timings.settleMs} ms.`,
        ),
      ];
    return [
      left
        ? answerFor(
            'S4',
            true,
            `Yes: the caller left the room within ${Math.abs(left.at - timedOut.at)} ms of the timeout transition.`,
          )
        : answerFor(
            'S4',
            false,
            `No: the execution moved on along \`timeout\` but the caller was still in the room ${target.timings.settleMs} ms later.`,
          ),
    ];
  },
};

/** V14: the request for the call's Fallback URL that follows the failing fetch, if one comes. */
async function fallbackAfter(ctx: ProbeContext, fetched: ProbeEvent): Promise<ProbeEvent | undefined> {
  const fallback = await ctx.watch.waitFor(isStep('fallback'), ctx.target.timings.settleMs);
  ctx.evidence.fallbackAfterMs = fallback ? fallback.at - fetched.at : null;
  ctx.evidence.fallbackParams = fallback
    ? { ErrorCode: fallback.params.ErrorCode ?? null, hasErrorUrl: fallback.params.ErrorUrl !== undefined }
    : null;
  return fallback;
}

const redirectFail: Probe = {
  name: 'redirect-fail',
  ids: ['S5', 'V14'],
  what: "one call is handed by a TwiML Redirect widget to a URL that answers HTTP 500; which transition fires, and is the call's Fallback URL requested?",
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const seconds = target.timings.redirectTimeoutSeconds;
    const startedAt = Date.now();
    const placed = await placeProbeCall(
      ctx,
      'redirect-fail',
      { url: probeUrl(target, { probe: 'redirect-fail', step: 'fail500' }), timeoutSeconds: seconds },
      { fallbackUrl: probeUrl(target, { probe: 'redirect-fail', step: 'fallback' }) },
    );
    const fetched = await ctx.watch.waitFor(isStep('fail500'), target.timings.answerMs);
    evidence.failingUrlFetchedAfterMs = fetched ? fetched.at - startedAt : null;
    if (!fetched) {
      await endProbeCall(ctx, placed);
      const unseen = 'Voice never fetched the failing URL (the call was not answered?).';
      return [answerFor('S5', 'unknown', unseen), answerFor('V14', 'unknown', unseen)];
    }
    const fallback = await fallbackAfter(ctx, fetched);
    // Whatever the widget does, it does by its timeout at the latest.
    await pause(Math.max(0, startedAt + seconds * 1000 + target.timings.settleMs - Date.now()), ctx.signal);
    const transitions = await transitionsSeen(ctx);
    evidence.transitions = transitions;
    await endProbeCall(ctx, placed);
    const failed = transitions.includes('fail');
    return [
      answerFor(
        'S5',
        failed,
        failed
          ? 'Yes: the widget left along `fail`.'
          : `No: the widget's transitions seen: ${transitions.length > 0 ? transitions.join(', ') : 'none'}.`,
      ),
      answerFor(
        'V14',
        Boolean(fallback),
        fallback
          ? `Yes: the Fallback URL was requested ${fallback.at - fetched.at} ms after the failing fetch.`
          : `No: no Fallback URL request within ${target.timings.settleMs} ms.`,
      ),
    ];
  },
};

/** F4/F5: the JSON body sent (a `request` key, integer-like keys after others, `1.0`). */
const SENT_JSON = '{"request":"mine","b":"x","10":"ten","2":"two","n":1.0}';

/** What the probe endpoint's `event` step answers: the event it was given, as it saw it. */
interface EventReply {
  status: number;
  text: string;
  keys: string[];
  requestType: string;
  requestKeys: string[];
}

async function postForEvent(url: string, body: string, contentType: string): Promise<EventReply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const raw = await response.text();
  let reply: Omit<EventReply, 'status'>;
  try {
    reply = JSON.parse(raw) as typeof reply;
  } catch {
    throw new Error(`the probe endpoint answered HTTP ${response.status} with no JSON: ${raw.slice(0, 200)}`);
  }
  return { status: response.status, ...reply };
}

/** The event as the function serialised it, without the endpoint's own parameters. */
function bodyAsSeen(reply: EventReply): string {
  const parsed = JSON.parse(reply.text) as Record<string, unknown>;
  for (const name of ['run', 'probe', 'step']) delete parsed[name];
  return JSON.stringify(parsed);
}

const replacedRequest = (reply: EventReply) => reply.requestType === 'string';

function requestAnswer(json: EventReply, form: EventReply): ProbeAnswer {
  const f4: Answer =
    replacedRequest(json) && replacedRequest(form)
      ? true
      : !replacedRequest(json) && !replacedRequest(form)
        ? false
        : 'unknown';
  const describe = (reply: EventReply) =>
    replacedRequest(reply)
      ? "the caller's string"
      : `the runtime's ${reply.requestType} {${reply.requestKeys.join(', ')}}`;
  return answerFor(
    'F4',
    f4,
    f4 === true
      ? "Yes: in both bodies the caller's `request` replaced the runtime's object (so it must never be used as a parameter)."
      : `event.request was ${describe(json)} for JSON and ${describe(form)} for a form.`,
  );
}

function serialisationAnswer(json: EventReply): ProbeAnswer {
  const seen = bodyAsSeen(json);
  const sentWithoutRequest = SENT_JSON.replace('"request":"mine",', '');
  const f5 = seen !== sentWithoutRequest;
  return answerFor(
    'F5',
    f5,
    f5
      ? `Yes: sent ${sentWithoutRequest}, the function re-serialised ${seen}.`
      : 'No: the re-serialised body is byte for byte what was sent.',
  );
}

const runtimeEvent: Probe = {
  name: 'runtime-event',
  ids: ['F4', 'F5'],
  what: 'a JSON POST and a form POST, each with a `request` key, to the deployed probe endpoint, which answers with the event it was given',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const url = probeUrl(ctx.target, { probe: 'runtime-event', step: 'event' });
    const json = await postForEvent(url, SENT_JSON, 'application/json');
    const form = await postForEvent(
      url,
      new URLSearchParams({ request: 'mine', b: 'x', '10': 'ten', '2': 'two', n: '1.0' }).toString(),
      'application/x-www-form-urlencoded',
    );
    ctx.evidence.json = {
      status: json.status,
      requestType: json.requestType,
      requestKeys: json.requestKeys,
      bodyAsSeen: bodyAsSeen(json),
      sent: SENT_JSON,
    };
    ctx.evidence.form = {
      status: form.status,
      requestType: form.requestType,
      requestKeys: form.requestKeys,
      bodyAsSeen: bodyAsSeen(form),
    };
    return [requestAnswer(json, form), serialisationAnswer(json)];
  },
};

/** The project's flows (the hold subflow included), as paths from the project root. */
const SHIPPED_FLOWS = projectFlowFiles().map((file) => path.relative(PROJECT_ROOT, file));
/** Validation only: a subflow's SID is known once it is created, so a stand-in of the right shape fills it. */
const STAND_IN_FLOW_SID = fixedSid('FW');

/** What Studio FlowValidate said of one definition. */
interface Validation {
  valid: boolean;
  status?: number;
  code?: number;
  message?: string;
  details?: unknown;
}

async function validateFlow(target: Target, friendlyName: string, definition: unknown): Promise<Validation> {
  try {
    await target.client.studio.v2.flowValidate.update({ friendlyName, status: 'published', definition });
    return { valid: true };
  } catch (error) {
    const rest = error as { status?: number; code?: number; message?: string; details?: unknown };
    return { valid: false, status: rest.status, code: rest.code, message: rest.message, details: rest.details };
  }
}

type Validations = Record<string, { unfilled: Validation & { placeholders: string[] }; filled: Validation }>;

function validationAnswers(results: Validations): ProbeAnswer[] {
  const all = (kind: 'filled' | 'unfilled') => Object.values(results).every((r) => r[kind].valid);
  const names = (kind: 'filled' | 'unfilled') =>
    Object.entries(results)
      .filter(([, r]) => !r[kind].valid)
      .map(([name]) => name);
  return [
    answerFor(
      'S13',
      all('filled'),
      all('filled') ? 'Yes: both filled flows are valid.' : `No: ${names('filled').join(', ')} refused (see evidence).`,
    ),
    answerFor(
      'S13u',
      all('unfilled'),
      all('unfilled')
        ? 'Yes: both are valid even with placeholders.'
        : `No: ${names('unfilled').join(', ')} refused unfilled (see evidence).`,
    ),
  ];
}

const flowValidate: Probe = {
  name: 'flow-validate',
  ids: ['S13', 'S13u'],
  what: 'Studio FlowValidate on both shipped flows, unfilled and filled with the deployed service (nothing is created)',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const { target, evidence } = ctx;
    const files = SHIPPED_FLOWS.map((file) => path.join(PROJECT_ROOT, file));
    const values: Record<string, string> = { ...(await target.fillValues()) };
    for (const file of files) values[flowSidPlaceholderName(file)] ??= STAND_IN_FLOW_SID;
    const filled = prepareFlows(files, values, `${target.namePrefix}validate`);
    const results: Validations = {};
    for (const [index, file] of files.entries()) {
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      results[SHIPPED_FLOWS[index]] = {
        unfilled: {
          placeholders: [...placeholdersIn(raw)].sort(),
          ...(await validateFlow(target, `${target.namePrefix}unfilled`, raw)),
        },
        filled: await validateFlow(target, filled[index].friendlyName, filled[index].definition),
      };
    }
    evidence.flows = results;
    return validationAnswers(results);
  },
};

type SyncDocuments = ReturnType<Target['client']['sync']['v1']['services']>['documents'];

/** Whether a Sync action went through, or the HTTP status and Twilio code it failed with. */
async function syncOutcome(action: () => Promise<unknown>): Promise<{ ok: boolean; status?: number; code?: number }> {
  try {
    await action();
    return { ok: true };
  } catch (error) {
    const { status, code } = restError(error);
    return { ok: false, status, code };
  }
}

/** A Sync document of the probe (`{v: 1}`), removed at cleanup. */
async function createDocument(
  ctx: ProbeContext,
  documents: SyncDocuments,
  label: string,
  uniqueName: string,
  ttl: number,
) {
  const created = await documents.create({ uniqueName, data: { v: 1 }, ttl });
  ctx.cleanup.add(label, async () => {
    await documents(created.sid)
      .remove()
      .catch(() => undefined);
  });
  return created;
}

/** Y1-Y3: a taken UniqueName, a missing document, a stale If-Match. */
async function syncRefusals(ctx: ProbeContext, documents: SyncDocuments) {
  const { target, evidence } = ctx;
  const name = `${target.syncPrefix}sync_taken`;
  const created = await createDocument(ctx, documents, 'a Sync document (sync probe)', name, 3600);
  const taken = await syncOutcome(() => documents.create({ uniqueName: name, data: { v: 2 }, ttl: 3600 }));
  const missing = await syncOutcome(() => documents(`${target.syncPrefix}sync_missing`).fetch());
  const stale = await syncOutcome(() =>
    documents(created.sid).update({ data: { v: 3 }, ifMatch: String(Number(created.revision) + 7) }),
  );
  evidence.takenName = taken;
  evidence.missing = missing;
  evidence.staleIfMatch = stale;
  return { taken, missing, stale };
}

/** Y5: a document with a short TTL, watched until it is gone; how long after its creation it went (null: it stayed). */
async function ttlGoneAfterMs(ctx: ProbeContext, documents: SyncDocuments): Promise<number | null> {
  const { target } = ctx;
  const ttl = target.timings.ttlSeconds;
  const label = 'a Sync document with a TTL (sync probe)';
  const withTtl = await createDocument(ctx, documents, label, `${target.syncPrefix}sync_ttl`, ttl);
  const expires = withTtl.dateExpires ? withTtl.dateExpires.getTime() : null;
  const evidence: Record<string, unknown> = {
    seconds: ttl,
    dateExpiresSet: expires !== null,
    dateExpiresAfterCreateMs: expires !== null ? expires - withTtl.dateCreated.getTime() : null,
  };
  ctx.evidence.ttl = evidence;
  const deadline = Date.now() + ttl * 1000 + target.timings.ttlWatchMs;
  let goneAt: number | null = null;
  while (Date.now() < deadline) {
    await pause(target.pollMs, ctx.signal);
    const fetched = await syncOutcome(() => documents(withTtl.sid).fetch());
    if (!fetched.ok && fetched.status === 404) {
      goneAt = Date.now();
      break;
    }
  }
  const goneAfterMs = goneAt === null ? null : goneAt - withTtl.dateCreated.getTime();
  evidence.goneAfterCreateMs = goneAfterMs;
  return goneAfterMs;
}

function syncAnswers(
  { taken, missing, stale }: Awaited<ReturnType<typeof syncRefusals>>,
  goneAfterMs: number | null,
  timings: Target['timings'],
): ProbeAnswer[] {
  const ttl = timings.ttlSeconds;
  const takenRefused = !taken.ok && taken.code === 54301;
  const missingIs404 = !missing.ok && missing.status === 404;
  const staleRefused = !stale.ok && stale.code === 54103;
  return [
    answerFor('Y1', takenRefused, takenRefused ? 'Yes: HTTP 409, code 54301.' : `No: ${JSON.stringify(taken)}.`),
    answerFor(
      'Y2',
      missingIs404,
      `${missingIs404 ? 'Yes' : 'No'}: HTTP ${missing.status ?? 200}, code ${missing.code ?? 'none'}.`,
    ),
    answerFor(
      'Y3',
      staleRefused,
      staleRefused ? `Yes: HTTP ${stale.status}, code 54103.` : `No: ${JSON.stringify(stale)}.`,
    ),
    answerFor(
      'Y5',
      goneAfterMs !== null,
      goneAfterMs !== null
        ? `Yes: gone ${(goneAfterMs / 1000).toFixed(1)} s after it was created with a ${ttl} s TTL.`
        : `No: still there ${ttl + timings.ttlWatchMs / 1000} s after it was created with a ${ttl} s TTL (Twilio calls TTL approximate).`,
    ),
  ];
}

const sync: Probe = {
  name: 'sync',
  ids: ['Y1', 'Y2', 'Y3', 'Y5'],
  what: 'Sync Documents in the default service: a taken UniqueName, a missing document, a stale If-Match, a short TTL',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const documents = ctx.target.client.sync.v1.services('default').documents;
    const refusals = await syncRefusals(ctx, documents);
    const goneAfterMs = await ttlGoneAfterMs(ctx, documents);
    return syncAnswers(refusals, goneAfterMs, ctx.target.timings);
  },
};

/** S18's flow; removed at cleanup, after the executions pushed on `started` are ended. */
async function createBusyFlow(ctx: ProbeContext): Promise<{ flowSid: string; started: string[] }> {
  const { target } = ctx;
  const studio = target.client.studio.v2;
  const flow = await studio.flows.create({
    friendlyName: `${target.namePrefix}executions`,
    status: 'published',
    definition: busyFlow(target),
  });
  const started: string[] = [];
  ctx.cleanup.add('the probe flow (executions) and its executions', async () => {
    for (const sid of started)
      await studio
        .flows(flow.sid)
        .executions(sid)
        .update({ status: 'ended' })
        .catch(() => undefined);
    await studio.flows(flow.sid).remove();
  });
  return { flowSid: flow.sid, started };
}

function activeExecutionAnswer(second: Record<string, unknown>, firstAfter: string): ProbeAnswer {
  if ('error' in second) {
    const err = refusal(second);
    return answerFor(
      'S18',
      false,
      `Refused: HTTP ${err.status ?? '?'}, code ${err.code ?? '?'}; the first execution stayed ${firstAfter}.`,
    );
  }
  return firstAfter === 'ended'
    ? answerFor('S18', true, 'Ended: the second create was accepted and the first execution is ended.')
    : answerFor(
        'S18',
        'unknown',
        `Both ran: the second create was accepted while the first stayed ${firstAfter} (neither of the behaviours the switch plays).`,
      );
}

const executionsProbe: Probe = {
  name: 'executions',
  ids: ['S18'],
  what: 'two REST executions of one probe flow for the same To/From while the first waits on an HTTP Request (no message is sent): is the second refused, or the first ended?',
  calls: 0,
  executions: 2,
  // Not a call, but Studio wants the account's number as From: it needs --from and --to.
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const numbers = target.numbers;
    if (!numbers) return [answerFor('S18', 'unknown', 'No numbers were given (--from, --to).')];
    const { flowSid, started } = await createBusyFlow(ctx);
    const executions = target.client.studio.v2.flows(flowSid).executions;
    const first = await executions.create({ to: numbers.to, from: numbers.from, parameters: { probe: 'first' } });
    started.push(first.sid);
    ctx.failpoint();
    const second = await restOutcome(async () => {
      const created = await executions.create({ to: numbers.to, from: numbers.from, parameters: { probe: 'second' } });
      started.push(created.sid);
      return { httpStatus: 201, status: created.status };
    });
    evidence.second = second;
    const firstAfter = (await executions(first.sid).fetch()).status;
    evidence.firstAfter = firstAfter;
    return [activeExecutionAnswer(second, firstAfter)];
  },
};

export const PROBES: readonly Probe[] = [
  rooms,
  timeLimit,
  leave,
  redirectTimeout,
  redirectFail,
  runtimeEvent,
  flowValidate,
  sync,
  executionsProbe,
];

export interface RunProbesOptions {
  target: Target;
  probes: readonly Probe[];
  /** The run's cleanup: each probe's own resources are registered there while it runs. */
  cleanup: CleanupRegistry;
  signal: AbortSignal;
  /** Fail this probe on purpose once its resources exist (tests of the cleanup). */
  failProbe?: string;
  log: (line: string) => void;
}

export async function runProbes(options: RunProbesOptions): Promise<ProbeResult[]> {
  const { target, log } = options;
  const results: ProbeResult[] = [];
  for (const probe of options.probes) {
    if (options.signal.aborted) break;
    const started = Date.now();
    if (probe.needsVoice && target.voiceUnavailable) {
      log(`probe ${probe.name}: skipped (${target.voiceUnavailable})`);
      results.push({ probe: probe.name, answers: [], skipped: target.voiceUnavailable, evidence: {}, durationMs: 0 });
      continue;
    }
    log(`probe ${probe.name}: ${probe.what}`);
    const scope = new CleanupRegistry(log);
    const dropScope = options.cleanup.add(`the resources of probe ${probe.name}`, () =>
      scope.runAll().then(() => undefined),
    );
    const evidence: Record<string, unknown> = {};
    const ctx: ProbeContext = {
      target,
      watch: new EventWatch(target.client, target.syncPrefix, probe.name, target.pollMs, options.signal),
      cleanup: scope,
      evidence,
      signal: options.signal,
      failpoint: () => {
        if (options.failProbe === probe.name) throw new Error(`probe ${probe.name} failed on purpose (--fail-probe)`);
      },
    };
    try {
      const answers = await probe.run(ctx);
      results.push({ probe: probe.name, answers, evidence, durationMs: Date.now() - started });
      for (const a of answers) log(`  ${a.id}: ${a.answer} - ${a.sentence}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`probe ${probe.name}: FAILED: ${message}`);
      results.push({
        probe: probe.name,
        answers: probe.ids.map((id) => answerFor(id, 'unknown', `The probe failed: ${message}`)),
        error: message,
        evidence,
        durationMs: Date.now() - started,
      });
    } finally {
      await scope.runAll();
      dropScope();
    }
  }
  return results;
}
