/**
 * flows/messaging.json as the benchmarks play it: the parameters its Run Function widgets send,
 * and the flow itself, for the emulator's Studio to start again when a push job completes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../dev/paths';

/** start_job's `wait`: the flow does not wait for the work in /jobs/start. */
export const MESSAGING_START_WAIT = 0;

/** wait_for_job's `wait`: the long-poll path asks /jobs/status for this many seconds at a time. */
export const LONG_POLL_SECONDS = 6;

/** The service's own number, the `notifyFrom` of the conversations the benchmarks start. */
export const SERVICE_NUMBER = '+15550001000';

/** The flow's definition, as the emulator's Studio takes it. */
export function readMessagingFlow(): unknown {
  return JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'messaging.json'), 'utf8'));
}
