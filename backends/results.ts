import type { DispatchRequest } from '../src/lib/contracts';

/** Bytes `,"padding":""` and a little slack add to a result's JSON. */
const PADDING_OVERHEAD_BYTES = 14;

/**
 * `base`, padded with `fill` to about `bytes` bytes of JSON (a little under); `base` itself when
 * it is that big already. The default fill is two bytes in UTF-8, so a result that is cut into
 * pieces by bytes must keep its characters whole.
 */
export function paddedResult(base: Record<string, unknown>, bytes: number, fill = 'ü'): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(base));
  const count = Math.floor((bytes - size - PADDING_OVERHEAD_BYTES) / Buffer.byteLength(fill));
  return count > 0 ? { ...base, padding: fill.repeat(count) } : base;
}

/** The example backend's result when nobody chose one: the job named, its input echoed. */
export function defaultResult(dispatch: DispatchRequest): Record<string, unknown> {
  return { answer: `done ${dispatch.jobId}`, input: dispatch.input };
}
