/**
 * Every string in a state's properties and split conditions is a Liquid template to Studio: each
 * must parse, and each `widgets.NAME` it reads must name a state of this flow.
 */
import { Liquid } from 'liquidjs';
import type { FlowState } from '../flow-model';
import type { FaultList } from './fault';

/**
 * Parse-only engine. Studio adds filters of its own (to_json and others), so unknown filters are
 * tolerated; unknown tags and unclosed blocks or outputs are errors, as they are in Studio.
 */
const engine = new Liquid({ strictFilters: false, strictVariables: false });

const LIQUID_MARKUP = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
const WIDGET_REFERENCE = /\bwidgets\s*(?:\.\s*([A-Za-z0-9_-]+)|\[\s*["']([^"']+)["']\s*\])/g;

export function checkLiquid(states: readonly FlowState[], faults: FaultList): void {
  const names = new Set(states.map((state) => state.name));
  for (const state of states) {
    for (const [path, text] of templateStrings(state)) {
      const parseError = liquidParseError(text);
      if (parseError) {
        faults.error(state.name, path, `Liquid does not parse: ${parseError}`);
        continue;
      }
      for (const name of widgetReferences(text)) {
        if (!names.has(name)) {
          faults.error(state.name, path, `reads widgets.${name}, but this flow has no state named "${name}"`);
        }
      }
    }
  }
}

/** Every string of the state that Studio renders, with its path inside the state. */
function* templateStrings(state: FlowState): Generator<[string, string]> {
  for (const [key, value] of Object.entries(state.properties)) {
    if (key === 'offset') continue;
    yield* stringsIn(value, key);
  }
  for (const [index, transition] of state.transitions.entries()) {
    if (transition.conditions) {
      yield* stringsIn(transition.conditions, `transitions[${index}].conditions`);
    }
  }
}

function* stringsIn(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsIn(item, `${path}[${index}]`);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, `${path}.${key}`);
  }
}

export function liquidParseError(text: string): string | null {
  if (!text.includes('{{') && !text.includes('{%')) return null;
  try {
    engine.parse(text);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.split('\n')[0];
  }
}

/** Names read as `widgets.NAME` or `widgets["NAME"]` inside Liquid markup. */
export function widgetReferences(text: string): string[] {
  const found = new Set<string>();
  for (const markup of text.matchAll(LIQUID_MARKUP)) {
    const code = markup[1] ?? markup[2] ?? '';
    for (const reference of code.matchAll(WIDGET_REFERENCE)) {
      const name = (reference[1] ?? reference[2] ?? '').replace(/-+$/, '');
      if (name !== '') found.add(name);
    }
  }
  return [...found];
}
