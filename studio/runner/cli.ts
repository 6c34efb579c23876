/**
 * npm run call -- [flow file] [--scenario NAME] [--base-url URL --emulator-url URL] [--service-domain D]
 *                 [--twilio-behaviour NAME|file.json] [--fallback-url URL] [--json] [--list]
 *                 [--auto] [--trigger call|message|conversation|request|parent] [--body TEXT]
 *                 [--from N] [--to N] [--data JSON] [--param K=V] [--http FILE] [--subflow [FW…=]FILE]
 *                 [--time-scale X]
 *
 * --auto: runs a flow nobody scripted: the trigger it handles, plausible input from a generated
 * caller, `200 {}` for external HTTP nobody mocked, subflows not given taken as completing.
 * --trigger: the trigger (default: what the flow handles, a call first). --http: answers for
 * external HTTP (http-fixtures.ts). --subflow: a Run Subflow's definition.
 *
 * Places one simulated call (or text) into a flow and prints what happens as it happens, then
 * what the caller heard, the flow variables and where the flow ended.
 *
 * Uses the server `npm start` runs (localhost:3000 + emulator on 3010, or the URLs given) when it
 * answers; otherwise starts its own local stack for the run, with the example backend when the
 * scenario needs one, and stops it afterwards. --service-domain: the deployed domain a filled-in
 * flow names, so its URLs go to the local server too. --twilio-behaviour: the behaviour profile
 * (`documented`, the default, `hopeful`, or a profile file; also TWILIO_BEHAVIOUR), passed to an
 * emulator started here. --fallback-url: the number's Fallback URL. --json: the whole run as one
 * JSON object on stdout (README.md), progress on stderr. Exit 0 when the call ran to an end, 1 when
 * it did not (limits, errors), 2 on bad usage.
 * --deployed: rehearses `npm run deploy` and runs the call against the rehearsed domain (served as
 * uploaded, protected functions checked for X-Twilio-Signature; dev/deploy/deployed-service.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeProfile, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../flow-model';
import { FLOWS_DIR, PROJECT_ROOT } from '../../dev/paths';
import { formatEntry, formatSummary, widgetColumnWidth } from './format-run';
import type { LocalService } from './local-service';
import { BadCommand, findRunningService, readBehaviour, startStack } from './cli-setup';
import { runFlow } from './run-flow';
import { ranToAnEnd, readJobDocuments, runToJson } from './run-json';
import { findScenario, SCENARIOS, withStartParameters, type Scenario } from './scenarios';
import { RUNNER_SIGNING_TOKEN_ENV, startDeployedService } from '../../dev/deploy/deployed-service';
import type { FlowTrigger } from './types';
import { SILENT_CONTACT } from './contact';
import {
  autoInputs,
  autoTrigger,
  chooseTrigger,
  defaultTrigger,
  readFlowFile,
  readSubflows,
  subflowsFor,
  usesTheService,
  type TriggerKind,
} from './flow-inputs';
import { HttpFixtures, readHttpFixtures, type HttpFixture } from './http-fixtures';

export { ranToAnEnd } from './run-json';

const USAGE =
  'usage: npm run call -- [flow file] [--scenario NAME] [--base-url URL --emulator-url URL] [--service-domain D] [--twilio-behaviour NAME|file.json] [--fallback-url URL] [--deployed] [--json] [--list]\n' +
  '       [--auto] [--trigger call|message|conversation|request|parent] [--body TEXT] [--from N] [--to N] [--data JSON] [--param K=V] [--http FILE] [--subflow [FW…=]FILE] [--time-scale X]';
const TRIGGER_KINDS: readonly TriggerKind[] = ['call', 'message', 'conversation', 'request', 'parent'];

/** Progress lines: stdout normally, stderr with --json (stdout then holds the JSON only). */
let say: (line: string) => void = (line) => console.log(line);

function listScenarios(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return ['scenarios:', ...SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`)].join('\n');
}

/**
 * The scenario's trigger, unless the flow does not handle it: `npm run call --
 * flows/messaging.json` then sends a text instead of placing a call, a REST API flow gets a
 * request (flow-inputs.ts chooseTrigger).
 */
export function triggerFor(definition: FlowDefinition, preferred: FlowTrigger): FlowTrigger {
  return chooseTrigger(definition, preferred);
}

function resolveFile(file: string): string {
  const resolved = path.resolve(process.cwd(), file);
  return fs.existsSync(resolved) ? resolved : path.resolve(PROJECT_ROOT, file);
}

function readFlow(file: string): FlowDefinition {
  return readFlowFile(resolveFile(file));
}

function describeTrigger(trigger: FlowTrigger): string {
  switch (trigger.kind) {
    case 'call':
      return 'Call';
    case 'message':
      return `Message "${trigger.body}"`;
    case 'conversation':
      return `Conversation message "${trigger.body}"`;
    case 'request':
      return `REST API execution (flow.data ${JSON.stringify(trigger.parameters ?? {})})`;
    case 'parent':
      return `Subflow run (trigger.parent.parameters ${JSON.stringify(trigger.parameters ?? {})})`;
  }
}

/** The trigger the user named with --trigger and its details, or undefined. */
function namedTrigger(values: {
  trigger?: string;
  body?: string;
  from?: string;
  to?: string;
  data?: string;
  param?: string[];
}): FlowTrigger | undefined {
  if (values.trigger === undefined) return undefined;
  const kind = values.trigger as TriggerKind;
  const base = defaultTrigger(kind, values.body ?? 'Hello');
  switch (base.kind) {
    case 'call':
      return { ...base, from: values.from, to: values.to };
    case 'message':
      return { ...base, from: values.from, to: values.to };
    case 'conversation':
      return { ...base, author: values.from };
    case 'request':
      return {
        ...base,
        from: values.from,
        to: values.to,
        parameters: values.data ? (JSON.parse(values.data) as Record<string, unknown>) : {},
      };
    case 'parent':
      return {
        ...base,
        parameters: Object.fromEntries(
          (values.param ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
        ),
      };
  }
}

/** Where nothing answers: a flow that never calls the service runs without a local stack. */
const NO_SERVICE: LocalService = { baseUrl: 'http://127.0.0.1:9', emulatorUrl: '', stop: async () => undefined };

async function chooseService(
  scenario: Scenario,
  behaviour: TwilioBehaviour,
  baseUrl?: string,
  emulatorUrl?: string,
  needed = true,
): Promise<LocalService> {
  const explicit = baseUrl !== undefined || emulatorUrl !== undefined;
  if (!explicit && !needed) {
    say("the flow does not call this project's service: no local stack is started");
    return NO_SERVICE;
  }
  const { base, emulator, running } = await findRunningService(baseUrl, emulatorUrl);
  if (running) {
    say(`using the running server: functions ${base}, emulator ${emulator}`);
    say(
      `note: the running emulator plays the behaviour profile it was started with; the runner plays ${behaviour.name}`,
    );
    if (scenario.needsExampleBackend) {
      say(
        `note: scenario "${scenario.name}" is meant for the example backend; the running server uses whatever BACKEND_URL it has`,
      );
    }
    return running;
  }
  if (explicit) throw new Error(`nothing answers at ${base} (functions) and ${emulator} (emulator)`);
  say(
    `no server on ${base}; starting a local stack${scenario.needsExampleBackend ? ' with the example backend' : ''} for this call…`,
  );
  const service = await startStack({
    exampleBackend: scenario.needsExampleBackend,
    relaySlowApi: scenario.relaySlowApi,
    behaviour,
  });
  say(`functions ${service.baseUrl}, emulator ${service.emulatorUrl}`);
  return service;
}

const OPTIONS = {
  scenario: { type: 'string' },
  'base-url': { type: 'string' },
  'emulator-url': { type: 'string' },
  'service-domain': { type: 'string' },
  'twilio-behaviour': { type: 'string' },
  'fallback-url': { type: 'string' },
  json: { type: 'boolean' },
  list: { type: 'boolean' },
  deployed: { type: 'boolean' },
  auto: { type: 'boolean' },
  trigger: { type: 'string' },
  body: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  data: { type: 'string' },
  param: { type: 'string', multiple: true },
  http: { type: 'string' },
  subflow: { type: 'string', multiple: true },
  'time-scale': { type: 'string' },
} as const;

function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

type CommandLine = ReturnType<typeof parseCommandLine>;
type Values = CommandLine['values'];

/** Everything the command line asked for, checked. */
interface CallSettings {
  values: Values;
  /** The flow file named on the command line, if one was. */
  namedFile?: string;
  scenario: Scenario;
  behaviour: TwilioBehaviour;
  fallbackUrl?: string;
  /** The trigger --trigger asked for. */
  named?: FlowTrigger;
  timeScale: number;
  flowFile: string;
  definition: FlowDefinition;
  subflows: Record<string, FlowDefinition>;
  fixtures: HttpFixture[];
}

async function main(argv: string[]): Promise<number> {
  const settings = readCommandLine(argv);
  return settings === 'listed' ? 0 : runCall(settings);
}

/** The command line's settings, or 'listed' once --list printed the scenarios. */
function readCommandLine(argv: string[]): CallSettings | 'listed' {
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    throw new BadCommand(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.json) captureStdout();
  if (values.list) {
    console.log(listScenarios());
    return 'listed';
  }
  if (positionals.length > 1) throw new BadCommand(`one flow file at most\n${USAGE}`);
  const scenario = findScenario(values.scenario ?? 'plain');
  if (!scenario) throw new BadCommand(`unknown scenario "${values.scenario}"\n${listScenarios()}`);
  const behaviour = readBehaviour(values['twilio-behaviour']);
  const fallbackUrl = values['fallback-url'] ?? scenario.fallbackUrl;
  if (fallbackUrl !== undefined && !/^(https?:\/\/|\/)/.test(fallbackUrl)) {
    throw new BadCommand(`--fallback-url: "${fallbackUrl}" is not an http(s) URL or a path of the service`);
  }
  const named = readNamedTrigger(values);
  const timeScale = values['time-scale'] !== undefined ? Number(values['time-scale']) : values.auto ? 0.02 : 1;
  if (!(timeScale > 0)) throw new BadCommand(`--time-scale: "${values['time-scale']}" is not a positive number`);
  const flowFile = positionals[0] ?? scenario.flowFile;
  return {
    values,
    namedFile: positionals[0],
    scenario,
    behaviour,
    fallbackUrl,
    named,
    timeScale,
    flowFile,
    ...readFlowInputs(flowFile, values, scenario),
  };
}

function readNamedTrigger(values: Values): FlowTrigger | undefined {
  if (values.trigger !== undefined && !TRIGGER_KINDS.includes(values.trigger as TriggerKind)) {
    throw new BadCommand(`--trigger: "${values.trigger}" is not one of ${TRIGGER_KINDS.join(', ')}`);
  }
  try {
    return namedTrigger(values);
  } catch (error) {
    throw new BadCommand(`--data: not JSON (${(error as Error).message})`);
  }
}

/** The flow with the scenario's start parameters, its subflows and the HTTP fixtures. */
function readFlowInputs(
  flowFile: string,
  values: Values,
  scenario: Scenario,
): Pick<CallSettings, 'definition' | 'subflows' | 'fixtures'> {
  try {
    const definition = withStartParameters(readFlow(flowFile), scenario.startParameters);
    // A Run Subflow naming one of our flows by placeholder (__FLOW_SID_HOLD_SUBFLOW__) gets that
    // file, from beside the flow or from flows/, unless --subflow names another.
    const subflows = subflowsFor(definition, readSubflows(values.subflow ?? []), [
      path.dirname(resolveFile(flowFile)),
      FLOWS_DIR,
    ]);
    const fixtures = values.http ? readHttpFixtures(resolveFile(values.http)) : [];
    return { definition, subflows, fixtures };
  } catch (error) {
    throw new BadCommand((error as Error).message, 1);
  }
}

/** Places the call (or sends the text) against the service, prints it as it goes; the exit code. */
async function runCall(settings: CallSettings): Promise<number> {
  const { values, scenario, behaviour, definition, subflows } = settings;
  const inputs = values.auto
    ? autoInputs(definition, subflows, settings.fixtures)
    : { contact: SILENT_CONTACT, http: new HttpFixtures(settings.fixtures), missingSubflow: 'error' as const };
  const needed = usesTheService([definition, ...Object.values(subflows)], values['service-domain']);
  const deployed = values.deployed
    ? await startDeployedService({ exampleBackend: scenario.needsExampleBackend, behaviour, out: say })
    : undefined;
  if (deployed) process.env[RUNNER_SIGNING_TOKEN_ENV] = deployed.authToken; // requests signed as Twilio signs them
  const service =
    deployed ?? (await chooseService(scenario, behaviour, values['base-url'], values['emulator-url'], needed));
  const stopRun = new AbortController();
  const onSignal = () => stopRun.abort(new Error('interrupted (Ctrl+C)'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const trigger =
      settings.named ??
      (values.auto
        ? autoTrigger(definition, subflows)
        : isPlainFileRun(settings)
          ? chooseTrigger(definition)
          : triggerFor(definition, scenario.trigger));
    say(callHeading(settings, trigger));
    const width = widgetColumnWidth(definition, subflows);
    const run = await runFlow({
      definition,
      baseUrl: service.baseUrl,
      emulatorUrl: service.emulatorUrl || undefined,
      trigger,
      ...inputs,
      subflows,
      timeScale: settings.timeScale,
      hangUpAfterMs: scenario.hangUpAfterMs,
      hangUpInRoomAfterMs: scenario.hangUpInRoomAfterMs,
      joinDelayMs: scenario.joinDelayMs,
      serviceDomain: values['service-domain'] ?? deployed?.domain,
      signal: stopRun.signal,
      behaviour,
      fallbackUrl: settings.fallbackUrl,
      onEntry: (entry) => say(formatEntry(entry, width)),
    });
    say(formatSummary(run));
    if (jsonOut) jsonOut(JSON.stringify(runToJson(run, await readJobDocuments(service.emulatorUrl || undefined))));
    return ranToAnEnd(run.end) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await service.stop();
  }
}

/** A flow file named without a scenario: the flow's own trigger, no scenario expectations. */
function isPlainFileRun(settings: CallSettings): boolean {
  return settings.namedFile !== undefined && settings.values.scenario === undefined;
}

/** What is about to happen, printed before the call. */
function callHeading(settings: CallSettings, trigger: FlowTrigger): string {
  const { values, scenario, flowFile, fallbackUrl } = settings;
  const added = Object.entries(scenario.startParameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    '',
    values.auto
      ? `${describeTrigger(trigger)} into ${flowFile} — automatic contact (--auto): generated input, 200 {} for unmocked HTTP`
      : `${describeTrigger(trigger)} into ${flowFile} — scenario "${scenario.name}": ${scenario.summary}`,
    ...(added ? [`/jobs/start also gets: ${added}`] : []),
    ...(values.auto || isPlainFileRun(settings) ? [] : [`expected: ${scenario.expected}`]),
    `Twilio behaviour: ${describeProfile(settings.behaviour)}`,
    ...(fallbackUrl ? [`the number's Fallback URL: ${fallbackUrl}`] : []),
    '',
  ].join('\n');
}

/** With --json, writes the one JSON object to the real stdout. */
let jsonOut: ((text: string) => void) | undefined;

/**
 * --json: everything else that would reach stdout (progress, the build's lines, a child's
 * output) goes to stderr, so stdout holds exactly one JSON object.
 */
function captureStdout(): void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...args: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  say = (line) => console.error(line);
  jsonOut = (text) => {
    write(`${text}\n`);
  };
}

function exitAfterOutput(code: number): void {
  // process.exit may cut a piped stdout short: let it drain first.
  if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(code));
  else process.exit(code);
}

main(process.argv.slice(2)).then(exitAfterOutput, (error: unknown) => {
  if (error instanceof BadCommand) {
    console.error(error.message);
    return exitAfterOutput(error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`call failed: ${message}`);
  jsonOut?.(JSON.stringify({ error: message }));
  exitAfterOutput(1);
});
