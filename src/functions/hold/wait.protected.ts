import { isFinalStatus, PATHS } from '../../lib/contracts';
import { callerParams, defineHandler, twiml } from '../../lib/http/handler';
import { optionalNumber, requireJobId } from '../../lib/http/params';
import { serviceUrl } from '../../lib/http/service-url';
import type { JobRecord } from '../../lib/jobs/job';
import { retryAfterSeconds } from '../../lib/jobs/state';
import { servicesFor } from '../../lib/services';
import { describeTwilioFailure } from '../../lib/store/twilio-errors';
import { callSidOf, optionalFlowSid } from '../../lib/voice/hold-request';
import { waitLoopTwiml } from '../../lib/voice/hold-twiml';

/**
 * /hold/wait (the room's waitUrl): one turn of the hold loop. Checks the job (and, in poll
 * mode when due, the backend), and moves the caller out when it is final or past its deadline
 * (a turn past the deadline times the job out), else plays the music and asks again. When the
 * next poll is due travels in the URL, which saves a Sync write per turn. When Twilio's API is
 * in trouble the turn still answers with the music and the next turn (a failed waitUrl would
 * end the loop, leaving nobody to check the job); the <Dial> timeLimit stays the last resort.
 */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const flowSid = optionalFlowSid(params);
  const turn = optionalNumber(params, 'turn', { min: 0, max: 100_000, integer: true }) ?? 0;
  const pollAt = optionalNumber(params, 'pollAt', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  const { config, jobs } = servicesFor(context);
  const nextTurn = (nextPollAt: number | undefined) =>
    twiml(
      waitLoopTwiml(
        serviceUrl(context, config.holdMusicPath),
        serviceUrl(context, PATHS.holdWait, { jobId, flowSid, turn: turn + 1, pollAt: nextPollAt }),
      ),
    );
  let job: JobRecord;
  try {
    ({ job } = (await jobs.holdTurn(jobId, { callSid: callSidOf(params), flowSid }, pollAt)).current);
  } catch (error) {
    const problem = describeTwilioFailure(error);
    if (!problem) throw error;
    console.warn(`job ${jobId}: hold check failed (${problem}); checking again next turn`);
    return nextTurn(pollAt);
  }
  const now = Date.now();
  const nextPollAt = job.mode === 'poll' && !isFinalStatus(job.status) ? (pollAt !== undefined && pollAt > now ? pollAt : now + retryAfterSeconds(job, now) * 1000) : undefined;
  return nextTurn(nextPollAt);
});
