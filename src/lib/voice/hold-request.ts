import { invalidParameter } from '../http/errors';
import { callerParams, type RuntimeEvent } from '../http/handler';
import { requireJobId } from '../http/params';
import { ACCOUNT_SID, FLOW_SID } from '../twilio-sids';

export interface HoldRequest {
  jobId: string;
  flowSid: string;
  accountSid: string;
}

/** /hold needs the job and the flow to return to (the widget URL carries flowSid={{flow.flow_sid}}). */
export function parseHoldRequest(event: RuntimeEvent, fallbackAccountSid: string): HoldRequest {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const flowSid = params.flowSid;
  if (typeof flowSid !== 'string' || !FLOW_SID.test(flowSid)) {
    throw invalidParameter('flowSid must be the Studio Flow SID (FW + 32 hex); put flowSid={{flow.flow_sid}} in the widget URL');
  }
  const accountSid = typeof params.AccountSid === 'string' && ACCOUNT_SID.test(params.AccountSid) ? params.AccountSid : fallbackAccountSid;
  return { jobId, flowSid, accountSid };
}
