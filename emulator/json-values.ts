/** Telling JSON objects from other JSON values, in the bodies and parameters the emulator reads. */
import { TwilioApiError } from './twilio-errors';

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A parameter that holds a JSON object as text. Anything else is Twilio's 400 with `code`: the
 * `notJson` message when the text does not parse, `notObject` when it parses to something else.
 */
export function jsonObjectParameter(
  raw: string,
  code: number,
  messages: { notJson: string; notObject: string },
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TwilioApiError(400, code, messages.notJson);
  }
  if (!isObject(parsed)) throw new TwilioApiError(400, code, messages.notObject);
  return parsed;
}
