/**
 * Split Based On... conditions, as Studio evaluates them. Studio's documentation: conditions are
 * not case-sensitive and leading/trailing spaces are trimmed. The condition types are the ones
 * Studio accepts (studio/widget-catalog.ts SPLIT_CONDITION_TYPES).
 */

export type ConditionType =
  | 'equal_to'
  | 'not_equal_to'
  | 'matches_any_of'
  | 'does_not_match_any_of'
  | 'is_blank'
  | 'is_not_blank'
  | 'regex'
  | 'contains'
  | 'does_not_contain'
  | 'starts_with'
  | 'does_not_start_with'
  | 'less_than'
  | 'greater_than'
  | 'is_before_time'
  | 'is_after_time'
  | 'is_before_date'
  | 'is_after_date';

export class UnknownConditionError extends Error {}

const normalize = (text: string) => text.trim().toLowerCase();

/** "a, b ,c" -> ["a", "b", "c"] (matches_any_of takes a comma-separated list). */
function listOf(value: string): string[] {
  return value
    .split(',')
    .map(normalize)
    .filter((item) => item !== '');
}

function asNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : undefined;
}

/** Minutes since midnight of "HH:MM" (24 h, optional seconds) or "h:mm AM/PM"; undefined otherwise. */
export function minutesOfDay(text: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})(?::\d{2})?\s*(am|pm)?$/i.exec(text.trim());
  if (!match) return undefined;
  let hours = Number(match[1]);
  const minutes = Number(match[2]);
  const half = match[3]?.toLowerCase();
  if (half === 'pm' && hours < 12) hours += 12;
  if (half === 'am' && hours === 12) hours = 0;
  if (hours > 23 || minutes > 59) return undefined;
  return hours * 60 + minutes;
}

function dateOf(text: string): number | undefined {
  const parsed = Date.parse(text.trim());
  return Number.isNaN(parsed) ? undefined : parsed;
}

function compare<T>(a: T | undefined, b: T | undefined, test: (a: T, b: T) => boolean): boolean {
  return a !== undefined && b !== undefined && test(a, b);
}

/** True when `subject` satisfies the condition against `value` (both already Liquid-rendered). */
export function conditionHolds(type: string, subject: string, value: string): boolean {
  const s = normalize(subject);
  const v = normalize(value);
  switch (type as ConditionType) {
    case 'equal_to':
      return s === v;
    case 'not_equal_to':
      return s !== v;
    case 'matches_any_of':
      return listOf(value).includes(s);
    case 'does_not_match_any_of':
      return !listOf(value).includes(s);
    case 'is_blank':
      return s === '';
    case 'is_not_blank':
      return s !== '';
    case 'regex':
      try {
        return new RegExp(value.trim(), 'i').test(subject.trim());
      } catch {
        return false; // an invalid pattern matches nothing
      }
    case 'contains':
      return s.includes(v);
    case 'does_not_contain':
      return !s.includes(v);
    case 'starts_with':
      return s.startsWith(v);
    case 'does_not_start_with':
      return !s.startsWith(v);
    case 'less_than':
      return compare(asNumber(subject), asNumber(value), (a, b) => a < b);
    case 'greater_than':
      return compare(asNumber(subject), asNumber(value), (a, b) => a > b);
    case 'is_before_time':
      return compare(minutesOfDay(subject), minutesOfDay(value), (a, b) => a < b);
    case 'is_after_time':
      return compare(minutesOfDay(subject), minutesOfDay(value), (a, b) => a > b);
    case 'is_before_date':
      return compare(dateOf(subject), dateOf(value), (a, b) => a < b);
    case 'is_after_date':
      return compare(dateOf(subject), dateOf(value), (a, b) => a > b);
    default:
      throw new UnknownConditionError(`unknown split condition type "${type}"`);
  }
}
