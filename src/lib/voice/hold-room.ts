import type { TwilioClient } from '../twilio/client';
import { withTwilioRetry } from '../twilio/retry';

/** The per-job conference. Named after the job only: no phone numbers or names in room names. */
export const holdRoomName = (jobId: string) => `hold_${jobId}`;

type RoomStatus = 'init' | 'in-progress';

/** SIDs of the job's rooms in that status (a caller waiting alone keeps the room `init`). */
export async function findHoldRooms(
  client: TwilioClient,
  jobId: string,
  status: RoomStatus = 'init',
): Promise<string[]> {
  const rooms = await withTwilioRetry(() =>
    client.conferences.list({ friendlyName: holdRoomName(jobId), status, limit: 20 }),
  );
  return rooms.map((room) => room.sid);
}

/** Ends these rooms, which sends their callers on to the TwiML after their <Dial>. Returns rooms ended. */
export async function endHoldRooms(client: TwilioClient, sids: readonly string[]): Promise<number> {
  const ended = await Promise.allSettled(
    sids.map((sid) => withTwilioRetry(() => client.conferences(sid).update({ status: 'completed' }))),
  );
  return ended.filter((outcome) => outcome.status === 'fulfilled').length;
}

/**
 * Ends the job's hold conference, which sends the caller on to the TwiML after their <Dial>.
 * A caller waiting alone keeps the room `init`, so that is looked up first; `in-progress` is
 * checked too. No room yet means the caller has not joined: the hold loop's first request
 * (made as they join) sees the finished job and releases them then. Returns rooms ended.
 */
export async function releaseHoldRoom(client: TwilioClient, jobId: string): Promise<number> {
  for (const status of ['init', 'in-progress'] as const) {
    const rooms = await findHoldRooms(client, jobId, status);
    if (rooms.length > 0) return endHoldRooms(client, rooms);
  }
  return 0;
}
