import type { TwilioClient } from '../twilio-client';
import { withTwilioRetry } from '../store/retry';

/** The per-job conference. Named after the job only: no phone numbers or names in room names. */
export const holdRoomName = (jobId: string) => `hold_${jobId}`;

/**
 * Ends the job's hold conference, which sends the caller on to the TwiML after their <Dial>.
 * A caller waiting alone keeps the room `init`, so that is looked up first; `in-progress` is
 * checked too. No room yet means the caller has not joined: the hold loop's first request
 * (made as they join) sees the finished job and releases them then. Returns rooms ended.
 */
export async function releaseHoldRoom(client: TwilioClient, jobId: string): Promise<number> {
  const friendlyName = holdRoomName(jobId);
  for (const status of ['init', 'in-progress'] as const) {
    const rooms = await withTwilioRetry(() => client.conferences.list({ friendlyName, status, limit: 20 }));
    if (rooms.length === 0) continue;
    const ended = await Promise.allSettled(
      rooms.map((room) => withTwilioRetry(() => client.conferences(room.sid).update({ status: 'completed' }))),
    );
    return ended.filter((outcome) => outcome.status === 'fulfilled').length;
  }
  return 0;
}
