/**
 * Scenario files: a user's own tests of their flow, kept next to it (`NAME.scenarios.json`). One
 * file names a flow (and its subflows and HTTP fixtures) and lists scenarios; each says what the
 * caller or contact does (`steps`, contact.ts ContactStep) and what must happen (`expect`). The
 * format is documented in studio/runner/README.md ("Testing your own flow").
 *
 *   {
 *     "flow": "ivr.json",
 *     "subflows": { "FW…": "opening-hours.json" },
 *     "http": [ { "url": "https://crm.example.com/*", "body": { "name": "Ada" } } ],
 *     "scenarios": [
 *       { "name": "sales", "steps": [ { "widget": "menu", "press": "1" } ],
 *         "expect": { "end": "completed", "visits": ["menu", "sales"], "heard": ["Welcome"] } }
 *     ]
 *   }
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../flow-model';
import { AutoContact, inputHints, ScriptedContact, type Contact, type ContactStep } from './contact';
import { autoTrigger, chooseTrigger, readFlowFile } from './flow-inputs';
import { describeEnd } from './flow-end';
import { runFlow } from './run-flow';
import { HttpFixtures, parseHttpFixtures, readHttpFixtures, type HttpFixture } from './http-fixtures';
import { withStartParameters } from './scenarios';
import type { FlowEnd, FlowRun, FlowTrigger } from './types';

export class ScenarioFileError extends Error {}

export interface ScenarioExpect {
  /** How the run ends: a kind (`completed`, `caller-hung-up`, `call-ended`, ...) or `{kind?, widget?, event?}`. */
  end?: string | { kind?: FlowEnd['kind']; widget?: string; event?: string };
  /** The exact path (widget names in order, the Trigger included). */
  path?: string[];
  /** These widgets run in this order (others may run between them). */
  visits?: string[];
  /** These widgets never run. */
  notVisited?: string[];
  /** What the caller hears, in order: each a part of a Say's text (or of a played file's URL). */
  heard?: string[];
  /** Flow variables at the end (exact values). */
  variables?: Record<string, string>;
  /** Widget outputs at the end: `"menu.Digits": "1"`, `"lookup.parsed.name": "Ada"`. */
  widgets?: Record<string, string>;
  /** Texts sent, in order: a part of the body, or `{to?, body?}` (parts). */
  messages?: Array<string | { to?: string; body?: string }>;
  /** How many Flex tasks were created. */
  flexTasks?: number;
}

export interface ScenarioSpec {
  name: string;
  /** The trigger (default: what the flow handles, a call first). */
  trigger?: FlowTrigger;
  /** What the caller / contact does, in order (contact.ts). */
  steps?: ContactStep[];
  /** `true`: a generated contact (as --auto) instead of steps. */
  auto?: boolean;
  /** More HTTP fixtures, tried before the file's. */
  http?: HttpFixture[];
  /** Parameters added to the flow's /jobs/start widgets (this project's hold: simulateSeconds, ...). */
  startParameters?: Record<string, string>;
  /** The caller hangs up this many seconds into the call. */
  hangUpAfterSeconds?: number;
  timeScale?: number;
  expect?: ScenarioExpect;
}

export interface ScenarioFile {
  file: string;
  flowFile: string;
  definition: FlowDefinition;
  subflows: Record<string, FlowDefinition>;
  http: HttpFixture[];
  serviceDomain?: string;
  timeScale?: number;
  scenarios: ScenarioSpec[];
}

const STEP_KEYS = new Set([
  'widget',
  'press',
  'say',
  'reply',
  'silent',
  'event',
  'dial',
  'seconds',
  'outputs',
  'hangUp',
]);
const EXPECT_KEYS = new Set([
  'end',
  'path',
  'visits',
  'notVisited',
  'heard',
  'variables',
  'widgets',
  'messages',
  'flexTasks',
]);
const SCENARIO_KEYS = new Set([
  'name',
  'trigger',
  'steps',
  'auto',
  'http',
  'startParameters',
  'hangUpAfterSeconds',
  'timeScale',
  'expect',
  'description',
]);

/** Reads and checks a scenario file; paths in it are relative to the file. Throws ScenarioFileError. */
export function readScenarioFile(file: string): ScenarioFile {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ScenarioFileError(`${file}: ${(error as Error).message}`);
  }
  const dir = path.dirname(file);
  const fail = (message: string): never => {
    throw new ScenarioFileError(`${file}: ${message}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('expected an object {flow, scenarios}');
  const flowName = typeof raw.flow === 'string' ? raw.flow : path.basename(file).replace(/\.scenarios\.json$/, '.json');
  const flowFile = path.resolve(dir, flowName);
  let definition: FlowDefinition;
  try {
    definition = readFlowFile(flowFile);
  } catch (error) {
    return fail(`"flow": ${(error as Error).message}`);
  }
  const subflows: Record<string, FlowDefinition> = {};
  if (raw.subflows !== undefined) {
    if (typeof raw.subflows !== 'object' || raw.subflows === null)
      fail('"subflows" must map Flow SIDs (or "*") to files');
    for (const [sid, name] of Object.entries(raw.subflows as Record<string, unknown>)) {
      if (typeof name !== 'string') fail(`"subflows"."${sid}" must be a file name`);
      try {
        subflows[sid] = readFlowFile(path.resolve(dir, name as string));
      } catch (error) {
        fail(`"subflows"."${sid}": ${(error as Error).message}`);
      }
    }
  }
  let http: HttpFixture[] = [];
  try {
    if (typeof raw.http === 'string') http = readHttpFixtures(path.resolve(dir, raw.http));
    else if (raw.http !== undefined) http = parseHttpFixtures(raw.http, `${file} "http"`);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!Array.isArray(raw.scenarios) || raw.scenarios.length === 0) fail('"scenarios" must be a non-empty list');
  const scenarios = (raw.scenarios as unknown[]).map((item, index) => checkScenario(item, `scenarios[${index}]`, fail));
  const names = new Set<string>();
  for (const scenario of scenarios) {
    if (names.has(scenario.name)) fail(`two scenarios are named "${scenario.name}"`);
    names.add(scenario.name);
  }
  return {
    file,
    flowFile,
    definition,
    subflows,
    http,
    serviceDomain: typeof raw.serviceDomain === 'string' ? raw.serviceDomain : undefined,
    timeScale: typeof raw.timeScale === 'number' ? raw.timeScale : undefined,
    scenarios,
  };
}

function checkScenario(item: unknown, where: string, fail: (message: string) => never): ScenarioSpec {
  if (typeof item !== 'object' || item === null) fail(`${where}: expected an object {name, steps?, expect?}`);
  const scenario = item as ScenarioSpec & Record<string, unknown>;
  if (typeof scenario.name !== 'string' || scenario.name === '') fail(`${where}: needs a "name"`);
  const at = `scenario "${scenario.name}"`;
  for (const key of Object.keys(scenario))
    if (!SCENARIO_KEYS.has(key)) fail(`${at}: unknown key "${key}" (known: ${[...SCENARIO_KEYS].join(', ')})`);
  if (scenario.steps !== undefined) {
    if (!Array.isArray(scenario.steps)) fail(`${at}: "steps" must be a list`);
    scenario.steps.forEach((step, index) => {
      if (typeof step !== 'object' || step === null) fail(`${at}: steps[${index}] must be an object`);
      for (const key of Object.keys(step))
        if (!STEP_KEYS.has(key))
          fail(`${at}: steps[${index}] has unknown key "${key}" (known: ${[...STEP_KEYS].join(', ')})`);
      if (step.dial !== undefined && !['answered', 'busy', 'no-answer', 'failed'].includes(step.dial))
        fail(`${at}: steps[${index}].dial must be answered, busy, no-answer or failed`);
    });
  }
  if (
    scenario.trigger !== undefined &&
    !['call', 'message', 'conversation', 'request', 'parent'].includes(
      (scenario.trigger as { kind?: string }).kind ?? '',
    )
  ) {
    fail(`${at}: "trigger.kind" must be call, message, conversation, request or parent`);
  }
  if (scenario.http !== undefined) scenario.http = parseHttpFixtures(scenario.http, `${at} "http"`);
  if (scenario.expect !== undefined) {
    if (typeof scenario.expect !== 'object' || scenario.expect === null) fail(`${at}: "expect" must be an object`);
    for (const key of Object.keys(scenario.expect))
      if (!EXPECT_KEYS.has(key))
        fail(`${at}: "expect" has unknown key "${key}" (known: ${[...EXPECT_KEYS].join(', ')})`);
  }
  return scenario;
}

export interface ScenarioOutcome {
  name: string;
  passed: boolean;
  failures: string[];
  run?: FlowRun;
  durationMs: number;
}

export interface ScenarioService {
  baseUrl: string;
  emulatorUrl?: string;
}

/** Runs one scenario of a file and checks what it expects. */
export async function runScenarioSpec(
  file: ScenarioFile,
  scenario: ScenarioSpec,
  service: ScenarioService,
  behaviour?: TwilioBehaviour,
): Promise<ScenarioOutcome> {
  const began = Date.now();
  const definition = scenario.startParameters
    ? withStartParameters(file.definition, scenario.startParameters)
    : file.definition;
  const contact: Contact = scenario.auto
    ? new AutoContact(inputHints([definition, ...Object.values(file.subflows)]))
    : new ScriptedContact(scenario.steps ?? []);
  const run = await runFlow({
    definition,
    baseUrl: service.baseUrl,
    emulatorUrl: service.emulatorUrl,
    serviceDomain: file.serviceDomain,
    trigger: scenario.trigger ?? (scenario.auto ? autoTrigger(definition, file.subflows) : chooseTrigger(definition)),
    contact,
    http: new HttpFixtures([...(scenario.http ?? []), ...file.http], scenario.auto === true),
    subflows: file.subflows,
    missingSubflow: scenario.auto ? 'complete' : 'error',
    hangUpAfterMs: scenario.hangUpAfterSeconds !== undefined ? scenario.hangUpAfterSeconds * 1000 : undefined,
    timeScale: scenario.timeScale ?? file.timeScale ?? 0.05,
    maxRunMs: 120_000,
    behaviour,
  });
  const failures = checkExpectations(run, scenario.expect ?? {});
  for (const step of contact.unused?.() ?? [])
    failures.push(`a step was never used: ${JSON.stringify(step)}${step.widget ? ` (did ${step.widget} run?)` : ''}`);
  return { name: scenario.name, passed: failures.length === 0, failures, run, durationMs: Date.now() - began };
}

function valueAt(value: unknown, dotted: string): unknown {
  let here = value;
  for (const key of dotted.split('.')) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/** What the run did not do that `expect` asks for, one line each (empty: all met). */
export function checkExpectations(run: FlowRun, expect: ScenarioExpect): string[] {
  return [
    ...checkEnd(run, expect),
    ...checkPath(run, expect),
    ...checkHeard(run, expect),
    ...checkValues(run, expect),
    ...checkMessages(run, expect),
  ];
}

/**
 * The first of `wanted` that no item after the previous one's match fits, and the item that
 * previous one matched (undefined for the first); undefined when all are found in order.
 */
function firstMissing<I, W>(
  items: readonly I[],
  wanted: readonly W[],
  fits: (item: I, want: W) => boolean,
): { want: W; after: I | undefined } | undefined {
  let from = 0;
  for (const want of wanted) {
    const at = items.findIndex((item, index) => index >= from && fits(item, want));
    if (at === -1) return { want, after: from > 0 ? items[from - 1] : undefined };
    from = at + 1;
  }
  return undefined;
}

function checkEnd(run: FlowRun, expect: ScenarioExpect): string[] {
  const wanted =
    expect.end === undefined ? { kind: undefined } : typeof expect.end === 'string' ? { kind: expect.end } : expect.end;
  const end = run.end as FlowEnd & { event?: string };
  const endFits =
    (wanted.kind === undefined
      ? ['completed', 'caller-hung-up', 'call-ended'].includes(end.kind)
      : end.kind === wanted.kind) &&
    (!('widget' in wanted) || wanted.widget === undefined || wanted.widget === end.widget) &&
    (!('event' in wanted) || wanted.event === undefined || wanted.event === end.event);
  return endFits
    ? []
    : [`end: expected ${JSON.stringify(expect.end ?? 'a natural end')}, got: ${describeEnd(run.end)}`];
}

/** `path`, `visits` and `notVisited`. */
function checkPath(run: FlowRun, expect: ScenarioExpect): string[] {
  const failures: string[] = [];
  if (expect.path && JSON.stringify(expect.path) !== JSON.stringify(run.path))
    failures.push(`path: expected ${expect.path.join(' → ')}, got ${run.path.join(' → ')}`);
  const missing = firstMissing(run.path, expect.visits ?? [], (name, widget) => name === widget);
  if (missing)
    failures.push(
      `visits: ${missing.want} did not run${missing.after !== undefined ? ` after ${missing.after}` : ''} (path ${run.path.join(' → ')})`,
    );
  for (const widget of expect.notVisited ?? [])
    if (run.path.includes(widget)) failures.push(`notVisited: ${widget} ran`);
  return failures;
}

function checkHeard(run: FlowRun, expect: ScenarioExpect): string[] {
  const heard = run.heard.filter((a) => a.kind !== 'pause');
  const missing = firstMissing(heard, expect.heard ?? [], (audio, part) =>
    audio.content.toLowerCase().includes(part.toLowerCase()),
  );
  if (!missing) return [];
  return [
    `heard: "${missing.want}" was not heard${missing.after ? ` after "${missing.after.content}"` : ''} (heard: ${heard.map((a) => JSON.stringify(a.content)).join(', ') || 'nothing'})`,
  ];
}

/** `variables` and `widgets`: values at the end. */
function checkValues(run: FlowRun, expect: ScenarioExpect): string[] {
  const failures: string[] = [];
  for (const [key, value] of Object.entries(expect.variables ?? {})) {
    if (run.variables[key] !== value)
      failures.push(
        `variables.${key}: expected "${value}", got ${run.variables[key] === undefined ? 'unset' : `"${run.variables[key]}"`}`,
      );
  }
  for (const [key, value] of Object.entries(expect.widgets ?? {})) {
    const got = valueAt(run.widgets, key);
    if (String(got ?? '') !== value)
      failures.push(`widgets.${key}: expected "${value}", got ${got === undefined ? 'unset' : JSON.stringify(got)}`);
  }
  return failures;
}

/** `messages` and `flexTasks`. */
function checkMessages(run: FlowRun, expect: ScenarioExpect): string[] {
  const failures: string[] = [];
  const wanted = (expect.messages ?? []).map((m) => (typeof m === 'string' ? { body: m } : m));
  const missing = firstMissing(
    run.messages,
    wanted,
    (m, want) => (!want.body || m.body.includes(want.body)) && (!want.to || m.to.includes(want.to)),
  );
  if (missing)
    failures.push(
      `messages: no text ${JSON.stringify(missing.want)}${missing.after ? ' after the one before' : ''} (sent: ${run.messages.map((m) => JSON.stringify(`${m.to}: ${m.body}`)).join(', ') || 'none'})`,
    );
  if (expect.flexTasks !== undefined && run.flexTasks.length !== expect.flexTasks)
    failures.push(`flexTasks: expected ${expect.flexTasks}, got ${run.flexTasks.length}`);
  return failures;
}
