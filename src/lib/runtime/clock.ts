import { setTimeout as sleep } from 'node:timers/promises';

/** The wall clock, as the job domain's Clock port (jobs/ports.ts) takes it. */
export const systemClock = {
  now: (): number => Date.now(),
  sleep: async (ms: number): Promise<void> => {
    await sleep(ms);
  },
};
