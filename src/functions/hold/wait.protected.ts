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
import { progressSpeech, type ProgressSpeech } from '../../lib/voice/progress-speech';

/** The waitUrl parameter carrying the key of what the last speaking turn said. */
const SAID_PARAM = 'said';
const SPEECH_KEY = /^[A-Za-z0-9_-]{1,16}$/;

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
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const flowSid = optionalFlowSid(params);
  const turn = optionalNumber(params, 'turn', { min: 0, max: 100_000, integer: true }) ?? 0;
  const pollAt = optionalNumber(params, 'pollAt', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  const said = typeof params[SAID_PARAM] === 'string' && SPEECH_KEY.test(params[SAID_PARAM]) ? params[SAID_PARAM] : undefined;
  const { config, jobs } = servicesFor(context);
  const nextTurn = (nextPollAt: number | undefined, speech?: ProgressSpeech) =>
    twiml(
      waitLoopTwiml(
        serviceUrl(context, config.holdMusicPath),
        serviceUrl(context, PATHS.holdWait, { jobId, flowSid, turn: turn + 1, pollAt: nextPollAt, [SAID_PARAM]: speech?.key ?? said }),
        speech,
      ),
    );
  let job: JobRecord;
  let polled: { progress?: number; message?: string };
  try {
    const { current, progress, message } = await jobs.holdTurn(jobId, { callSid: callSidOf(params), flowSid }, pollAt);
    job = current.job;
    polled = { progress, message };
  } catch (error) {
    const problem = describeTwilioFailure(error);
    if (!problem) throw error;
    console.warn(`job ${jobId}: hold check failed (${problem}); checking again next turn`);
    return nextTurn(pollAt);
  }
  const now = Date.now();
  const nextPollAt = job.mode === 'poll' && !isFinalStatus(job.status) ? (pollAt !== undefined && pollAt > now ? pollAt : now + retryAfterSeconds(job, now) * 1000) : undefined;
  const speech = isFinalStatus(job.status) ? undefined : progressSpeech(job, { turn, defaultEveryTurns: config.progressEveryTurns, lastKey: said, polled });
  return nextTurn(nextPollAt, speech);
});
