import type { FinalJobStatus } from '../contracts';
import type { HoldVoice } from '../jobs/ports';
import type { TwilioClient } from '../twilio/client';
import { hasTwilioCode, isUnprocessedTwilioFailure } from '../twilio/errors';
import { withTwilioRetry } from '../twilio/retry';
import { releaseHoldRoom } from './hold-room';

/** Twilio: "Call is not in-progress. Cannot redirect." / the call does not exist. */
const CALL_NOT_IN_PROGRESS = 21220;
const NOT_FOUND = 20404;
/** Call statuses (Call resource) of a call that is still up. */
const LIVE_CALL_STATUSES = new Set(['queued', 'ringing', 'in-progress']);

/** The after-hold URL of a released caller: /hold with the job's final status. */
export type AfterHoldUrl = (jobId: string, flowSid: string, status: FinalJobStatus) => string;

/**
 * The HoldVoice port (jobs/ports.ts) through Voice's REST API. A release updates the caller's
 * Call with the after-hold URL: a call "modified to use new TwiML" leaves its conference whatever
 * the room's state (Participant resource docs), with no conference lookup. Ending the room is only
 * the second try. A redirect is repeated only when it surely did not land (429, no connection): a
 * repeat of one that did would take the caller away from wherever the first one sent them.
 */
export function twilioHoldVoice(client: TwilioClient, afterHoldUrl: AfterHoldUrl): HoldVoice {
  return {
    async release(jobId, call, status) {
      if (call.flowSid) {
        try {
          const url = afterHoldUrl(jobId, call.flowSid, status);
          await withTwilioRetry(
            () => client.calls(call.callSid).update({ url, method: 'POST' }),
            isUnprocessedTwilioFailure,
          );
          return 'moved';
        } catch (error) {
          if (hasTwilioCode(error, CALL_NOT_IN_PROGRESS) || hasTwilioCode(error, NOT_FOUND)) return 'gone';
          console.warn(
            `job ${jobId}: could not redirect the caller's call (${(error as Error).message}); ending the room instead`,
          );
        }
      }
      const ended = await releaseHoldRoom(client, jobId).catch(() => 0);
      return ended > 0 ? 'room-ended' : 'failed';
    },
    async callEnded(callSid) {
      try {
        const call = await withTwilioRetry(() => client.calls(callSid).fetch());
        return !LIVE_CALL_STATUSES.has(call.status);
      } catch (error) {
        if (hasTwilioCode(error, NOT_FOUND)) return true;
        console.warn(`could not read call ${callSid}: ${(error as Error).message}`);
        return undefined;
      }
    },
  };
}
