import { isFinalStatus, PATHS } from '../lib/contracts';
import { defineHandler, twiml } from '../lib/http/handler';
import { serviceUrl } from '../lib/http/service-url';
import { servicesFor } from '../lib/services';
import { holdRoomName } from '../lib/voice/hold-room';
import { parseHoldRequest } from '../lib/voice/hold-request';
import { holdTwiml, returnToStudioTwiml } from '../lib/voice/hold-twiml';

/** Seconds Twilio may keep the caller in the room past the deadline before cutting them out itself. */
const DIAL_LIMIT_MARGIN_SECONDS = 30;

/**
 * /hold (TwiML Redirect widget target, and the <Dial> action after the hold): returns to Studio
 * when the job is final, otherwise puts the caller in the job's room until it is.
 */
export const handler = defineHandler(async (context, event) => {
  const { config, jobs } = servicesFor(context);
  const hold = parseHoldRequest(event, config.accountSid);
  const { current } = await jobs.refresh(await jobs.load(hold.jobId));
  const { job } = current;
  if (isFinalStatus(job.status)) return twiml(returnToStudioTwiml(hold.accountSid, hold.flowSid, job.status));
  const secondsLeft = Math.max(1, Math.ceil((job.deadline - Date.now()) / 1000));
  return twiml(
    holdTwiml({
      roomName: holdRoomName(job.jobId),
      waitUrl: serviceUrl(context, PATHS.holdWait, { jobId: job.jobId }),
      eventsUrl: serviceUrl(context, PATHS.holdEvents, { jobId: job.jobId }),
      afterUrl: serviceUrl(context, PATHS.hold, { jobId: job.jobId, flowSid: hold.flowSid }),
      timeLimitSeconds: secondsLeft + DIAL_LIMIT_MARGIN_SECONDS,
    }),
  );
});
