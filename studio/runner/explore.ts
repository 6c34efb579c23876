/**
 * npm run flows:explore -- FLOW.json [--subflow [FW…=]FILE]... [--http FILE] [--runs N] [--json]
 *
 * Drives every reachable transition of a flow it can with generated inputs: it runs the flow
 * again and again, each time giving each widget that waits on someone its next option (every
 * value the flow's splits compare its answer with, one that matches nothing, silence, each of
 * its outcome events), each external HTTP request its next answer (200 {}, bodies that satisfy
 * the splits on `parsed`, 500) and each trigger the flow handles in turn, until every transition
 * was taken or new runs stop finding new ones. Then it reports widget and transition coverage,
 * dead branches (transitions no run took, widgets nothing leads to), runtime Liquid errors and
 * the executions Studio would cut off (a widget about to run a 10th time, 1000 steps).
 *
 * Exit 0 when no run met a Liquid error, a Studio cut-off or another run error; 1 otherwise; 2 on
 * bad usage. Coverage of the flow's own widgets (a subflow's are run but not counted).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FlowDefinition } from '../flow-model';
import { ExploringContact, hintedTrigger, inputHints, type InputHints } from './contact';
import { defaultTrigger, handledTriggers, readFlowFile, readSubflows, usesTheService } from './flow-inputs';
import { HttpFixtures, readHttpFixtures, type HttpFixture } from './http-fixtures';
import type { LocalService } from './local-service';
import { BadCommand, runCommand, startStack } from './cli-setup';
import { describeEnd } from './flow-end';
import { runFlow } from './run-flow';
import type { FlowRun } from './types';

export interface TransitionRef {
  widget: string;
  event: string;
  index: number;
  next?: string;
}

export interface ExploreReport {
  runs: number;
  widgets: { reachable: number; covered: number; notCovered: string[]; unreachable: string[] };
  transitions: { reachable: number; covered: number; notCovered: TransitionRef[] };
  liquidErrors: Array<{ widget: string; message: string }>;
  cutOffs: Array<{ widget: string; end: string }>;
  runErrors: Array<{ widget: string; message: string }>;
  ends: Record<string, number>;
}

const key = (t: { widget: string; index: number }) => `${t.widget}#${t.index}`;

/** Widgets reachable from the trigger, and every transition out of them. */
export function reachability(definition: FlowDefinition): { reachable: Set<string>; transitions: TransitionRef[] } {
  const reachable = new Set<string>([definition.initial_state]);
  const queue = [definition.initial_state];
  const transitions: TransitionRef[] = [];
  while (queue.length > 0) {
    const name = queue.shift();
    const state = definition.states.find((s) => s.name === name);
    if (!state) continue;
    state.transitions.forEach((transition, index) => {
      // The Trigger's events without a widget are triggers the flow does not handle, not branches.
      if (state.type === 'trigger' && !transition.next) return;
      transitions.push({
        widget: state.name,
        event: transition.event,
        index,
        ...(transition.next ? { next: transition.next } : {}),
      });
      if (
        transition.next &&
        !reachable.has(transition.next) &&
        definition.states.some((s) => s.name === transition.next)
      ) {
        reachable.add(transition.next);
        queue.push(transition.next);
      }
    });
  }
  return { reachable, transitions };
}

function setPath(target: Record<string, unknown>, keys: string[], value: string): void {
  let here = target;
  keys.slice(0, -1).forEach((k) => {
    here[k] = typeof here[k] === 'object' && here[k] !== null ? here[k] : {};
    here = here[k] as Record<string, unknown>;
  });
  here[keys.at(-1)!] = value;
}

/** Answers an external request gets in turn: 200 {}, a body per split on `parsed`, 500. */
function httpOptions(widget: string, hints: InputHints): Array<{ status: number; body: unknown }> {
  const bare = widget.slice(widget.lastIndexOf('/') + 1);
  const bodies = (hints.get(bare)?.parsed ?? []).map(({ path: keys, value }) => {
    const body: Record<string, unknown> = {};
    setPath(body, keys, value);
    return { status: 200, body };
  });
  return [{ status: 200, body: {} }, ...bodies, { status: 500, body: { message: 'generated failure' } }];
}

/** The HTTP answers an external request gets: each widget's options in turn. */
function httpChooser(
  hints: InputHints,
): (request: { widget: string }) => { status: number; body: unknown } | undefined {
  const httpTurn = new Map<string, number>();
  return ({ widget }) => {
    const choices = httpOptions(widget, hints);
    const turn = httpTurn.get(widget) ?? 0;
    httpTurn.set(widget, turn + 1);
    return choices[turn % choices.length];
  };
}

/** What the runs so far covered and met, kept as the report grows. */
class ExploreTally {
  readonly report: ExploreReport;
  private readonly reachable: Set<string>;
  private readonly transitions: TransitionRef[];
  private readonly all: Set<string>;
  private readonly covered = new Set<string>();
  private readonly ran = new Set<string>();

  constructor(definition: FlowDefinition) {
    const { reachable, transitions } = reachability(definition);
    this.reachable = reachable;
    this.transitions = transitions;
    this.all = new Set(transitions.map(key));
    this.report = {
      runs: 0,
      widgets: {
        reachable: reachable.size,
        covered: 0,
        notCovered: [],
        unreachable: definition.states.map((s) => s.name).filter((n) => !reachable.has(n)),
      },
      transitions: { reachable: this.all.size, covered: 0, notCovered: [] },
      liquidErrors: [],
      cutOffs: [],
      runErrors: [],
      ends: {},
    };
  }

  /** Every reachable transition was taken. */
  get complete(): boolean {
    return this.covered.size >= this.all.size;
  }

  /** Adds a run; true when it ran a widget or took a transition no run before it did. */
  add(run: FlowRun): boolean {
    const { report } = this;
    report.runs += 1;
    const before = this.covered.size + this.ran.size;
    for (const name of run.path) if (!name.includes('/')) this.ran.add(name);
    for (const step of run.taken ?? []) if (!step.widget.includes('/') && step.index >= 0) this.covered.add(key(step));
    const foundNew = this.covered.size + this.ran.size > before;
    report.ends[run.end.kind] = (report.ends[run.end.kind] ?? 0) + 1;
    const end = run.end;
    if (end.kind === 'error') {
      if (/Liquid error/.test(end.message)) note(report.liquidErrors, { widget: end.widget, message: end.message });
      else note(report.runErrors, { widget: end.widget, message: end.message });
    }
    if (end.kind === 'widget-limit' || end.kind === 'step-limit')
      note(report.cutOffs, { widget: end.widget, end: describeEnd(end) });
    for (const entry of run.timeline) {
      const liquid = /the subflow failed in (\S+): (Liquid error.*?)(?: ⇒|$)/.exec(entry.text);
      if (liquid) note(report.liquidErrors, { widget: liquid[1]!, message: liquid[2]! });
    }
    return foundNew;
  }

  finish(): ExploreReport {
    const { report, reachable, ran, covered } = this;
    report.widgets.covered = [...reachable].filter((n) => ran.has(n)).length;
    report.widgets.notCovered = [...reachable].filter((n) => !ran.has(n));
    report.transitions.covered = covered.size;
    report.transitions.notCovered = this.transitions.filter((t) => !covered.has(key(t)));
    return report;
  }
}

/** Adds `item` to `list` unless an equal one is there. */
function note(list: Array<{ widget: string }>, item: { widget: string } & Record<string, string>): void {
  if (!list.some((x) => JSON.stringify(x) === JSON.stringify(item))) list.push(item);
}

export async function explore(
  definition: FlowDefinition,
  options: {
    subflows?: Record<string, FlowDefinition>;
    fixtures?: HttpFixture[];
    maxRuns?: number;
    patience?: number;
    baseUrl?: string;
    emulatorUrl?: string;
  } = {},
): Promise<ExploreReport> {
  const subflows = options.subflows ?? {};
  const hints = inputHints([definition, ...Object.values(subflows)]);
  const contact = new ExploringContact(hints);
  const fixtures = new HttpFixtures(options.fixtures ?? [], true, httpChooser(hints));
  const triggers = handledTriggers(definition);
  const tally = new ExploreTally(definition);
  const maxRuns = options.maxRuns ?? 200;
  const patience = options.patience ?? 25;
  let sinceNew = 0;
  // First each widget's options in turn, until nothing new turns up; then stubborn callers (the
  // same option every time: the loops that Studio would cut off).
  let stubborn = 0;
  for (let index = 0; index < maxRuns; index++) {
    if (sinceNew >= patience || tally.complete) {
      if (stubborn >= Math.min(contact.widest, 8)) break;
      contact.fixed = stubborn++;
    }
    const kind = triggers.length > 0 ? triggers[index % triggers.length]! : 'call';
    const run: FlowRun = await runFlow({
      definition,
      baseUrl: options.baseUrl ?? 'http://127.0.0.1:9',
      emulatorUrl: options.emulatorUrl,
      trigger: hintedTrigger(defaultTrigger(kind), hints, Math.floor(index / Math.max(1, triggers.length))),
      contact,
      http: fixtures.fresh(),
      subflows,
      missingSubflow: 'complete',
      timeScale: 0.001,
      maxRunMs: 30_000,
    });
    const foundNew = tally.add(run);
    if (contact.fixed === undefined) sinceNew = foundNew ? 0 : sinceNew + 1;
  }
  return tally.finish();
}

const percent = (part: number, whole: number) => (whole === 0 ? '100%' : `${Math.round((part / whole) * 100)}%`);

export function formatExplore(file: string, report: ExploreReport): string {
  const lines = [
    `Explored ${file} in ${report.runs} runs (ends: ${Object.entries(report.ends)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
  ];
  lines.push(
    `Widgets:     ${report.widgets.covered}/${report.widgets.reachable} reachable widgets ran (${percent(report.widgets.covered, report.widgets.reachable)})`,
  );
  lines.push(
    `Transitions: ${report.transitions.covered}/${report.transitions.reachable} transitions taken (${percent(report.transitions.covered, report.transitions.reachable)})`,
  );
  if (report.widgets.unreachable.length)
    lines.push(`Unreachable widgets (nothing leads to them): ${report.widgets.unreachable.join(', ')}`);
  if (report.widgets.notCovered.length)
    lines.push(`Reachable widgets no run reached: ${report.widgets.notCovered.join(', ')}`);
  if (report.transitions.notCovered.length) {
    lines.push('Dead branches (transitions no run took):');
    for (const t of report.transitions.notCovered)
      lines.push(`  ${t.widget} —${t.event}${t.event === 'match' ? `#${t.index}` : ''}→ ${t.next ?? '(end)'}`);
  }
  lines.push(report.liquidErrors.length ? 'Runtime Liquid errors:' : 'Runtime Liquid errors: none');
  for (const e of report.liquidErrors) lines.push(`  ${e.widget}: ${e.message}`);
  lines.push(report.cutOffs.length ? 'Executions Studio would cut off:' : 'Executions Studio would cut off: none');
  for (const c of report.cutOffs) lines.push(`  ${c.end}`);
  if (report.runErrors.length) {
    lines.push('Runs that failed:');
    for (const e of report.runErrors) lines.push(`  ${e.widget}: ${e.message}`);
  }
  return lines.join('\n');
}

const USAGE = 'usage: npm run flows:explore -- FLOW.json [--subflow [FW…=]FILE]... [--http FILE] [--runs N] [--json]';

/** What the command line asks for, checked and read. */
interface ExploreCommand {
  file: string;
  json: boolean;
  definition: FlowDefinition;
  subflows: Record<string, FlowDefinition>;
  fixtures: HttpFixture[];
  maxRuns?: number;
}

async function main(argv: string[]): Promise<number> {
  const command = readCommandLine(argv);
  const { file, definition, subflows } = command;
  let stack: LocalService | undefined;
  if (usesTheService([definition, ...Object.values(subflows)])) {
    if (!command.json) console.log("(the flow calls this project's service: starting a local stack…)");
    stack = await startStack({ forkProcess: false });
  }
  try {
    const report = await explore(definition, {
      subflows,
      fixtures: command.fixtures,
      maxRuns: command.maxRuns,
      baseUrl: stack?.baseUrl,
      emulatorUrl: stack?.emulatorUrl,
    });
    console.log(command.json ? JSON.stringify(report) : formatExplore(file, report));
    return report.liquidErrors.length + report.cutOffs.length + report.runErrors.length === 0 ? 0 : 1;
  } finally {
    await stack?.stop();
  }
}

function readCommandLine(argv: string[]): ExploreCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        subflow: { type: 'string', multiple: true },
        http: { type: 'string' },
        runs: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new BadCommand(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new BadCommand(USAGE);
  const file = positionals[0]!;
  let inputs: Pick<ExploreCommand, 'definition' | 'subflows' | 'fixtures'>;
  try {
    inputs = {
      definition: readFlowFile(path.resolve(process.cwd(), file)),
      subflows: readSubflows(values.subflow ?? []),
      fixtures: values.http ? readHttpFixtures(path.resolve(process.cwd(), values.http)) : [],
    };
  } catch (error) {
    throw new BadCommand((error as Error).message, 1);
  }
  const maxRuns = values.runs !== undefined ? Number(values.runs) : undefined;
  if (maxRuns !== undefined && !(maxRuns >= 1))
    throw new BadCommand(`--runs: "${values.runs}" is not a positive number`);
  return { file, json: values.json ?? false, ...inputs, maxRuns };
}

if (require.main === module) runCommand('flows:explore', main);
