import { isFinalStatus, PATHS } from '../../lib/contracts';
import { HOLD_PARAMS } from '../../lib/contracts-voice';
import { twilioTrouble } from '../../lib/http/errors';
import { defineHandler, twiml } from '../../lib/http/handler';
import { parseHoldTurn } from '../../lib/http/hold-request';
import { serviceUrl } from '../../lib/http/service-url';
import type { Observed } from '../../lib/jobs/job-service';
import { nextPollDueAt } from '../../lib/jobs/state';
import { servicesFor } from '../../lib/services';
import { waitLoopTwiml } from '../../lib/voice/hold-twiml';
import { progressSpeech, type ProgressSpeech } from '../../lib/voice/progress-speech';

/**
 * /hold/wait (the room's waitUrl): one turn of the hold loop. Checks the job (and, in poll
 * mode when due, the backend), and moves the caller out when it is final or past its deadline
 * (a turn past the deadline times the job out), else plays the music and asks again. When the
 * next poll is due travels in the URL, which saves a Sync write per turn, and so does what the
 * last progress announcement said (`said`), so the same one is never said twice in a row. When
 * Twilio's API is in trouble the turn still answers with the music and the next turn (a failed
 * waitUrl would end the loop, leaving nobody to check the job); the <Dial> timeLimit stays the
 * last resort.
 */
export const handler = defineHandler(async (context, event) => {
  const { jobId, flowSid, callSid, turn, pollAt, said } = parseHoldTurn(event);
  const { config, jobs } = servicesFor(context);
  const nextTurn = (nextPollAt: number | undefined, speech?: ProgressSpeech) =>
    twiml(
      waitLoopTwiml(
        serviceUrl(context, config.holdMusicPath),
        serviceUrl(context, PATHS.holdWait, {
          [HOLD_PARAMS.jobId]: jobId,
          [HOLD_PARAMS.flowSid]: flowSid,
          [HOLD_PARAMS.turn]: turn + 1,
          [HOLD_PARAMS.pollAt]: nextPollAt,
          [HOLD_PARAMS.said]: speech?.key ?? said,
        }),
        speech,
      ),
    );
  let observed: Observed;
  try {
    observed = await jobs.holdTurn(jobId, { callSid, flowSid }, pollAt);
  } catch (error) {
    const problem = twilioTrouble(error);
    if (!problem) throw error;
    console.warn(`job ${jobId}: hold check failed (${problem}); checking again next turn`);
    return nextTurn(pollAt);
  }
  const { job } = observed.current;
  const { progress, message } = observed;
  const speech = isFinalStatus(job.status)
    ? undefined
    : progressSpeech(job, {
        turn,
        defaultEveryTurns: config.progressEveryTurns,
        lastKey: said,
        polled: { progress, message },
      });
  return nextTurn(nextPollDueAt(job, pollAt, Date.now()), speech);
});
