import { isFinalStatus, PATHS } from '../lib/contracts';
import { HOLD_PARAMS } from '../lib/contracts-voice';
import { twilioTrouble } from '../lib/http/errors';
import { callerParams, defineHandler, twiml, type HandlerContext } from '../lib/http/handler';
import { holdAttemptOf, parseHoldRequest, type HoldRequest } from '../lib/http/hold-request';
import { serviceUrl } from '../lib/http/service-url';
import type { JobRecord, VersionedJob } from '../lib/jobs/job';
import type { JobService } from '../lib/jobs/job-service';
import { servicesFor } from '../lib/services';
import { DIAL_LIMIT_MARGIN, UNAVAILABLE_RETRY_TURNS } from '../lib/timing';
import { holdRoomName } from '../lib/voice/hold-room';
import { hangupTwiml, holdTwiml, returnToStudioTwiml, waitLoopTwiml } from '../lib/voice/hold-twiml';

/**
 * The job as /hold finds it, with the caller's call recorded on a pending one (so a completion
 * can release them at once). When only that recording fails on Twilio trouble, the hold loop
 * records the call on its first turn instead; the caller is held either way.
 */
async function holdJob(jobs: JobService, hold: HoldRequest): Promise<VersionedJob> {
  const { current } = await jobs.observe(hold.jobId);
  if (isFinalStatus(current.job.status) || !hold.callSid) return current;
  return jobs.holdCaller(current, { callSid: hold.callSid, flowSid: hold.flowSid }).catch((error: unknown) => {
    const problem = twilioTrouble(error);
    if (!problem) throw error;
    console.warn(`job ${hold.jobId}: could not record the caller's call (${problem})`);
    return current;
  });
}

/** The caller's seconds in the room: until the deadline, plus the margin for a late last turn (DIAL_LIMIT_MARGIN). */
function dialTimeLimitSeconds(job: JobRecord, holdMusicSeconds: number): number {
  const secondsLeft = Math.max(1, Math.ceil((job.deadline - Date.now()) / 1000));
  return (
    secondsLeft +
    Math.max(DIAL_LIMIT_MARGIN.minSeconds, Math.ceil(holdMusicSeconds) + DIAL_LIMIT_MARGIN.pastPeriodSeconds)
  );
}

/** The caller in the job's room, hearing the hold loop. */
function holdInRoom(context: HandlerContext, job: JobRecord, flowSid: string, holdMusicSeconds: number) {
  const { jobId } = job;
  return twiml(
    holdTwiml({
      roomName: holdRoomName(jobId),
      waitUrl: serviceUrl(context, PATHS.holdWait, { [HOLD_PARAMS.jobId]: jobId, [HOLD_PARAMS.flowSid]: flowSid }),
      eventsUrl: serviceUrl(context, PATHS.holdEvents, { [HOLD_PARAMS.jobId]: jobId }),
      afterUrl: serviceUrl(context, PATHS.hold, { [HOLD_PARAMS.jobId]: jobId, [HOLD_PARAMS.flowSid]: flowSid }),
      timeLimitSeconds: dialTimeLimitSeconds(job, holdMusicSeconds),
    }),
  );
}

/**
 * /hold: the TwiML Redirect widget's target, the <Dial> action after the hold, and the URL a
 * released caller's call is moved to. Returns to Studio when the job is final, otherwise records
 * the caller's call (so a completion can release them at once) and puts them in the job's room.
 *
 * It always answers TwiML once its parameters are valid: as the <Dial> action, an error reply
 * would end the call ("an application error has occurred"). While Twilio's API is failing it
 * plays the music and asks again; after UNAVAILABLE_RETRY_TURNS it returns to Studio with
 * status PENDING, where the flow's own retries take over.
 */
export const handler = defineHandler(async (context, event) => {
  const { config, jobs } = servicesFor(context);
  const hold = parseHoldRequest(event, config.accountSid);
  // The release that moved the caller here already knows how the job ended.
  if (hold.releasedWith) return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, hold.releasedWith));
  if (hold.callEnded) {
    // The Dial action after a hang-up: nobody hears this TwiML; a pending job is abandoned.
    await jobs.callerLeft(hold.jobId, { callEnded: true });
    return twiml(hangupTwiml());
  }
  const attempt = holdAttemptOf(callerParams(event));
  let current: VersionedJob;
  try {
    current = await holdJob(jobs, hold);
  } catch (error) {
    const problem = twilioTrouble(error);
    if (!problem) throw error;
    console.warn(`job ${hold.jobId}: hold check failed (${problem}); attempt ${attempt + 1}`);
    if (attempt + 1 >= UNAVAILABLE_RETRY_TURNS)
      return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, 'PENDING'));
    const again = serviceUrl(context, PATHS.hold, {
      [HOLD_PARAMS.jobId]: hold.jobId,
      [HOLD_PARAMS.flowSid]: hold.flowSid,
      [HOLD_PARAMS.attempt]: attempt + 1,
    });
    return twiml(waitLoopTwiml(serviceUrl(context, config.holdMusicPath), again));
  }
  const { job } = current;
  if (isFinalStatus(job.status)) return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, job.status));
  return holdInRoom(context, job, hold.flowSid, config.holdMusicSeconds);
});
