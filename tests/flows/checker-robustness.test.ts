/** Whatever JSON it is given, the checker reports faults; it never throws. */
import fc from 'fast-check';
import { checkFlow } from '../../studio/checker';
import { loadFlow, MESSAGING_FLOW, SERVICE_FUNCTIONS, VOICE_FLOW } from './flow-fixtures';

/** Every path to a value inside `root` (object keys and array indexes). */
function paths(root: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const found: Array<Array<string | number>> = [prefix];
  if (Array.isArray(root)) root.forEach((item, i) => found.push(...paths(item, [...prefix, i])));
  else if (typeof root === 'object' && root !== null) {
    for (const [key, value] of Object.entries(root)) found.push(...paths(value, [...prefix, key]));
  }
  return found;
}

function replaceAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = JSON.parse(JSON.stringify(root)) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

const options = { fileName: 'fuzz.json', serviceFunctions: SERVICE_FUNCTIONS };

describe('checker robustness', () => {
  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(Array.isArray(checkFlow(value, options))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws when any part of a real flow is replaced by arbitrary JSON', () => {
    for (const file of [VOICE_FLOW, MESSAGING_FLOW]) {
      const flow = loadFlow(file);
      const all = paths(flow);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue({ maxDepth: 2 }), (index, value) => {
          const faults = checkFlow(replaceAt(flow, all[index], value), options);
          expect(Array.isArray(faults)).toBe(true);
        }),
        { numRuns: 400 },
      );
    }
  });
});
