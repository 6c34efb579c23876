import { isJobId } from '../jobs/job-id';
import { invalidParameter } from './errors';

/** The jobId parameter, checked: it is also a Sync document name and a conference name. */
export function requireJobId(params: Record<string, unknown>): string {
  const value = params.jobId;
  if (value === undefined || value === '') throw invalidParameter('jobId is required');
  if (!isJobId(value)) throw invalidParameter('jobId must be "JB" followed by 32 lowercase hex digits');
  return value;
}

/** The refused value as an error message quotes it: short, so a huge input is not echoed back. */
function quoted(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 60 ? `${text.slice(0, 57)}... (${text.length} characters)` : text;
}

/** An optional number parameter (Studio sends every parameter as a string). */
export function optionalNumber(
  params: Record<string, unknown>,
  name: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const raw = params[name];
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (
    !Number.isFinite(value) ||
    value < range.min ||
    value > range.max ||
    (range.integer && !Number.isInteger(value))
  ) {
    throw invalidParameter(
      `${name} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}, got ${quoted(raw)}`,
    );
  }
  return value;
}

/** An optional string parameter with a length cap. */
export function optionalString(params: Record<string, unknown>, name: string, maxLength: number): string | undefined {
  const raw = params[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw invalidParameter(`${name} must be a string`);
  if (raw.length > maxLength) throw invalidParameter(`${name} must be at most ${maxLength} characters`);
  return raw;
}
