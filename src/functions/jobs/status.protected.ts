import { setTimeout as sleep } from 'node:timers/promises';
import { isFinalStatus, LIMITS } from '../../lib/contracts';
import { budgetLeft } from '../../lib/http/budget';
import { callerParams, defineHandler, json } from '../../lib/http/handler';
import { optionalNumber, requireJobId } from '../../lib/http/params';
import { statusReply } from '../../lib/jobs/replies';
import { servicesFor } from '../../lib/services';

/** A check started later than this before the end of the request's budget might not finish in time. */
const CHECK_RESERVE_MS = 2_500;

/**
 * /jobs/status (Run Function, polling flows). With `wait`, holds the request until the job is
 * final or the wait is over, so a messaging flow polls a few times instead of many.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const waitSeconds = optionalNumber(params, 'wait', { min: 0, max: LIMITS.statusWaitSeconds }) ?? 0;
  const { jobs } = servicesFor(context);
  const until = Date.now() + waitSeconds * 1000;
  let { current, progress, message } = await jobs.refresh(await jobs.load(jobId));
  while (!isFinalStatus(current.job.status)) {
    const reply = statusReply(current.job, Date.now(), { progress, message });
    const next = Date.now() + Math.min(reply.retryAfter * 1000, 2000);
    if (next > until || budgetLeft(next) < CHECK_RESERVE_MS) break;
    await sleep(Math.max(0, next - Date.now()));
    ({ current, progress, message } = await jobs.refresh(await jobs.load(jobId)));
  }
  return json(200, statusReply(current.job, Date.now(), { progress, message }));
});
