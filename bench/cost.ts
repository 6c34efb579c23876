/**
 * The cost of one job at Twilio's list prices (bench/prices.json, one home for every price and
 * its date), from what the bench counted: Function invocations and Twilio API calls per job and
 * per held minute. Units whose price no source gave are counted and left out of the total.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JobFootprint } from './capacity';

export interface PriceItem {
  usd: number | null;
  unit: string;
  source: string;
  asOf: string | null;
}

export interface Prices {
  currency: string;
  region: string;
  checked: string;
  note: string;
  items: Record<PriceKey, PriceItem>;
}

export type PriceKey =
  | 'functionInvocation'
  | 'syncAction'
  | 'studioExecution'
  | 'inboundVoiceMinute'
  | 'conferenceParticipantMinute'
  | 'smsSegment'
  | 'callUpdate';

export function loadPrices(file = path.join(__dirname, 'prices.json')): Prices {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Prices;
}

/** What one job uses, by priced unit. */
export type Usage = Partial<Record<PriceKey, number>>;

export interface JobCost {
  job: string;
  usage: Usage;
  /** Sum over the units with a known price. */
  knownUsd: number;
  /** Units used whose price is unknown (their count is in `usage`). */
  unpriced: PriceKey[];
}

export function costOf(job: string, usage: Usage, prices: Prices): JobCost {
  let knownUsd = 0;
  const unpriced: PriceKey[] = [];
  for (const [key, count] of Object.entries(usage) as Array<[PriceKey, number]>) {
    if (!count) continue;
    const price = prices.items[key].usd;
    if (price === null) unpriced.push(key);
    else knownUsd += price * count;
  }
  return { job, usage, knownUsd: Math.round(knownUsd * 1e6) / 1e6, unpriced };
}

/** What one job uses when its contact waits `minutes` (a caller on hold, or a conversation waiting). */
export function usageOf(f: JobFootprint, minutes: number): Usage {
  const common: Usage = {
    functionInvocation: Math.round(f.invocations + f.perMinute.invocations * minutes),
    syncAction: Math.round(f.syncCalls + f.perMinute.syncCalls * minutes),
    studioExecution: f.studioExecutions,
    callUpdate: f.callUpdates,
  };
  if (f.channel === 'messaging') return { ...common, smsSegment: 3 }; // the question, "working on it", the answer
  // Minutes are rounded up per call and per conference participant (the caller is the only one).
  return { ...common, conferenceParticipantMinute: Math.ceil(minutes), inboundVoiceMinute: Math.ceil(minutes) };
}
