/**
 * String formats used by Twilio's OpenAPI specs, registered on an Ajv instance.
 *
 * Twilio's specs use custom format names (`date-time-rfc-2822`, `phone-number`, ...). Ajv in strict
 * mode refuses unknown formats, so every name the specs use is registered here: the standard ones
 * from ajv-formats, the custom ones with a check that matches what Twilio actually sends.
 */
import type Ajv from 'ajv';
import type { Format } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';

function asPredicate(format: Format): (value: string) => boolean {
  if (typeof format === 'function') return format as (value: string) => boolean;
  if (format instanceof RegExp) return (value) => format.test(value);
  if (typeof format === 'string') return (value) => new RegExp(format).test(value);
  if (format === true) return () => true;
  const validate = format.validate;
  if (typeof validate === 'function') return (value) => Boolean((validate as (v: string) => unknown)(value));
  if (validate instanceof RegExp) return (value) => validate.test(value);
  return () => true;
}

const isAbsoluteUri = asPredicate(fullFormats.uri);
const isUriReference = asPredicate(fullFormats['uri-reference']);

/**
 * The specs mark `uri`, `first_page_uri`, `subresource_uris` values etc. as `format: uri`, yet the
 * 2010-04-01 API (and the specs' own examples) return paths such as `/2010-04-01/Accounts/...json`.
 * So a `uri` is an absolute URI or an absolute-path reference; anything else is still rejected.
 */
function isTwilioUri(value: string): boolean {
  return isAbsoluteUri(value) || (value.startsWith('/') && isUriReference(value));
}

const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** Formats that only ever appear on object-typed schemas; the schema converter handles them. */
export const OBJECT_FORMATS = new Set(['uri-map', 'phone-number-capabilities', 'ice-server']);

/** Custom string formats: name -> check. */
const TWILIO_STRING_FORMATS: Record<string, (value: string) => boolean> = {
  uri: isTwilioUri,
  'date-time-rfc-2822': (v) => RFC_2822.test(v),
  // Phone numbers, client:/sip: identities: Twilio accepts many shapes, so only require non-blank.
  'phone-number': (v) => v.trim().length > 0,
  endpoint: (v) => v.trim().length > 0,
  'http-method': (v) => /^(GET|POST|PUT|PATCH|DELETE|HEAD)$/i.test(v),
  currency: (v) => /^[A-Za-z]{3}$/.test(v),
  'iso-country-code': (v) => /^[A-Za-z]{2}$/.test(v),
  // A TwiML document: Twilio rejects anything that is not a <Response>.
  twiml: (v) => /<Response[\s>/]/.test(v),
};

export function addTwilioFormats(ajv: Ajv): Ajv {
  addFormats(ajv, { mode: 'full' });
  for (const [name, check] of Object.entries(TWILIO_STRING_FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: check });
  }
  return ajv;
}

/** Every string/number format the converter may leave in a schema. */
export function isKnownFormat(name: string): boolean {
  return name in TWILIO_STRING_FORMATS || name in fullFormats;
}
