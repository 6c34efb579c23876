/**
 * The voice hold loop's contracts, beside contracts.ts: the parameters of the service's own hold
 * URLs (/hold, /hold/wait, /hold/events), what Voice sends with its requests that the hold reads,
 * and Studio's URL for handing a call back to the TwiML Redirect widget.
 */
import type { JobStatus } from './contracts';

/**
 * Query parameters of the hold URLs. A flow's TwiML Redirect widget calls /hold with `jobId` and
 * `flowSid={{flow.flow_sid}}`; every other parameter is put in by the service in the URLs it
 * hands Voice (the waitUrl, the <Dial> action, the after-hold URL of a released caller).
 */
export const HOLD_PARAMS = {
  jobId: 'jobId',
  /** The flow the caller returns to. */
  flowSid: 'flowSid',
  /** /hold while Twilio's API is failing: how many checks failed so far (timing.ts UNAVAILABLE_RETRY_TURNS). */
  attempt: 'attempt',
  /** /hold/wait: the hold-loop turn (0 for the first waitUrl request). */
  turn: 'turn',
  /** /hold/wait, poll mode: epoch ms when the backend's statusUrl is next due (saves a Sync write per turn). */
  pollAt: 'pollAt',
  /** /hold/wait: the key of what the last speaking turn said, so it is not said twice in a row. */
  said: 'said',
  /** /hold, the after-hold URL of a released caller: the job's final status (no need to read the job). */
  releasedWith: 'releasedWith',
} as const;

/** Ranges of the numeric hold parameters, and the shape of `said` (a short URL-safe key). */
export const HOLD_PARAM_LIMITS = {
  maxAttempt: 100,
  maxTurn: 100_000,
  saidKey: /^[A-Za-z0-9_-]{1,16}$/,
} as const;

/** Parameters Voice sends with its requests (webhooks and status callbacks) that the hold reads. */
export const VOICE_PARAMS = {
  callSid: 'CallSid',
  accountSid: 'AccountSid',
  /** A webhook's call status: a Dial action after a hang-up says the call is over. */
  callStatus: 'CallStatus',
  /** /hold/events: which conference event the status callback reports. */
  statusCallbackEvent: 'StatusCallbackEvent',
} as const;

/** The conference status callback event /hold/events acts on (the room subscribes to `leave`). */
export const PARTICIPANT_LEAVE_EVENT = 'participant-leave';

/** Parameters of Studio's return URL: the widget's `return` event, and `{{widgets.NAME.status}}`. */
export const STUDIO_RETURN_PARAMS = { flowEvent: 'FlowEvent', status: 'status' } as const;

/** Studio's own URL for handing a call back to the TwiML Redirect widget, with the job's status. */
export function studioReturnUrl(accountSid: string, flowSid: string, status: JobStatus): string {
  const query = new URLSearchParams({
    [STUDIO_RETURN_PARAMS.flowEvent]: 'return',
    [STUDIO_RETURN_PARAMS.status]: status,
  });
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}?${query.toString()}`;
}
