/** Text a person can read: the timeline as it happens, and a summary of a finished run. */
import type { FlowDefinition } from '../flow-model';
import { describeEnd } from './flow-end';
import { abbreviateSids } from './service-urls';
import type { FlowRun, HeardAudio, TimelineEntry } from './types';

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Width of the widget column: the longest state name of the flow. */
export function widgetColumnWidth(definition: FlowDefinition, subflows: Record<string, FlowDefinition> = {}): number {
  const names = definition.states.flatMap((state) => {
    const subflow =
      state.type === 'run-subflow' ? (subflows[String(state.properties.flow_sid ?? '')] ?? subflows['*']) : undefined;
    return [state.name, ...(subflow?.states ?? []).map((inner) => `${state.name}/${inner.name}`)];
  });
  return Math.max(8, ...names.map((name) => name.length));
}

/** One timeline line: `  12.3s  hold               joins room ...`. */
export function formatEntry(entry: TimelineEntry, width: number): string {
  const indent = entry.depth === 1 ? '  ' : '';
  return `${seconds(entry.atMs).padStart(8)}  ${entry.widget.padEnd(width)}  ${indent}${abbreviateSids(entry.text)}`;
}

function describeHeard(audio: HeardAudio): string {
  const what =
    audio.kind === 'say'
      ? `"${audio.content}"`
      : audio.kind === 'pause'
        ? 'silence'
        : abbreviateSids(audio.content.replace(/^https?:\/\/[^/]+/, ''));
  const length =
    audio.heardSeconds < audio.fullSeconds
      ? `${audio.heardSeconds.toFixed(1)} of ${audio.fullSeconds.toFixed(1)} s (${audio.cutShortBy ?? 'cut short'})`
      : `${audio.fullSeconds.toFixed(1)} s`;
  return `${audio.kind.padEnd(5)} ${what}  [${length}]`;
}

export function formatHeader(run: Pick<FlowRun, 'flowSid' | 'executionSid' | 'callSid'>, title: string): string {
  const who = run.callSid ? `call ${run.callSid}` : 'message';
  return `${title}\n${who}, flow ${run.flowSid}, execution ${run.executionSid}`;
}

/** The end of a run: what the caller heard, messages, variables and where the flow ended. */
export function formatSummary(run: FlowRun): string {
  const lines: string[] = [''];
  if (run.heard.length > 0) {
    lines.push('What the caller heard:');
    for (const audio of run.heard) lines.push(`${seconds(audio.atMs).padStart(8)}  ${describeHeard(audio)}`);
  }
  if (run.messages.length > 0) {
    lines.push('Messages sent:');
    for (const message of run.messages)
      lines.push(`${seconds(message.atMs).padStart(8)}  to ${message.to || '(no one)'}: "${message.body}"`);
  }
  if ((run.executions ?? []).length > 1) {
    lines.push('Executions:');
    for (const e of run.executions!) {
      const ended =
        e.endedAtMs !== undefined
          ? `, ${e.status} at ${seconds(e.endedAtMs)}${e.endedBy && e.endedBy !== 'flow-ended' ? ` (${e.endedBy})` : ''}`
          : `, ${e.status}`;
      lines.push(
        `${seconds(e.startedAtMs).padStart(8)}  ${abbreviateSids(e.sid)} ${e.trigger} (${e.startedBy === 'rest' ? 'started through the REST API' : 'inbound'})${ended}`,
      );
    }
  }
  if (run.flexTasks.length > 0) {
    lines.push('Flex tasks:');
    for (const task of run.flexTasks)
      lines.push(`${seconds(task.atMs).padStart(8)}  ${task.workflow} ${task.channel} ${task.attributes}`);
  }
  const variables = Object.entries(run.variables);
  lines.push(
    `Flow variables: ${variables.length === 0 ? '(none)' : variables.map(([key, value]) => `${key}="${value}"`).join(', ')}`,
  );
  lines.push(`Ended: ${describeEnd(run.end)}; ${run.steps} steps in ${seconds(run.durationMs)}`);
  lines.push(`Path: ${run.path.join(' → ')}`);
  return lines.join('\n');
}

/** The whole run as text (for a finished run; the CLI prints entries live instead). */
export function formatRun(run: FlowRun, definition: FlowDefinition, title = 'Flow run'): string {
  const width = widgetColumnWidth(definition);
  return [formatHeader(run, title), ...run.timeline.map((entry) => formatEntry(entry, width)), formatSummary(run)].join(
    '\n',
  );
}
