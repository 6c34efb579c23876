import { verifyCompletionSignature, parseCompletion } from '../../lib/backend/completion';
import { defineHandler, json } from '../../lib/http/handler';
import { servicesFor } from '../../lib/services';

/** /jobs/complete (public, signed): the backend's completion; ends the caller's hold at once. */
export const handler = defineHandler(async (context, event) => {
  const { config, jobs } = servicesFor(context);
  const webhookId = verifyCompletionSignature(event, config.webhookSecrets);
  const completion = parseCompletion(event);
  const { current, duplicate, roomsReleased } = await jobs.complete(completion, webhookId);
  return json(200, { jobId: current.job.jobId, status: current.job.status, accepted: true, duplicate, released: roomsReleased });
});
