import { parseCompletion, verifyCompletionToken } from '../../lib/backend/completion';
import { defineHandler, json } from '../../lib/http/handler';
import { servicesFor } from '../../lib/services';

/**
 * /jobs/complete (public; each job's callbackUrl is a capability URL): the backend's plain JSON
 * completion. Releases a caller on hold at once.
 */
export const handler = defineHandler(async (context, event) => {
  const { config, jobs } = servicesFor(context);
  const jobId = verifyCompletionToken(event, config.webhookSecrets);
  const { current, duplicate, released } = await jobs.complete(parseCompletion(event, jobId));
  return json(200, { jobId: current.job.jobId, status: current.job.status, accepted: true, duplicate, released });
});
