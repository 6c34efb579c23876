/**
 * Naive baseline, /start: the way the 2020 Studio sample ran long work. It answers at once and
 * keeps the job in memory: a timer "finishes the work" after `delayMs`, then looks the caller's
 * conference up by friendlyName with status in-progress and ends it. Nothing is stored, so there
 * is no status, no result and no recovery: if the process is gone when the timer is due, the
 * caller is never released.
 */
import { baselineClient, type Callback, type Context } from '../client';

export const handler = (context: Context, event: Record<string, unknown>, callback: Callback) => {
  const room = String(event.room ?? '');
  const delayMs = Number(event.delayMs ?? 5000);
  const client = baselineClient(context);
  setTimeout(() => {
    void (async () => {
      const conferences = await client.conferences.list({ friendlyName: room, status: 'in-progress' });
      for (const conference of conferences) await client.conferences(conference.sid).update({ status: 'completed' });
    })().catch((error: unknown) => console.error('baseline release failed', error));
  }, delayMs);
  callback(null, { room, started: true });
};
