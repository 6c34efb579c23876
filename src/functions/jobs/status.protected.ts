import { LIMITS } from '../../lib/contracts';
import { callerParams, defineHandler, json } from '../../lib/http/handler';
import { optionalNumber, requireJobId } from '../../lib/http/params';
import { statusReply } from '../../lib/jobs/replies';
import { servicesFor } from '../../lib/services';

/**
 * /jobs/status (Run Function, polling flows). With `wait`, holds the request until the job is
 * final or the wait is over, so a messaging flow polls a few times instead of many.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const waitSeconds = optionalNumber(params, 'wait', { min: 0, max: LIMITS.statusWaitSeconds }) ?? 0;
  const { jobs } = servicesFor(context);
  const { current, progress, message } = await jobs.observeUntilFinal(jobId, waitSeconds);
  return json(200, statusReply(current.job, Date.now(), { progress, message }));
});
