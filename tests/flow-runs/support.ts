/** Helpers for running flows through the runner against a local service in tests. */
import { widgetOutputs } from '../../studio/runner/run-json';
import fs from 'node:fs';
import path from 'node:path';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../../studio/flow-model';
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

/** Adds the run's timeline to an assertion failure, so a failing scenario explains itself. */
export function explain<T>(scenario: ScenarioRun, check: () => T): T {
  try {
    return check();
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
