/** The transition graph of a flow: successors, strongly connected parts, shortest cycles. */
import type { FlowState } from '../flow-model';

export interface Graph {
  states: Map<string, FlowState>;
  /** State names in the order of the definition, so results do not depend on map order. */
  order: string[];
}

export function buildGraph(states: readonly FlowState[]): Graph {
  return { states: new Map(states.map((state) => [state.name, state])), order: states.map((state) => state.name) };
}

export function successors(graph: Graph, name: string, within: ReadonlySet<string>): string[] {
  const state = graph.states.get(name);
  return (state?.transitions ?? [])
    .map((transition) => transition.next)
    .filter((next): next is string => next !== undefined && within.has(next));
}

/** Strongly connected components (Tarjan) of the states in `within`. */
export function components(graph: Graph, within: ReadonlySet<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  let counter = 0;

  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of successors(graph, node, within)) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      result.push(component);
    }
  };

  for (const node of graph.order) if (within.has(node) && !index.has(node)) visit(node);
  return result;
}

export function isLoop(graph: Graph, component: string[]): boolean {
  if (component.length > 1) return true;
  const [only] = component;
  return successors(graph, only, new Set(component)).includes(only);
}

/** [start, ..., start]: the shortest way round the loop from `start` (breadth first). */
export function shortestCycle(graph: Graph, start: string, loop: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of successors(graph, node, loop)) {
      if (next === start) {
        const path: string[] = [];
        for (let at = node; at !== start; at = previous.get(at) as string) path.unshift(at);
        return [start, ...path, start];
      }
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}
