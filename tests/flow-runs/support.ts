/** Helpers for running flows through the runner in tests, and for writing the small flows they run. */
import { widgetOutputs } from '../../studio/runner/run-json';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { flowWith, type FlowDefinition, type FlowState, type KeyValue, type Transition } from '../../studio/flow-model';
import { formatRun, runFlow, type FlowRun, type FlowTrigger } from '../../studio/runner';
import { findScenario, withStartParameters } from '../../studio/runner/scenarios';
import type { LocalService } from '../../studio/runner/local-service';
import { PROJECT_ROOT } from '../../dev/paths';

export function loadFlowFile(file: string): FlowDefinition {
  return JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8')) as FlowDefinition;
}

export interface ScenarioRun {
  name: string;
  definition: FlowDefinition;
  run: FlowRun;
  /** The job the flow started (from widgets.start_job.parsed.jobId). */
  jobId: string | undefined;
  /** The whole timeline as text, shown when an assertion fails. */
  text: string;
}

/** The job the run started: widgets.start_job.parsed.jobId, in the flow or in its subflow (`RUN_SUBFLOW/start_job`). */
export function startedJob(run: FlowRun): string | undefined {
  return (widgetOutputs(run, 'start_job')?.parsed as { jobId?: string } | undefined)?.jobId;
}

/** Runs a named scenario (its flow, parameters and caller behaviour) against `service`; Twilio plays `behaviour` (default documented). */
export async function runScenario(
  service: LocalService,
  name: string,
  maxRunMs = 80_000,
  behaviour?: TwilioBehaviour,
): Promise<ScenarioRun> {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  const definition = withStartParameters(loadFlowFile(scenario.flowFile), scenario.startParameters);
  const run = await runFlow({
    definition,
    baseUrl: service.baseUrl,
    emulatorUrl: service.emulatorUrl,
    trigger: scenario.trigger,
    hangUpAfterMs: scenario.hangUpAfterMs,
    hangUpInRoomAfterMs: scenario.hangUpInRoomAfterMs,
    joinDelayMs: scenario.joinDelayMs,
    fallbackUrl: scenario.fallbackUrl,
    maxRunMs,
    behaviour,
  });
  return { name, definition, run, jobId: startedJob(run), text: formatRun(run, definition, `scenario ${name}`) };
}

/** Runs a definition as it is against `service` (its project subflows found by placeholder, unless `subflows` names others). */
export async function runDefinition(
  service: LocalService,
  name: string,
  definition: FlowDefinition,
  trigger: FlowTrigger,
  subflows?: Record<string, FlowDefinition>,
): Promise<ScenarioRun> {
  const run = await runFlow({
    definition,
    baseUrl: service.baseUrl,
    emulatorUrl: service.emulatorUrl,
    trigger,
    maxRunMs: 80_000,
    subflows,
  });
  return { name, definition, run, jobId: startedJob(run), text: formatRun(run, definition, name) };
}

/** Runs a flow file exactly as shipped against `service`. */
export function runFlowFile(service: LocalService, file: string, trigger: FlowTrigger): Promise<ScenarioRun> {
  return runDefinition(service, file, loadFlowFile(file), trigger);
}

/** Everything said to the caller, in order. */
export const said = (run: FlowRun) => run.heard.filter((audio) => audio.kind === 'say').map((audio) => audio.content);
export const played = (run: FlowRun) => run.heard.filter((audio) => audio.kind === 'play');
export const runsOf = (run: FlowRun, widget: string) => run.path.filter((name) => name === widget).length;
export const timelineText = (run: FlowRun, pattern: RegExp) => run.timeline.filter((entry) => pattern.test(entry.text));

/** Adds the run's timeline to an assertion failure, so a failing scenario explains itself; `check` gets the run. */
export function explain<T>(scenario: ScenarioRun, check: (run: FlowRun, scenario: ScenarioRun) => T): T {
  try {
    return check(scenario.run, scenario);
  } catch (error) {
    if (error instanceof Error) error.message += `\n\n${scenario.text}`;
    throw error;
  }
}

/** Conferences of a room that are not completed, as the emulator's REST API lists them. */
export async function openRooms(emulatorUrl: string, friendlyName: string): Promise<string[]> {
  // From the emulator's own state: a room waiting to start may not be listable (Status=init, V12).
  const state = (await (await fetch(`${emulatorUrl}/_emulator/state`)).json()) as {
    conferences: Array<{ sid: string; friendlyName: string; status: string }>;
  };
  return state.conferences
    .filter((conference) => conference.friendlyName === friendlyName && conference.status !== 'completed')
    .map((conference) => conference.sid);
}

export async function jobStatus(
  service: LocalService,
  jobId: string,
): Promise<{ status: string; error?: { code: string } }> {
  const response = await fetch(`${service.baseUrl}/jobs/status?jobId=${jobId}`);
  return (await response.json()) as { status: string; error?: { code: string } };
}

/** A state as the tests write it: offset (0, 0) and no transitions unless it says otherwise. */
export interface StateSpec {
  name: string;
  type: string;
  transitions?: Transition[];
  properties?: Record<string, unknown>;
}

const ORIGIN = { x: 0, y: 0 };

/** The state `spec` describes, its offset and transitions filled in. */
export function stateOf(spec: StateSpec): FlowState {
  return { transitions: [], ...spec, properties: { offset: ORIGIN, ...spec.properties } };
}

/** A flow whose Trigger sends each of `events` to `first`, followed by `states`. */
export function smallFlow(description: string, events: string[], first: string, states: StateSpec[]): FlowDefinition {
  return flowWith(
    description,
    events.map((event) => ({ event, next: first })),
    states.map(stateOf),
  );
}

/** One transition per event, each going where `next` says (the end where it says nothing). */
function eventsTo<E extends string>(events: E[], next: Partial<Record<E, string>>): Transition[] {
  return events.map((event) => ({ event, next: next[event] }));
}

/** A Say of `text`; `audioComplete` goes to `next` (default: the end). */
export const sayState = (name: string, text: string, next?: string): FlowState =>
  stateOf({ name, type: 'say-play', transitions: [{ event: 'audioComplete', next }], properties: { say: text } });

/** A Send Message of `body` from the flow's address to the contact; both its events end the execution. */
export const sendState = (name: string, body: string): FlowState =>
  stateOf({
    name,
    type: 'send-message',
    transitions: [{ event: 'sent' }, { event: 'failed' }],
    properties: { from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', body },
  });

/** A Run Function of `url` with `parameters`; `success` and `fail` go where `next` says (default: the end). */
export const functionState = (
  name: string,
  url: string,
  parameters: KeyValue[] = [],
  next: Partial<Record<'success' | 'fail', string>> = {},
): FlowState =>
  stateOf({
    name,
    type: 'run-function',
    transitions: eventsTo(['success', 'fail'], next),
    properties: { url, parameters },
  });

/** A TwiML Redirect (`properties`: url, timeout, method); `return`, `timeout` and `fail` go where `next` says. */
export const redirectState = (
  name: string,
  properties: Record<string, unknown>,
  next: Partial<Record<'return' | 'timeout' | 'fail', string>> = {},
): FlowState =>
  stateOf({
    name,
    type: 'add-twiml-redirect',
    transitions: eventsTo(['return', 'timeout', 'fail'], next),
    properties,
  });

/** A Gather named `menu` of one digit, saying `prompt`; its events go where `next` says. */
export const menuState = (
  prompt: string,
  next: Partial<Record<'keypress' | 'speech' | 'timeout', string>>,
): FlowState =>
  stateOf({
    name: 'menu',
    type: 'gather-input-on-call',
    transitions: eventsTo(['keypress', 'speech', 'timeout'], next),
    properties: { say: prompt, number_of_digits: 1 },
  });

/** A Split named `route` on the menu's digit: 1 goes to `one`, 2 to `two`, anything else back to the menu. */
export const menuRoute = (one: string, two: string): FlowState =>
  stateOf({
    name: 'route',
    type: 'split-based-on',
    transitions: [
      { event: 'noMatch', next: 'menu' },
      ...[one, two].map((next, i) => {
        const digit = String(i + 1);
        return {
          event: 'match',
          next,
          conditions: [
            { friendly_name: digit, arguments: ['{{widgets.menu.Digits}}'], type: 'equal_to', value: digit },
          ],
        };
      }),
    ],
    properties: { input: '{{widgets.menu.Digits}}' },
  });

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's scripts (`script`, from the project root) with tsx as a child process;
 * asynchronously, as an emulator or fake service may run in this process. Never rejects.
 */
export function runScript(
  script: string,
  args: string[],
  options: { cwd?: string; timeout?: number } = {},
): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), path.join(PROJECT_ROOT, script), ...args],
      { cwd: PROJECT_ROOT, timeout: 60_000, ...options, encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
