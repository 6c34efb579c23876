import { parseCallback, verifyCompletionToken } from '../../lib/backend/completion';
import type { HeartbeatReply } from '../../lib/contracts';
import { defineHandler, json } from '../../lib/http/handler';
import { servicesFor } from '../../lib/services';

/**
 * /jobs/complete (public; each job's callbackUrl is a capability URL): the backend's plain JSON
 * completion, which releases a caller on hold at once, or a heartbeat (`status: PENDING`) with
 * its progress, message and a later deadline.
 */
export const handler = defineHandler(async (context, event) => {
  const { config, jobs } = servicesFor(context);
  const jobId = verifyCompletionToken(event, config.webhookSecrets);
  const callback = parseCallback(event, jobId);
  if (callback.kind === 'heartbeat') {
    const { current, stored } = await jobs.heartbeat(callback.request);
    const reply: HeartbeatReply = {
      jobId,
      status: 'PENDING',
      accepted: true,
      stored,
      deadline: new Date(current.job.deadline).toISOString(),
    };
    return json(200, reply);
  }
  const { current, duplicate, released } = await jobs.complete(callback.request);
  return json(200, { jobId: current.job.jobId, status: current.job.status, accepted: true, duplicate, released });
});
