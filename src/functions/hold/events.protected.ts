import { callerParams, defineHandler, empty } from '../../lib/http/handler';
import { requireJobId } from '../../lib/http/params';
import { servicesFor } from '../../lib/services';

/**
 * /hold/events (the room's statusCallback, event `leave`). We only ever end a room after the job
 * is final, so a participant leaving a pending job's room means the caller hung up: the job is
 * cancelled (or timed out, past its deadline) and nothing keeps polling for it.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  if (params.StatusCallbackEvent !== 'participant-leave') return empty(204);
  await servicesFor(context).jobs.callerLeft(jobId);
  return empty(204);
});
