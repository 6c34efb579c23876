import { callerParams, defineHandler, json } from '../../lib/http/handler';
import { requireJobId } from '../../lib/http/params';
import { resultReply } from '../../lib/jobs/replies';
import { servicesFor } from '../../lib/services';

/** /jobs/result (Run Function): the job's result as an object Studio parses into parsed.*. */
export const handler = defineHandler(async (context, event) => {
  const jobId = requireJobId(callerParams(event));
  const { jobs } = servicesFor(context);
  const { current } = await jobs.observe(jobId);
  return json(200, resultReply(current.job, await jobs.readResult(current.job)));
});
