/**
 * npm run call -- [flow file] [--scenario NAME] [--base-url URL --emulator-url URL] [--service-domain D] [--list]
 *
 * Places one simulated call (or text) into a flow and prints what happens as it happens, then
 * what the caller heard, the flow variables and where the flow ended.
 *
 * Uses the server `npm start` runs (localhost:3000 + emulator on 3010, or the URLs given) when it
 * answers; otherwise starts its own local stack for the run, with the example backend when the
 * scenario needs one, and stops it afterwards. --service-domain: the deployed domain a filled-in
 * flow names, so its URLs go to the local server too. Exit 0 when the call ran to an end, 1 when it did
 * not (limits, errors), 2 on bad usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FlowDefinition } from '../flow-model';
import { PROJECT_ROOT } from '../project-paths';
import { formatEntry, formatSummary, widgetColumnWidth } from './format-run';
import { DEFAULT_BASE_URL, DEFAULT_EMULATOR_URL, isServiceRunning, runningService, startLocalService, type LocalService } from './local-service';
import { runFlow } from './run-flow';
import { findScenario, SCENARIOS, withStartParameters, type Scenario } from './scenarios';
import type { FlowEnd, FlowTrigger } from './types';

const USAGE = 'usage: npm run call -- [flow file] [--scenario NAME] [--base-url URL --emulator-url URL] [--service-domain D] [--list]';

/** Ends that mean the call ran its course (the flow, the caller or the TwiML ended it). */
export function ranToAnEnd(end: FlowEnd): boolean {
  return end.kind === 'completed' || end.kind === 'caller-hung-up' || end.kind === 'call-ended';
}

function listScenarios(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return ['scenarios:', ...SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`)].join('\n');
}

/**
 * The scenario's trigger, unless the flow only answers the other kind: `npm run call --
 * flows/messaging-poll.json` then sends a text instead of placing a call.
 */
export function triggerFor(definition: FlowDefinition, preferred: FlowTrigger): FlowTrigger {
  const trigger = definition.states.find((state) => state.name === definition.initial_state);
  const answers = (event: string) => Boolean(trigger?.transitions.some((t) => t.event === event && t.next));
  if (preferred.kind === 'call' && !answers('incomingCall') && answers('incomingMessage')) return { kind: 'message', body: 'Hello' };
  if (preferred.kind === 'message' && !answers('incomingMessage') && answers('incomingCall')) return { kind: 'call' };
  return preferred;
}

function readFlow(file: string): FlowDefinition {
  const resolved = path.resolve(process.cwd(), file);
  const fallback = path.resolve(PROJECT_ROOT, file);
  const chosen = fs.existsSync(resolved) ? resolved : fallback;
  return JSON.parse(fs.readFileSync(chosen, 'utf8')) as FlowDefinition;
}

async function chooseService(scenario: Scenario, baseUrl?: string, emulatorUrl?: string): Promise<LocalService> {
  const explicit = baseUrl !== undefined || emulatorUrl !== undefined;
  const base = (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const emulator = (emulatorUrl ?? DEFAULT_EMULATOR_URL).replace(/\/+$/, '');
  if (await isServiceRunning(base, emulator)) {
    console.log(`using the running server: functions ${base}, emulator ${emulator}`);
    if (scenario.needsExampleBackend) {
      console.log(`note: scenario "${scenario.name}" is meant for the example backend; the running server uses whatever BACKEND_URL it has`);
    }
    return runningService(base, emulator);
  }
  if (explicit) throw new Error(`nothing answers at ${base} (functions) and ${emulator} (emulator)`);
  console.log(`no server on ${base}; starting a local stack${scenario.needsExampleBackend ? ' with the example backend' : ''} for this call…`);
  const service = await startLocalService({ exampleBackend: scenario.needsExampleBackend });
  console.log(`functions ${service.baseUrl}, emulator ${service.emulatorUrl}`);
  return service;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        scenario: { type: 'string' },
        'base-url': { type: 'string' },
        'emulator-url': { type: 'string' },
        'service-domain': { type: 'string' },
        list: { type: 'boolean' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.list) {
    console.log(listScenarios());
    return 0;
  }
  if (positionals.length > 1) {
    console.error(`one flow file at most\n${USAGE}`);
    return 2;
  }
  const scenario = findScenario(values.scenario ?? 'plain');
  if (!scenario) {
    console.error(`unknown scenario "${values.scenario}"\n${listScenarios()}`);
    return 2;
  }
  const flowFile = positionals[0] ?? scenario.flowFile;
  let definition: FlowDefinition;
  try {
    definition = withStartParameters(readFlow(flowFile), scenario.startParameters);
  } catch (error) {
    console.error(`cannot read flow ${flowFile}: ${(error as Error).message}`);
    return 1;
  }

  const service = await chooseService(scenario, values['base-url'], values['emulator-url']);
  const stopRun = new AbortController();
  const onSignal = () => stopRun.abort(new Error('interrupted (Ctrl+C)'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const trigger = triggerFor(definition, scenario.trigger);
    const added = Object.entries(scenario.startParameters).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(
      [
        '',
        `${trigger.kind === 'call' ? 'Call' : `Message "${trigger.body}"`} into ${flowFile} — scenario "${scenario.name}": ${scenario.summary}`,
        ...(added ? [`/jobs/start also gets: ${added}`] : []),
        `expected: ${scenario.expected}`,
        '',
      ].join('\n'),
    );
    const width = widgetColumnWidth(definition);
    const run = await runFlow({
      definition,
      baseUrl: service.baseUrl,
      emulatorUrl: service.emulatorUrl,
      trigger,
      hangUpAfterMs: scenario.hangUpAfterMs,
      hangUpInRoomAfterMs: scenario.hangUpInRoomAfterMs,
      joinDelayMs: scenario.joinDelayMs,
      serviceDomain: values['service-domain'],
      signal: stopRun.signal,
      onEntry: (entry) => console.log(formatEntry(entry, width)),
    });
    console.log(formatSummary(run));
    return ranToAnEnd(run.end) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await service.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`call failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
