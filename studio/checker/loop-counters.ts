/**
 * Counters in a flow: Set Variables states that increment `flow.variables.K`, Splits that read
 * it, and how many passes such a Split lets a loop make before it leaves.
 */
import type { FlowState, Transition } from '../flow-model';

/** Keys a Set Variables state increments: value reads flow.variables.KEY and adds to it. */
export function incrementedCounters(state: FlowState): string[] {
  if (state.type !== 'set-variables' || !Array.isArray(state.properties.variables)) return [];
  const counters: string[] = [];
  for (const variable of state.properties.variables as unknown[]) {
    const { key, value } = (variable ?? {}) as { key?: unknown; value?: unknown };
    if (
      typeof key === 'string' &&
      typeof value === 'string' &&
      readsVariable(value, key) &&
      /\|\s*plus\s*:/.test(value)
    ) {
      counters.push(key);
    }
  }
  return counters;
}

function readsVariable(text: string, key: string): boolean {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`flow\\.variables\\.${escaped}(?![A-Za-z0-9_])`).test(text);
}

interface ConditionView {
  /** Position in the transition's conditions, for fault paths. */
  index: number;
  type: unknown;
  value: unknown;
  arguments: unknown[];
}

/** The well-formed conditions of a transition (malformed ones are reported by the widget check). */
function conditionsOf(transition: Transition): ConditionView[] {
  const list: unknown[] = Array.isArray(transition.conditions) ? transition.conditions : [];
  const views: ConditionView[] = [];
  list.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null) return;
    const condition = raw as Record<string, unknown>;
    const args = Array.isArray(condition.arguments) ? (condition.arguments as unknown[]) : [];
    views.push({ index, type: condition.type, value: condition.value, arguments: args });
  });
  return views;
}

function conditionReadsCounter(condition: ConditionView, counter: string): boolean {
  return condition.arguments.some((argument) => typeof argument === 'string' && readsVariable(argument, counter));
}

export function splitReadsCounter(state: FlowState, counter: string): boolean {
  if (state.type !== 'split-based-on') return false;
  const input = state.properties.input;
  if (typeof input === 'string' && readsVariable(input, counter)) return true;
  return state.transitions.some((transition) =>
    conditionsOf(transition).some((condition) => conditionReadsCounter(condition, counter)),
  );
}

export function leaves(transition: Transition, loop: ReadonlySet<string>): boolean {
  return transition.next === undefined || !loop.has(transition.next);
}

/** How many passes the split allows before it leaves the loop, when its conditions say so. */
export function loopBound(
  state: FlowState,
  counter: string,
  loop: ReadonlySet<string>,
): { runs: number; property: string } | null {
  let best: { runs: number; property: string } | null = null;
  const consider = (runs: number, property: string): void => {
    if (best === null || runs < best.runs) best = { runs, property };
  };
  const noMatchLeaves = state.transitions.some((t) => t.event === 'noMatch' && leaves(t, loop));

  state.transitions.forEach((transition, index) => {
    conditionsOf(transition).forEach((condition) => {
      const value = Number(condition.value);
      if (!conditionReadsCounter(condition, counter) || !Number.isInteger(value)) return;
      const property = `transitions[${index}].conditions[${condition.index}].value`;
      if (leaves(transition, loop)) {
        // The counter is 1 on the first pass: "> N" exits on pass N+1, "== N" on pass N.
        if (condition.type === 'greater_than') consider(value + 1, property);
        if (condition.type === 'equal_to') consider(value, property);
      } else if (noMatchLeaves && condition.type === 'less_than') {
        consider(value, property);
      }
    });
  });
  return best;
}
