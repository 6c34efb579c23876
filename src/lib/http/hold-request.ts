import { JOB_STATUSES, type FinalJobStatus } from '../contracts';
import { HOLD_PARAM_LIMITS, HOLD_PARAMS, VOICE_PARAMS } from '../contracts-voice';
import { ACCOUNT_SID, CALL_SID, FLOW_SID } from '../twilio-sids';
import { invalidParameter } from './errors';
import { callerParams, type RuntimeEvent } from './handler';
import { optionalNumber, requireJobId } from './params';

/** Call statuses (Voice's CallStatus parameter) of a call that is over. */
const ENDED_CALL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

export interface HoldRequest {
  jobId: string;
  flowSid: string;
  accountSid: string;
  /** The caller's call, as Voice sends it with every request about the call. */
  callSid?: string;
  /** Voice's CallStatus says the call is over (a Dial action after a hang-up). */
  callEnded: boolean;
  /** Set on the after-hold URL of a caller the service released. */
  releasedWith?: FinalJobStatus;
}

/** The caller's CallSid from a Voice request, when it carries a well-formed one. */
export function callSidOf(params: Record<string, unknown>): string | undefined {
  const callSid = params[VOICE_PARAMS.callSid];
  return typeof callSid === 'string' && CALL_SID.test(callSid) ? callSid : undefined;
}

/** An optional flowSid parameter, checked. */
export function optionalFlowSid(params: Record<string, unknown>): string | undefined {
  const flowSid = params[HOLD_PARAMS.flowSid];
  if (flowSid === undefined || flowSid === '') return undefined;
  if (typeof flowSid !== 'string' || !FLOW_SID.test(flowSid)) {
    throw invalidParameter(
      'flowSid must be the Studio Flow SID (FW + 32 hex); put flowSid={{flow.flow_sid}} in the widget URL',
    );
  }
  return flowSid;
}

function releasedWithOf(params: Record<string, unknown>): FinalJobStatus | undefined {
  const released = params[HOLD_PARAMS.releasedWith];
  if (released === undefined || released === '') return undefined;
  if (
    typeof released !== 'string' ||
    released === 'PENDING' ||
    !(JOB_STATUSES as readonly string[]).includes(released)
  ) {
    throw invalidParameter(`${HOLD_PARAMS.releasedWith} must be a final job status`);
  }
  return released as FinalJobStatus;
}

/** /hold needs the job and the flow to return to (the widget URL carries flowSid={{flow.flow_sid}}). */
export function parseHoldRequest(event: RuntimeEvent, fallbackAccountSid: string): HoldRequest {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const flowSid = optionalFlowSid(params);
  if (!flowSid) throw invalidParameter('flowSid is required; put flowSid={{flow.flow_sid}} in the widget URL');
  const accountSid = params[VOICE_PARAMS.accountSid];
  const callStatus = params[VOICE_PARAMS.callStatus];
  return {
    jobId,
    flowSid,
    accountSid: typeof accountSid === 'string' && ACCOUNT_SID.test(accountSid) ? accountSid : fallbackAccountSid,
    callSid: callSidOf(params),
    callEnded: typeof callStatus === 'string' && ENDED_CALL_STATUSES.has(callStatus),
    releasedWith: releasedWithOf(params),
  };
}

/** /hold's `attempt`: checks that failed so far while Twilio's API is in trouble. */
export const holdAttemptOf = (params: Record<string, unknown>): number =>
  optionalNumber(params, HOLD_PARAMS.attempt, { min: 0, max: HOLD_PARAM_LIMITS.maxAttempt, integer: true }) ?? 0;

/** What a /hold/wait request carries beyond the job: the turn, when the next poll is due, what was last said. */
export interface HoldTurnRequest {
  jobId: string;
  flowSid?: string;
  callSid?: string;
  turn: number;
  pollAt?: number;
  said?: string;
}

export function parseHoldTurn(event: RuntimeEvent): HoldTurnRequest {
  const params = callerParams(event);
  const said = params[HOLD_PARAMS.said];
  return {
    jobId: requireJobId(params),
    flowSid: optionalFlowSid(params),
    callSid: callSidOf(params),
    turn: optionalNumber(params, HOLD_PARAMS.turn, { min: 0, max: HOLD_PARAM_LIMITS.maxTurn, integer: true }) ?? 0,
    pollAt: optionalNumber(params, HOLD_PARAMS.pollAt, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }),
    said: typeof said === 'string' && HOLD_PARAM_LIMITS.saidKey.test(said) ? said : undefined,
  };
}
