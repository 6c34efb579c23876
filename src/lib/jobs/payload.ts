import { JOB_ERROR_CODES, LIMITS, type JobError } from '../contracts';
import { ResultTooLarge } from './errors';

/** A result as Studio will read it: always an object, so `parsed.*` works; other values are wrapped. */
export function normalizeResult(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}

/** Checks the result fits a Studio reply (ResultTooLarge otherwise); returns its JSON. */
export function resultJsonWithinLimit(result: Record<string, unknown>): string {
  const resultJson = JSON.stringify(result);
  const bytes = Buffer.byteLength(resultJson);
  if (bytes > LIMITS.resultBytes) throw new ResultTooLarge(bytes, LIMITS.resultBytes);
  return resultJson;
}

export function normalizeError(value: unknown, fallbackCode: string = JOB_ERROR_CODES.backendFailed): JobError {
  if (typeof value === 'string' && value.trim() !== '') return { code: fallbackCode, message: value.slice(0, 500) };
  if (value && typeof value === 'object') {
    const { code, message } = value as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' && code !== '' ? code.slice(0, 100) : fallbackCode,
      message: typeof message === 'string' && message !== '' ? message.slice(0, 500) : 'The backend reported a failure',
    };
  }
  return { code: fallbackCode, message: 'The backend reported a failure' };
}
