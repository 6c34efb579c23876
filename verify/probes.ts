/**
 * The probes: one per behaviour in docs/TWILIO-DIFFERENCES.md that an account can settle. Each
 * runs the same code on Twilio and on the emulator (target.ts); what it concludes comes only from
 * what it observed (HTTP answers, the probe endpoint's records), never from the profile played.
 */
import fs from 'node:fs';
import path from 'node:path';
import { prepareFlows } from '../dev/flows/flow-files';
import { placeholdersIn } from '../dev/flows/placeholders';
import { PROJECT_ROOT } from '../dev/paths';
import { CleanupRegistry } from './cleanup';
import { restError } from './client';
import { EventWatch, isConf, type ProbeEvent } from './events';
import { probeFlow } from './flows';
import type { Answer, ProbeAnswer, ProbeResult } from './record';
import { probeUrl, type Target } from './target';
import type { FlowDefinition } from '../studio/flow-model';
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('interrupted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('interrupted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Ends a call by REST if it is still up; what Twilio answered, for evidence. */
async function endCall(target: Target, callSid: string): Promise<Record<string, unknown>> {
  try {
    const call = await target.client.calls(callSid).fetch();
    if (FINAL_CALL_STATUSES.has(call.status)) return { alreadyEnded: call.status };
    const status = call.status === 'queued' || call.status === 'ringing' ? 'canceled' : 'completed';
    const updated = await target.client.calls(callSid).update({ status });
    return { httpStatus: 200, status: updated.status };
  } catch (error) {
    return { error: restError(error) };
  }
}

/** The parameters of a conference callback worth keeping (all of them but the timestamps' noise). */
function callbackEvidence(event: ProbeEvent | undefined, t0: number): Record<string, unknown> | null {
  if (!event) return null;
  const { key: _key, run: _run, probe: _probe, step: _step, ...params } = event.params;
  return { afterMs: event.at - t0, params };
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
  const placed = await target.callIntoFlow(
    ctx.cleanup,
    probe,
    probeFlow(target, probe, { url, timeoutSeconds: redirectTimeoutSeconds }),
  );
  ctx.cleanup.add(`the probe's call (${probe})`, async () => {
    await endCall(target, placed.callSid);
  });
  const join = await ctx.watch.waitFor(isConf('participant-join', room), target.timings.answerMs);
  ctx.evidence.join = join ? { afterMs: join.at - startedAt, conferenceSid: join.params.ConferenceSid } : null;
  return { placed, join, startedAt };
}

const neverJoined = (ids: Array<[string, string, ProbeAnswer['switch']?]>) =>
  ids.map(([id, question, sw]) =>
    answer(
      id,
      question,
      'unknown',
      'The call never reached the probe room (not answered, or the TwiML failed), so nothing was seen.',
      sw,
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
  const requests = async () =>
    (await ctx.watch.all()).filter((e) => e.step === 'wait-refused' && e.params.room === room).length;
  const deadline = Date.now() + ctx.target.timings.settleMs;
  let seen = await requests();
  while (seen < 3 && Date.now() < deadline) {
    await sleep(ctx.target.pollMs, ctx.signal);
    seen = await requests();
  }
  return seen;
}

function waitRetryAnswer(requests: number): ProbeAnswer {
  if (requests === 0)
    return answer(
      'V18',
      Q.V18,
      'unknown',
      'The waitUrl was never requested, so nothing was seen.',
      'waitUrlHonoursConnectionOverrides',
    );
  return requests > 1
    ? answer(
        'V18',
        Q.V18,
        true,
        `Yes: the refused waitUrl was requested ${requests} times (the fragment asked for 2 retries).`,
        'waitUrlHonoursConnectionOverrides',
      )
    : answer(
        'V18',
        Q.V18,
        false,
        'No: the refused waitUrl was requested once and not retried.',
        'waitUrlHonoursConnectionOverrides',
      );
}

const rooms: Probe = {
  name: 'rooms',
  ids: ['V1', 'V12', 'V2', 'V18'],
  what: 'one call waits alone in a conference whose waitUrl is refused (429, with retry overrides); the room is fetched, listed with Status=init and ended by REST',
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const room = `${target.namePrefix}rooms`;
    const { placed, join } = await callIntoRoom(ctx, 'rooms', room, { waitRefused: 1 });
    if (!join) {
      return neverJoined([
        ['V1', Q.V1],
        ['V12', Q.V12, 'listInitConferencesByStatus'],
        ['V2', Q.V2, 'endInitConferenceByRest'],
        ['V18', Q.V18, 'waitUrlHonoursConnectionOverrides'],
      ]);
    }
    ctx.failpoint();
    const waitRequests = await waitUrlRequests(ctx, room);
    evidence.refusedWaitUrlRequests = waitRequests;
    const conferenceSid = join.params.ConferenceSid;
    const fetched = await target.client.conferences(conferenceSid).fetch();
    evidence.fetchedStatus = fetched.status;
    const init = await target.client.conferences.list({ friendlyName: room, status: 'init' });
    const inProgress = await target.client.conferences.list({ friendlyName: room, status: 'in-progress' });
    evidence.listed = { init: init.length, inProgress: inProgress.length };
    const listed = init.some((c) => c.sid === conferenceSid);

    const t0 = Date.now();
    let update: Record<string, unknown>;
    try {
      const ended = await target.client.conferences(conferenceSid).update({ status: 'completed' });
      update = { httpStatus: 200, status: ended.status };
    } catch (error) {
      update = { error: restError(error) };
    }
    evidence.endByRest = update;
    const dialAction = await ctx.watch.waitFor(
      (e) => e.step === 'dial-action' && e.params.room === room,
      target.timings.settleMs,
    );
    evidence.dialActionAfterMs = dialAction ? dialAction.at - t0 : null;
    const after = await target.client.conferences(conferenceSid).fetch();
    evidence.statusAfterEnd = after.status;
    evidence.endCall = await endCall(target, placed.callSid);

    const refused = 'error' in update;
    const err = update.error as { status?: number; code?: number } | undefined;
    const v2: ProbeAnswer = refused
      ? answer(
          'V2',
          Q.V2,
          false,
          `Refused: HTTP ${err?.status ?? '?'}, code ${err?.code ?? '?'}; the room stayed ${after.status}.`,
          'endInitConferenceByRest',
        )
      : after.status === 'completed' || dialAction
        ? answer(
            'V2',
            Q.V2,
            true,
            `Ended: HTTP 200, the room is ${after.status}${dialAction ? ' and the Dial action was requested' : ''}.`,
            'endInitConferenceByRest',
          )
        : answer(
            'V2',
            Q.V2,
            false,
            `Accepted (HTTP 200) but the room stayed ${after.status} and no Dial action came.`,
            'endInitConferenceByRest',
          );
    return [
      answer('V1', Q.V1, fetched.status === 'init', `The room was \`${fetched.status}\` with the caller alone in it.`),
      answer(
        'V12',
        Q.V12,
        listed,
        listed
          ? 'Listed: Status=init found the waiting room.'
          : `Not listed: Status=init answered ${init.length} room(s), Status=in-progress ${inProgress.length}.`,
        'listInitConferencesByStatus',
      ),
      v2,
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
    if (!join) return neverJoined([['V10', Q.V10, 'dialTimeLimitBoundsConference']]);
    const action = await ctx.watch.waitFor(
      (e) => e.step === 'dial-action' && e.params.room === room,
      limit * 1000 + target.timings.settleMs,
    );
    evidence.dialActionAfterJoinMs = action ? action.at - join.at : null;
    evidence.dialAction = action
      ? {
          DialCallStatus: action.params.DialCallStatus ?? null,
          DialCallDuration: action.params.DialCallDuration ?? null,
        }
      : null;
    evidence.endCall = await endCall(target, placed.callSid);
    return [
      action
        ? answer(
            'V10',
            Q.V10,
            true,
            `Yes: the Dial action came ${((action.at - join.at) / 1000).toFixed(1)} s after the caller joined (timeLimit ${limit} s).`,
            'dialTimeLimitBoundsConference',
          )
        : answer(
            'V10',
            Q.V10,
            false,
            `No: the caller was still in the room ${limit + target.timings.settleMs / 1000} s after joining (timeLimit ${limit} s).`,
            'dialTimeLimitBoundsConference',
          ),
    ];
  },
};

const leave: Probe = {
  name: 'leave',
  ids: ['call-update', 'V9'],
  what: 'one call is moved out of a room by a REST Url update into a second room, then ended by REST; both participant-leave callbacks are kept',
  calls: 1,
  needsVoice: true,
  async run(ctx) {
    const { target, evidence } = ctx;
    const first = `${target.namePrefix}leave-a`;
    const second = `${target.namePrefix}leave-b`;
    const { placed, join } = await callIntoRoom(ctx, 'leave', first);
    if (!join)
      return neverJoined([
        ['call-update', Q.callUpdate],
        ['V9', Q.V9, 'participantCallStatusOnLeave'],
      ]);
    const t0 = Date.now();
    let update: Record<string, unknown>;
    try {
      await target.client.calls(placed.callSid).update({
        url: probeUrl(target, { probe: 'leave', step: 'moved', then: 'room', room: second }),
        method: 'POST',
      });
      update = { httpStatus: 200 };
    } catch (error) {
      update = { error: restError(error) };
    }
    evidence.moveByRest = update;
    const moved = await ctx.watch.waitFor((e) => e.step === 'moved', target.timings.settleMs);
    const leftFirst = await ctx.watch.waitFor(isConf('participant-leave', first), target.timings.settleMs);
    const joinedSecond = await ctx.watch.waitFor(isConf('participant-join', second), target.timings.answerMs);
    evidence.movedFetchAfterMs = moved ? moved.at - t0 : null;
    evidence.leaveOnMove = callbackEvidence(leftFirst, t0);

    let leftSecond: ProbeEvent | undefined;
    const t1 = Date.now();
    if (joinedSecond) {
      evidence.endByRest = await endCall(target, placed.callSid);
      leftSecond = await ctx.watch.waitFor(isConf('participant-leave', second), target.timings.settleMs);
    }
    evidence.leaveOnEnd = callbackEvidence(leftSecond, t1);

    const callUpdate =
      moved && leftFirst
        ? answer(
            'call-update',
            Q.callUpdate,
            true,
            `Yes: the new Url was fetched ${moved.at - t0} ms after the update and the caller left the room.`,
          )
        : 'error' in update
          ? answer('call-update', Q.callUpdate, false, `The update was refused (${JSON.stringify(update.error)}).`)
          : answer(
              'call-update',
              Q.callUpdate,
              false,
              `No: ${moved ? 'the Url was fetched but no participant-leave came' : 'the new Url was never fetched'} within ${target.timings.settleMs} ms.`,
            );

    let v9: ProbeAnswer;
    if (!leftFirst || !leftSecond) {
      v9 = answer(
        'V9',
        Q.V9,
        'unknown',
        `Not every participant-leave arrived (on the move: ${leftFirst ? 'yes' : 'no'}, on the end: ${leftSecond ? 'yes' : 'no'}).`,
        'participantCallStatusOnLeave',
      );
    } else {
      const onMove = leftFirst.params.ParticipantCallStatus;
      const onEnd = leftSecond.params.ParticipantCallStatus;
      if (onMove === undefined && onEnd === undefined) {
        v9 = answer(
          'V9',
          Q.V9,
          false,
          'Absent: neither participant-leave carried ParticipantCallStatus.',
          'participantCallStatusOnLeave',
        );
      } else if (onMove === 'in-progress' && onEnd === 'completed') {
        v9 = answer(
          'V9',
          Q.V9,
          true,
          'Present: `in-progress` on the move, `completed` when the call was ended.',
          'participantCallStatusOnLeave',
        );
      } else {
        v9 = answer(
          'V9',
          Q.V9,
          false,
          `Present with other values: \`${onMove ?? 'absent'}\` on the move, \`${onEnd ?? 'absent'}\` when the call was ended.`,
          'participantCallStatusOnLeave',
        );
      }
    }
    return [callUpdate, v9];
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
    if (!join) return neverJoined([['S4', Q.S4, 'studioTakesCallBackOnTimeout']]);
    const timedOut = await ctx.watch.waitFor(
      (e) => e.step === 'transition' && e.params.name === 'timeout',
      seconds * 1000 + target.timings.settleMs,
    );
    evidence.timeoutTransitionAfterMs = timedOut ? timedOut.at - startedAt : null;
    const left = timedOut
      ? await ctx.watch.waitFor(isConf('participant-leave', room), target.timings.settleMs)
      : undefined;
    evidence.leaveAfterTimeoutMs = left && timedOut ? left.at - timedOut.at : null;
    evidence.transitions = (await ctx.watch.all()).filter((e) => e.step === 'transition').map((e) => e.params.name);
    evidence.endCall = await endCall(target, placed.callSid);
    if (!timedOut)
      return [
        answer(
          'S4',
          Q.S4,
          'unknown',
          `The widget's timeout transition never fired within ${seconds} s plus ${target.timings.settleMs} ms.`,
          'studioTakesCallBackOnTimeout',
        ),
      ];
    return [
      left
        ? answer(
            'S4',
            Q.S4,
            true,
            `Yes: the caller left the room within ${Math.abs(left.at - timedOut.at)} ms of the timeout transition.`,
            'studioTakesCallBackOnTimeout',
          )
        : answer(
            'S4',
            Q.S4,
            false,
            `No: the execution moved on along \`timeout\` but the caller was still in the room ${target.timings.settleMs} ms later.`,
            'studioTakesCallBackOnTimeout',
          ),
    ];
  },
};

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
    const placed = await target.callIntoFlow(
      ctx.cleanup,
      'redirect-fail',
      probeFlow(target, 'redirect-fail', {
        url: probeUrl(target, { probe: 'redirect-fail', step: 'fail500' }),
        timeoutSeconds: seconds,
      }),
      { fallbackUrl: probeUrl(target, { probe: 'redirect-fail', step: 'fallback' }) },
    );
    ctx.cleanup.add("the probe's call (redirect-fail)", async () => {
      await endCall(target, placed.callSid);
    });
    const fetched = await ctx.watch.waitFor((e) => e.step === 'fail500', target.timings.answerMs);
    evidence.failingUrlFetchedAfterMs = fetched ? fetched.at - startedAt : null;
    if (!fetched) {
      evidence.endCall = await endCall(target, placed.callSid);
      return [
        answer('S5', Q.S5, 'unknown', 'Voice never fetched the failing URL (the call was not answered?).'),
        answer('V14', Q.V14, 'unknown', 'Voice never fetched the failing URL (the call was not answered?).'),
      ];
    }
    const fallback = await ctx.watch.waitFor((e) => e.step === 'fallback', target.timings.settleMs);
    evidence.fallbackAfterMs = fallback ? fallback.at - fetched.at : null;
    evidence.fallbackParams = fallback
      ? { ErrorCode: fallback.params.ErrorCode ?? null, hasErrorUrl: fallback.params.ErrorUrl !== undefined }
      : null;
    // Whatever the widget does, it does by its timeout at the latest.
    await sleep(Math.max(0, startedAt + seconds * 1000 + target.timings.settleMs - Date.now()), ctx.signal);
    const transitions = (await ctx.watch.all()).filter((e) => e.step === 'transition').map((e) => e.params.name);
    evidence.transitions = transitions;
    evidence.endCall = await endCall(target, placed.callSid);
    const failed = transitions.includes('fail');
    return [
      answer(
        'S5',
        Q.S5,
        failed,
        failed
          ? 'Yes: the widget left along `fail`.'
          : `No: the widget's transitions seen: ${transitions.length > 0 ? transitions.join(', ') : 'none'}.`,
      ),
      answer(
        'V14',
        Q.V14,
        Boolean(fallback),
        fallback
          ? `Yes: the Fallback URL was requested ${fallback.at - fetched.at} ms after the failing fetch.`
          : `No: no Fallback URL request within ${target.timings.settleMs} ms.`,
      ),
    ];
  },
};

const runtimeEvent: Probe = {
  name: 'runtime-event',
  ids: ['F4', 'F5'],
  what: 'a JSON POST and a form POST, each with a `request` key, to the deployed probe endpoint, which answers with the event it was given',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const { target, evidence } = ctx;
    const url = probeUrl(target, { probe: 'runtime-event', step: 'event' });
    const sentJson = '{"request":"mine","b":"x","10":"ten","2":"two","n":1.0}';
    const post = async (body: string, contentType: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const raw = await response.text();
      let reply: { text: string; keys: string[]; requestType: string; requestKeys: string[] };
      try {
        reply = JSON.parse(raw) as typeof reply;
      } catch {
        throw new Error(`the probe endpoint answered HTTP ${response.status} with no JSON: ${raw.slice(0, 200)}`);
      }
      return { status: response.status, ...reply };
    };
    const json = await post(sentJson, 'application/json');
    const form = await post(
      new URLSearchParams({ request: 'mine', b: 'x', '10': 'ten', '2': 'two', n: '1.0' }).toString(),
      'application/x-www-form-urlencoded',
    );
    const own = (text: string) => {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      for (const name of ['run', 'probe', 'step']) delete parsed[name];
      return parsed;
    };
    evidence.json = {
      status: json.status,
      requestType: json.requestType,
      requestKeys: json.requestKeys,
      bodyAsSeen: JSON.stringify(own(json.text)),
      sent: sentJson,
    };
    evidence.form = {
      status: form.status,
      requestType: form.requestType,
      requestKeys: form.requestKeys,
      bodyAsSeen: JSON.stringify(own(form.text)),
    };
    const replaced = (reply: typeof json) => reply.requestType === 'string';
    const f4: Answer = replaced(json) && replaced(form) ? true : !replaced(json) && !replaced(form) ? false : 'unknown';
    const seen = JSON.stringify(own(json.text));
    const sentWithoutRequest = sentJson.replace('"request":"mine",', '');
    const f5 = seen !== sentWithoutRequest;
    const describe = (reply: typeof json) =>
      replaced(reply) ? "the caller's string" : `the runtime's ${reply.requestType} {${reply.requestKeys.join(', ')}}`;
    return [
      answer(
        'F4',
        Q.F4,
        f4,
        f4 === true
          ? "Yes: in both bodies the caller's `request` replaced the runtime's object (so it must never be used as a parameter)."
          : `event.request was ${describe(json)} for JSON and ${describe(form)} for a form.`,
      ),
      answer(
        'F5',
        Q.F5,
        f5,
        f5
          ? `Yes: sent ${sentWithoutRequest}, the function re-serialised ${seen}.`
          : 'No: the re-serialised body is byte for byte what was sent.',
      ),
    ];
  },
};

/** The project's flows (the hold subflow included), as paths from the project root. */
const SHIPPED_FLOWS = projectFlowFiles().map((file) => path.relative(PROJECT_ROOT, file));
/** Validation only: a subflow's SID is known once it is created, so a stand-in of the right shape fills it. */
const STAND_IN_FLOW_SID = `FW${'0'.repeat(32)}`;

const flowValidate: Probe = {
  name: 'flow-validate',
  ids: ['S13', 'S13u'],
  what: 'Studio FlowValidate on both shipped flows, unfilled and filled with the deployed service (nothing is created)',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const { target, evidence } = ctx;
    const files = SHIPPED_FLOWS.map((file) => path.join(PROJECT_ROOT, file));
    const validate = async (friendlyName: string, definition: unknown) => {
      try {
        await target.client.studio.v2.flowValidate.update({ friendlyName, status: 'published', definition });
        return { valid: true };
      } catch (error) {
        const rest = error as { status?: number; code?: number; message?: string; details?: unknown };
        return { valid: false, status: rest.status, code: rest.code, message: rest.message, details: rest.details };
      }
    };
    const values: Record<string, string> = { ...(await target.fillValues()) };
    for (const file of files) values[flowSidPlaceholderName(file)] ??= STAND_IN_FLOW_SID;
    const filled = prepareFlows(files, values, `${target.namePrefix}validate`);
    const results: Record<string, { unfilled: unknown; filled: unknown }> = {};
    for (const [index, file] of files.entries()) {
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      results[SHIPPED_FLOWS[index]] = {
        unfilled: {
          placeholders: [...placeholdersIn(raw)].sort(),
          ...(await validate(`${target.namePrefix}unfilled`, raw)),
        },
        filled: await validate(filled[index].friendlyName, filled[index].definition),
      };
    }
    evidence.flows = results;
    const all = (kind: 'filled' | 'unfilled') =>
      Object.values(results).every((r) => (r[kind] as { valid: boolean }).valid);
    const names = (kind: 'filled' | 'unfilled') =>
      Object.entries(results)
        .filter(([, r]) => !(r[kind] as { valid: boolean }).valid)
        .map(([name]) => name);
    return [
      answer(
        'S13',
        Q.S13,
        all('filled'),
        all('filled')
          ? 'Yes: both filled flows are valid.'
          : `No: ${names('filled').join(', ')} refused (see evidence).`,
      ),
      answer(
        'S13u',
        Q.S13u,
        all('unfilled'),
        all('unfilled')
          ? 'Yes: both are valid even with placeholders.'
          : `No: ${names('unfilled').join(', ')} refused unfilled (see evidence).`,
      ),
    ];
  },
};

const sync: Probe = {
  name: 'sync',
  ids: ['Y1', 'Y2', 'Y3', 'Y5'],
  what: 'Sync Documents in the default service: a taken UniqueName, a missing document, a stale If-Match, a short TTL',
  calls: 0,
  needsVoice: false,
  async run(ctx) {
    const { target, evidence } = ctx;
    const documents = target.client.sync.v1.services('default').documents;
    const code = async (action: () => Promise<unknown>) => {
      try {
        await action();
        return { ok: true };
      } catch (error) {
        const { status, code: errorCode } = restError(error);
        return { ok: false, status, code: errorCode };
      }
    };
    const name = `${target.syncPrefix}sync_taken`;
    const created = await documents.create({ uniqueName: name, data: { v: 1 }, ttl: 3600 });
    ctx.cleanup.add('a Sync document (sync probe)', async () => {
      await documents(created.sid)
        .remove()
        .catch(() => undefined);
    });
    const taken = await code(() => documents.create({ uniqueName: name, data: { v: 2 }, ttl: 3600 }));
    const missing = await code(() => documents(`${target.syncPrefix}sync_missing`).fetch());
    const stale = await code(() =>
      documents(created.sid).update({ data: { v: 3 }, ifMatch: String(Number(created.revision) + 7) }),
    );
    evidence.takenName = taken;
    evidence.missing = missing;
    evidence.staleIfMatch = stale;

    const ttl = target.timings.ttlSeconds;
    const withTtl = await documents.create({ uniqueName: `${target.syncPrefix}sync_ttl`, data: { v: 1 }, ttl });
    ctx.cleanup.add('a Sync document with a TTL (sync probe)', async () => {
      await documents(withTtl.sid)
        .remove()
        .catch(() => undefined);
    });
    const expires = withTtl.dateExpires ? withTtl.dateExpires.getTime() : null;
    evidence.ttl = {
      seconds: ttl,
      dateExpiresSet: expires !== null,
      dateExpiresAfterCreateMs: expires !== null ? expires - withTtl.dateCreated.getTime() : null,
    };
    const deadline = Date.now() + ttl * 1000 + target.timings.ttlWatchMs;
    let goneAt: number | null = null;
    while (Date.now() < deadline) {
      await sleep(target.pollMs, ctx.signal);
      const fetched = await code(() => documents(withTtl.sid).fetch());
      if (!fetched.ok && fetched.status === 404) {
        goneAt = Date.now();
        break;
      }
    }
    const createdAt = withTtl.dateCreated.getTime();
    (evidence.ttl as Record<string, unknown>).goneAfterCreateMs = goneAt === null ? null : goneAt - createdAt;
    const yes = (ok: boolean, text: string, no: string) => (ok ? text : no);
    return [
      answer(
        'Y1',
        Q.Y1,
        !taken.ok && taken.code === 54301,
        yes(!taken.ok && taken.code === 54301, 'Yes: HTTP 409, code 54301.', `No: ${JSON.stringify(taken)}.`),
      ),
      answer(
        'Y2',
        Q.Y2,
        !missing.ok && missing.status === 404,
        `${!missing.ok && missing.status === 404 ? 'Yes' : 'No'}: HTTP ${missing.status ?? 200}, code ${missing.code ?? 'none'}.`,
      ),
      answer(
        'Y3',
        Q.Y3,
        !stale.ok && stale.code === 54103,
        yes(
          !stale.ok && stale.code === 54103,
          `Yes: HTTP ${stale.status}, code 54103.`,
          `No: ${JSON.stringify(stale)}.`,
        ),
      ),
      answer(
        'Y5',
        Q.Y5,
        goneAt !== null,
        goneAt !== null
          ? `Yes: gone ${((goneAt - createdAt) / 1000).toFixed(1)} s after it was created with a ${ttl} s TTL.`
          : `No: still there ${ttl + target.timings.ttlWatchMs / 1000} s after it was created with a ${ttl} s TTL (Twilio calls TTL approximate).`,
      ),
    ];
  },
};

/** A flow whose REST-started execution waits on the probe endpoint's slow step (it stays active meanwhile). */
function busyFlow(target: Target): FlowDefinition {
  const at = (x: number, y: number) => ({ offset: { x, y } });
  return {
    description: 'studio-async verify:live probe executions (temporary; deleted at the end of the run)',
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
    states: [
      {
        name: 'Trigger',
        type: 'trigger',
        transitions: [
          { event: 'incomingMessage' },
          { event: 'incomingCall' },
          { event: 'incomingConversationMessage' },
          { event: 'incomingRequest', next: 'busy' },
          { event: 'incomingParent' },
        ],
        properties: at(0, 0),
      },
      {
        name: 'busy',
        type: 'make-http-request',
        transitions: [{ event: 'success' }, { event: 'failed' }],
        properties: {
          ...at(0, 200),
          method: 'POST',
          content_type: 'application/x-www-form-urlencoded;charset=utf-8',
          url: probeUrl(target, { probe: 'executions', step: 'slow' }),
        },
      },
    ],
  };
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
    if (!numbers)
      return [
        answer('S18', Q.S18, 'unknown', 'No numbers were given (--from, --to).', 'executionCreateEndsActiveExecution'),
      ];
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
    const first = await studio
      .flows(flow.sid)
      .executions.create({ to: numbers.to, from: numbers.from, parameters: { probe: 'first' } });
    started.push(first.sid);
    ctx.failpoint();
    let second: Record<string, unknown>;
    try {
      const created = await studio
        .flows(flow.sid)
        .executions.create({ to: numbers.to, from: numbers.from, parameters: { probe: 'second' } });
      started.push(created.sid);
      second = { httpStatus: 201, status: created.status };
    } catch (error) {
      second = { error: restError(error) };
    }
    evidence.second = second;
    const firstAfter = (await studio.flows(flow.sid).executions(first.sid).fetch()).status;
    evidence.firstAfter = firstAfter;
    if ('error' in second) {
      const err = second.error as { status?: number; code?: number };
      return [
        answer(
          'S18',
          Q.S18,
          false,
          `Refused: HTTP ${err.status ?? '?'}, code ${err.code ?? '?'}; the first execution stayed ${firstAfter}.`,
          'executionCreateEndsActiveExecution',
        ),
      ];
    }
    return [
      firstAfter === 'ended'
        ? answer(
            'S18',
            Q.S18,
            true,
            'Ended: the second create was accepted and the first execution is ended.',
            'executionCreateEndsActiveExecution',
          )
        : answer(
            'S18',
            Q.S18,
            'unknown',
            `Both ran: the second create was accepted while the first stayed ${firstAfter} (neither of the behaviours the switch plays).`,
            'executionCreateEndsActiveExecution',
          ),
    ];
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
        answers: probe.ids.map((id) =>
          answer(
            id,
            ANSWER_INFO[id]?.question ?? id,
            'unknown',
            `The probe failed: ${message}`,
            ANSWER_INFO[id]?.switch,
          ),
        ),
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
