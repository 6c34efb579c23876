import { callerParams, defineHandler, empty } from '../../lib/http/handler';
import { requireJobId } from '../../lib/http/params';
import { servicesFor } from '../../lib/services';

/**
 * /hold/events (the room's statusCallback, event `leave`). A caller who leaves with their call
 * still in progress was moved on (we ended the room, or Studio took the call back): nothing to
 * do. Otherwise they hung up, and a pending job is cancelled (or timed out, past its deadline)
 * so nothing keeps polling for it. Twilio sends ParticipantCallStatus with leave events; when
 * it is missing, a pending job is taken as abandoned.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  if (params.StatusCallbackEvent !== 'participant-leave') return empty(204);
  if (params.ParticipantCallStatus === 'in-progress') return empty(204);
  await servicesFor(context).jobs.callerLeft(jobId);
  return empty(204);
});
