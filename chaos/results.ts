/**
 * Results a chaos run's backend hands out: seeded, awkward on purpose (non-ASCII, astral-plane
 * characters, escapes, numbers, nesting), so "byte-identical" is a real test and not a string
 * compare of "ok".
 */
import { seededRandom } from '../emulator/faults';

const WORDS = [
  'order',
  'Straße',
  'naïve',
  '漢字',
  'emoji 🎵🎶',
  'quote "q"',
  'back\\slash',
  'line\nbreak',
  'tab\t',
  '<xml & amp>',
  'ümlaut',
  '€100',
  'zero\u0000char',
];

export function chaosResult(callIndex: number, jobId: string): Record<string, unknown> {
  const random = seededRandom(callIndex * 31 + 17);
  const words = Array.from({ length: 3 + Math.floor(random() * 6) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  return {
    message: `Your request ${jobId.slice(-6)} is done: ${words.join(' ')}`,
    reference: `REF-${jobId.slice(2, 10).toUpperCase()}`,
    amount: Math.round(random() * 1_000_000) / 100,
    count: Math.floor(random() * 1000) - 500,
    ratio: random(),
    flags: [random() < 0.5, null, random() < 0.5],
    nested: { level: { deeper: words.slice(0, 2), empty: {} } },
  };
}
