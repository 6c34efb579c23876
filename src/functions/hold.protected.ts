import { isFinalStatus, PATHS } from '../lib/contracts';
import { callerParams, defineHandler, twiml } from '../lib/http/handler';
import { optionalNumber } from '../lib/http/params';
import { serviceUrl } from '../lib/http/service-url';
import type { VersionedJob } from '../lib/jobs/job';
import { servicesFor } from '../lib/services';
import { describeTwilioFailure } from '../lib/store/twilio-errors';
import { holdRoomName } from '../lib/voice/hold-room';
import { parseHoldRequest } from '../lib/voice/hold-request';
import { hangupTwiml, holdTwiml, returnToStudioTwiml, waitLoopTwiml } from '../lib/voice/hold-twiml';

/**
 * Seconds past the deadline before Twilio's <Dial timeLimit> would cut the caller out itself:
 * at least this, and always more than one hold-loop period (the music's length), since the
 * first turn past the deadline may come that late. Only a last resort: the hold loop moves the
 * caller out at that turn, and whether timeLimit bounds a conference at all is not documented.
 */
const DIAL_LIMIT_MARGIN_SECONDS = 30;
const DIAL_LIMIT_MARGIN_PAST_PERIOD_SECONDS = 20;
/** Turns of music /hold plays while Twilio's API is failing, before handing the call back to Studio. */
const UNAVAILABLE_RETRY_TURNS = 3;

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
  const attempt = optionalNumber(callerParams(event), 'attempt', { min: 0, max: 100, integer: true }) ?? 0;
  let current: VersionedJob;
  try {
    ({ current } = await jobs.refresh(await jobs.load(hold.jobId)));
    if (!isFinalStatus(current.job.status) && hold.callSid) {
      current = await jobs.holdCaller(current, { callSid: hold.callSid, flowSid: hold.flowSid }).catch((error: unknown) => {
        // The hold loop records the call on its first turn instead; the caller is held either way.
        const problem = describeTwilioFailure(error);
        if (!problem) throw error;
        console.warn(`job ${hold.jobId}: could not record the caller's call (${problem})`);
        return current;
      });
    }
  } catch (error) {
    const problem = describeTwilioFailure(error);
    if (!problem) throw error;
    console.warn(`job ${hold.jobId}: hold check failed (${problem}); attempt ${attempt + 1}`);
    if (attempt + 1 >= UNAVAILABLE_RETRY_TURNS) return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, 'PENDING'));
    return twiml(
      waitLoopTwiml(
        serviceUrl(context, config.holdMusicPath),
        serviceUrl(context, PATHS.hold, { jobId: hold.jobId, flowSid: hold.flowSid, attempt: attempt + 1 }),
      ),
    );
  }
  const { job } = current;
  if (isFinalStatus(job.status)) return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, job.status));
  const secondsLeft = Math.max(1, Math.ceil((job.deadline - Date.now()) / 1000));
  const margin = Math.max(DIAL_LIMIT_MARGIN_SECONDS, Math.ceil(config.holdMusicSeconds) + DIAL_LIMIT_MARGIN_PAST_PERIOD_SECONDS);
  return twiml(
    holdTwiml({
      roomName: holdRoomName(job.jobId),
      waitUrl: serviceUrl(context, PATHS.holdWait, { jobId: job.jobId, flowSid: hold.flowSid }),
      eventsUrl: serviceUrl(context, PATHS.holdEvents, { jobId: job.jobId }),
      afterUrl: serviceUrl(context, PATHS.hold, { jobId: job.jobId, flowSid: hold.flowSid }),
      timeLimitSeconds: secondsLeft + margin,
    }),
  );
});
