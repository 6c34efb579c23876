import { JOB_STATUSES, type FinalJobStatus } from '../contracts';
import { invalidParameter } from '../http/errors';
import { callerParams, type RuntimeEvent } from '../http/handler';
import { requireJobId } from '../http/params';
import { ACCOUNT_SID, CALL_SID, FLOW_SID } from '../twilio-sids';

/** Query parameters the service puts in its own hold URLs (the flow's URL carries jobId and flowSid). */
export const HOLD_PARAMS = {
  /** On the after-hold URL of a released caller: the job's final status (no need to read the job). */
  releasedWith: 'releasedWith',
} as const;

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
  return typeof params.CallSid === 'string' && CALL_SID.test(params.CallSid) ? params.CallSid : undefined;
}

/** An optional flowSid parameter, checked. */
export function optionalFlowSid(params: Record<string, unknown>): string | undefined {
  const flowSid = params.flowSid;
  if (flowSid === undefined || flowSid === '') return undefined;
  if (typeof flowSid !== 'string' || !FLOW_SID.test(flowSid)) {
    throw invalidParameter('flowSid must be the Studio Flow SID (FW + 32 hex); put flowSid={{flow.flow_sid}} in the widget URL');
  }
  return flowSid;
}

/** /hold needs the job and the flow to return to (the widget URL carries flowSid={{flow.flow_sid}}). */
export function parseHoldRequest(event: RuntimeEvent, fallbackAccountSid: string): HoldRequest {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const flowSid = optionalFlowSid(params);
  if (!flowSid) throw invalidParameter('flowSid is required; put flowSid={{flow.flow_sid}} in the widget URL');
  const accountSid = typeof params.AccountSid === 'string' && ACCOUNT_SID.test(params.AccountSid) ? params.AccountSid : fallbackAccountSid;
  const released = params[HOLD_PARAMS.releasedWith];
  let releasedWith: FinalJobStatus | undefined;
  if (released !== undefined && released !== '') {
    if (typeof released !== 'string' || released === 'PENDING' || !(JOB_STATUSES as readonly string[]).includes(released)) {
      throw invalidParameter(`${HOLD_PARAMS.releasedWith} must be a final job status`);
    }
    releasedWith = released as FinalJobStatus;
  }
  const callStatus = params.CallStatus;
  return {
    jobId,
    flowSid,
    accountSid,
    callSid: callSidOf(params),
    callEnded: typeof callStatus === 'string' && ENDED_CALL_STATUSES.has(callStatus),
    releasedWith,
  };
}
