/**
 * Widget-loop risk. Studio ends an execution when one widget runs 10 times, so every loop must be
 * bounded by a counter: a Set Variables state that increments `flow.variables.K`
 * (`{{flow.variables.K | plus: 1}}`) and a Split on `flow.variables.K` that leaves the loop.
 *
 * A loop (strongly connected set of states) counts as guarded by counter K when every cycle in it
 * passes through an increment of K and through a split on K with an exit; cycles that avoid
 * either are checked again against the other counters. A guarded loop whose split lets it run
 * 10 times or more is reported too.
 *
 * Loops that pass through a widget that waits on the contact (a reply, a key press) are paced by
 * a person; they are reported as such.
 *
 * All of these are warnings: Studio accepts a flow with a loop, and stops an execution at run time
 * when the same widget runs 10 times in a row, or after 1,000 steps (Studio FAQ, "What limits
 * exist in Studio?", twilio.com/docs/studio/user-guide/studio-faq; warnings 81001 and 81000). A
 * loop without a counter may still end well (a retry that succeeds the second time), so it is not
 * sure to mis-run.
 */
import type { FlowState } from '../flow-model';
import { STUDIO_WIDGET_RUN_LIMIT } from '../platform';
import { widgetSpec } from '../widget-catalog';
import type { FaultList } from './fault';
import { buildGraph, components, isLoop, shortestCycle, type Graph } from './graph-cycles';
import { incrementedCounters, leaves, loopBound, splitReadsCounter } from './loop-counters';

interface GuardUse {
  split: string;
  counter: string;
  loop: ReadonlySet<string>;
}

const LIMIT_NOTE = `Studio ends the execution when one widget runs ${STUDIO_WIDGET_RUN_LIMIT} times`;
const FIX_NOTE = 'count passes in Set Variables and leave the loop from a Split on the count';

export function checkLoops(states: readonly FlowState[], faults: FaultList): void {
  const graph = buildGraph(states);
  const counters = [...new Set(states.flatMap(incrementedCounters))];
  const { unguarded, guards } = findUnguarded(graph, new Set(graph.order), counters);

  for (const loop of unguarded) reportUnguarded(graph, loop, faults);
  for (const guard of guards) reportLoopBound(graph, guard, faults);
}

function findUnguarded(
  graph: Graph,
  within: ReadonlySet<string>,
  counters: readonly string[],
): { unguarded: Set<string>[]; guards: GuardUse[] } {
  const unguarded: Set<string>[] = [];
  const guards: GuardUse[] = [];

  for (const component of components(graph, within)) {
    if (!isLoop(graph, component)) continue;
    const loop = new Set(component);
    // When a counter bounds only part of the loop, the smaller loops it leaves are reported
    // instead of the whole: they say more precisely where a counter is missing.
    let residual: Set<string>[] | null = null;
    let guardedBy: GuardUse[] | null = null;
    for (const counter of counters) {
      const attempt = guardLoop(graph, loop, counter, counters);
      if (attempt === null) continue;
      if (attempt.unguarded.length === 0) {
        guardedBy = attempt.guards;
        break;
      }
      residual ??= attempt.unguarded;
    }
    if (guardedBy) guards.push(...guardedBy);
    else unguarded.push(...(residual ?? [loop]));
  }
  return { unguarded: dedupe(unguarded), guards };
}

/**
 * How far `counter` bounds `loop`: null when the loop has no increment of it or no split on it
 * that leaves the loop; otherwise the cycles it leaves unbounded, checked against the other
 * counters (cycles avoiding the increments, or avoiding the splits, are not bounded by it).
 */
function guardLoop(
  graph: Graph,
  loop: ReadonlySet<string>,
  counter: string,
  counters: readonly string[],
): { unguarded: Set<string>[]; guards: GuardUse[] } | null {
  const members = [...loop].map((name) => graph.states.get(name) as FlowState);
  const increments = members.filter((state) => incrementedCounters(state).includes(counter)).map((s) => s.name);
  const splits = members
    .filter((state) => splitReadsCounter(state, counter) && state.transitions.some((t) => leaves(t, loop)))
    .map((s) => s.name);
  if (increments.length === 0 || splits.length === 0) return null;

  const others = counters.filter((other) => other !== counter);
  const withoutIncrements = findUnguarded(graph, without(loop, increments), others);
  const withoutSplits = findUnguarded(graph, without(loop, splits), others);
  return {
    unguarded: [...withoutIncrements.unguarded, ...withoutSplits.unguarded],
    guards: [
      ...splits.map((split) => ({ split, counter, loop })),
      ...withoutIncrements.guards,
      ...withoutSplits.guards,
    ],
  };
}

/** The same smaller loop can be found both without the increments and without the splits. */
function dedupe(loops: Set<string>[]): Set<string>[] {
  const seen = new Set<string>();
  return loops.filter((loop) => {
    const key = [...loop].sort().join('\n');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function without(set: ReadonlySet<string>, removed: readonly string[]): Set<string> {
  return new Set([...set].filter((name) => !removed.includes(name)));
}

function reportUnguarded(graph: Graph, loop: ReadonlySet<string>, faults: FaultList): void {
  const start = graph.order.find((name) => loop.has(name)) as string;
  const cycle = shortestCycle(graph, start, loop);
  const state = graph.states.get(start) as FlowState;
  const firstStep = cycle[1];
  const index = state.transitions.findIndex((transition) => transition.next === firstStep);
  const property = `transitions[${index}].next`;
  const paced = cycle.some((name) => widgetSpec(graph.states.get(name)?.type ?? '')?.waitsOnContact);

  const what =
    cycle.length === 2
      ? `loops straight back to this state on "${state.transitions[index].event}" with no counter`
      : `starts a loop that no counter bounds (${cycle.join(' -> ')})`;
  if (paced) {
    faults.warning(start, property, `${what}; each pass waits on the contact, but ${LIMIT_NOTE}: ${FIX_NOTE}`);
  } else {
    faults.warning(start, property, `${what}: ${LIMIT_NOTE}; ${FIX_NOTE}`);
  }
}

function reportLoopBound(graph: Graph, guard: GuardUse, faults: FaultList): void {
  const state = graph.states.get(guard.split) as FlowState;
  const bound = loopBound(state, guard.counter, guard.loop);
  if (bound === null) return;
  if (bound.runs >= STUDIO_WIDGET_RUN_LIMIT) {
    faults.warning(
      guard.split,
      bound.property,
      `lets the loop run ${bound.runs} times on flow.variables.${guard.counter}; ${LIMIT_NOTE}, so leave the loop well before that`,
    );
  } else if (bound.runs >= STUDIO_WIDGET_RUN_LIMIT - 2) {
    faults.warning(
      guard.split,
      bound.property,
      `lets the loop run ${bound.runs} times on flow.variables.${guard.counter}, close to Studio's limit of ${STUDIO_WIDGET_RUN_LIMIT} runs of one widget`,
    );
  }
}
