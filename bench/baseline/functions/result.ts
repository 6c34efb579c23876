/** Naive baseline, /result: a static result (the sample never stored what the work produced). */
import type { Callback, Context } from '../client';

export const handler = (_context: Context, _event: Record<string, unknown>, callback: Callback) => {
  callback(null, { status: 'COMPLETED', result: { message: 'Thanks for waiting. Your request has been processed.' } });
};
