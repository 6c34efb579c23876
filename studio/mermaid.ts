/**
 * A Mermaid flowchart of a Studio Flow: one node per state (shaped by what it does), one edge per
 * target with the events that lead there, and an end node for events that end the execution.
 */
import path from 'node:path';
import type { FlowDefinition, FlowState, Transition } from './flow-model';
import { flowFileForPlaceholder } from './project-subflows';

const SERVICE_BASE = 'https://__SERVICE_DOMAIN__';
const END_NODE = 'flow_end';

const CONDITION_WORDS: Record<string, string> = {
  equal_to: '=',
  not_equal_to: '≠',
  greater_than: '>',
  less_than: '<',
  starts_with: 'starts with',
  contains: 'contains',
  matches_any_of: 'any of',
};

/** Mermaid-safe text for a quoted label. */
function escapeLabel(text: string): string {
  return text.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function nodeIds(states: readonly FlowState[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>([END_NODE]);
  for (const state of states) {
    let id = `s_${state.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    while (used.has(id)) id = `${id}_`;
    used.add(id);
    ids.set(state.name, id);
  }
  return ids;
}

/** What the node says under the state's name: the function or project subflow it calls, or its widget type. */
function detail(state: FlowState): string {
  const subflow =
    state.type === 'run-subflow' ? flowFileForPlaceholder(String(state.properties.flow_sid ?? '')) : undefined;
  if (subflow) return `${state.type} ${path.basename(subflow)}`;
  const url = state.properties.url;
  if (typeof url === 'string' && url.startsWith(SERVICE_BASE)) {
    return `${state.type} ${url.slice(SERVICE_BASE.length).split('?')[0]}`;
  }
  return state.type;
}

function node(id: string, state: FlowState): string {
  const label = `"${escapeLabel(state.name)}<br/>${escapeLabel(detail(state))}"`;
  switch (state.type) {
    case 'trigger':
      return `  ${id}([${label}])`;
    case 'split-based-on':
      return `  ${id}{${label}}`;
    case 'set-variables':
      return `  ${id}[/${label}/]`;
    case 'run-function':
    case 'make-http-request':
    case 'run-subflow':
      return `  ${id}[[${label}]]`;
    default:
      return `  ${id}[${label}]`;
  }
}

/** `{{widgets.start_job.parsed.status}}` -> `status`: what a split condition compares. */
function subject(argument: string | undefined): string {
  const path = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(argument ?? '');
  return path ? `${path[1].split('.').pop()} ` : '';
}

function transitionLabel(transition: Transition): string {
  if (transition.event === 'noMatch') return 'no match';
  if (transition.event !== 'match') return transition.event;
  return (transition.conditions ?? [])
    .map((c) => `${subject(c.arguments?.[0])}${CONDITION_WORDS[c.type] ?? c.type} ${c.value}`)
    .join(' and ');
}

export function flowToMermaid(definition: FlowDefinition): string {
  const ids = nodeIds(definition.states);
  const lines = ['flowchart TD'];
  for (const state of definition.states) lines.push(node(ids.get(state.name) as string, state));

  let ends = false;
  for (const state of definition.states) {
    // One edge per target, listing every event that leads there.
    const byTarget = new Map<string, string[]>();
    for (const transition of state.transitions) {
      if (transition.next === undefined && state.type === 'trigger') continue;
      const target = transition.next === undefined ? END_NODE : ids.get(transition.next);
      if (target === undefined) continue;
      if (target === END_NODE) ends = true;
      byTarget.set(target, [...(byTarget.get(target) ?? []), transitionLabel(transition)]);
    }
    for (const [target, labels] of byTarget) {
      const arrow = target === END_NODE ? '-.->' : '-->';
      lines.push(`  ${ids.get(state.name)} ${arrow}|"${escapeLabel(labels.join(' / '))}"| ${target}`);
    }
  }
  if (ends) lines.push(`  ${END_NODE}(("end"))`);
  return `${lines.join('\n')}\n`;
}
