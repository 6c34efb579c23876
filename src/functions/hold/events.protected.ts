import { PARTICIPANT_LEAVE_EVENT, VOICE_PARAMS } from '../../lib/contracts-voice';
import { callerParams, defineHandler, empty } from '../../lib/http/handler';
import { callSidOf } from '../../lib/http/hold-request';
import { requireJobId } from '../../lib/http/params';
import { servicesFor } from '../../lib/services';

/**
 * /hold/events (the room's statusCallback, event `leave`). Whether the caller hung up or was
 * moved on (released, or taken back by Studio) is read from their Call's own status, and only
 * while the job is pending: what participant-leave carries besides CallSid is not documented
 * well enough to act on. A pending job of a caller who hung up is cancelled, so nothing keeps
 * working for nobody.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  if (params[VOICE_PARAMS.statusCallbackEvent] !== PARTICIPANT_LEAVE_EVENT) return empty(204);
  await servicesFor(context).jobs.callerLeft(jobId, { callSid: callSidOf(params) });
  return empty(204);
});
