/** Naive baseline, /hold: puts the caller in the room; hold music straight from the asset. */
import { voiceResponse, type Callback, type Context } from '../client';

export const handler = (context: Context, event: Record<string, unknown>, callback: Callback) => {
  const response = voiceResponse();
  const dial = response.dial();
  dial.conference(
    { waitUrl: `http://${context.DOMAIN_NAME}/hold-music.wav`, waitMethod: 'GET' },
    String(event.room ?? ''),
  );
  callback(null, response);
};
