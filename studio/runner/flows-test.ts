/**
 * npm run flows:test -- [FILE.scenarios.json | DIR]... [--dir DIR] [--junit FILE] [--filter TEXT]
 *                       [--twilio-behaviour NAME|file.json] [--base-url URL --emulator-url URL]
 *
 * Runs the scenario files users keep next to their flows (`*.scenarios.json`, scenario-file.ts;
 * default: every one under ./flows), prints a readable report and, with --junit, writes JUnit XML
 * for CI. A flow that calls this project's service runs against `npm start` when it answers, else
 * against a local stack started once for all files. Exit 0 when every scenario passed, 1 when one
 * failed (or a file could not be read), 2 on bad usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { usesTheService } from './flow-inputs';
import { formatRun } from './format-run';
import type { LocalService } from './local-service';
import { BadCommand, findRunningService, readBehaviour, runCommand, startStack } from './cli-setup';
import { readScenarioFile, runScenarioSpec, type ScenarioFile, type ScenarioOutcome } from './scenario-file';

const USAGE =
  'usage: npm run flows:test -- [FILE.scenarios.json | DIR]... [--dir DIR] [--junit FILE] [--filter TEXT] [--twilio-behaviour NAME|file.json] [--base-url URL --emulator-url URL] [--verbose]';

export interface FileReport {
  file: string;
  /** Set when the file could not be read: it counts as one failed test. */
  error?: string;
  outcomes: ScenarioOutcome[];
  durationMs: number;
}

/** The scenario files under `dir` (recursively; node_modules and dot folders skipped). */
export function findScenarioFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (here: string) => {
    for (const entry of fs.readdirSync(here, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(here, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.scenarios.json')) found.push(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found.sort();
}

function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // XML 1.0 allows no control characters besides tab, newline and carriage return.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

/** JUnit XML: one testsuite per scenario file, one testcase per scenario. */
export function junitXml(reports: readonly FileReport[], base = process.cwd()): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = reports.reduce((n, r) => n + (r.error ? 1 : r.outcomes.length), 0);
  const failures = reports.reduce((n, r) => n + (r.error ? 1 : r.outcomes.filter((o) => !o.passed).length), 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="flows:test" tests="${total}" failures="${failures}" time="${seconds(reports.reduce((n, r) => n + r.durationMs, 0))}">`,
  ];
  for (const report of reports) {
    const name = escapeXml(path.relative(base, report.file));
    if (report.error) {
      lines.push(`  <testsuite name="${name}" tests="1" failures="1" time="0.000">`);
      lines.push(
        `    <testcase classname="${name}" name="(reading the file)" time="0.000"><failure message="${escapeXml(report.error)}"/></testcase>`,
      );
      lines.push('  </testsuite>');
      continue;
    }
    const failed = report.outcomes.filter((o) => !o.passed).length;
    lines.push(
      `  <testsuite name="${name}" tests="${report.outcomes.length}" failures="${failed}" time="${seconds(report.durationMs)}">`,
    );
    for (const outcome of report.outcomes) {
      const open = `    <testcase classname="${name}" name="${escapeXml(outcome.name)}" time="${seconds(outcome.durationMs)}"`;
      if (outcome.passed) {
        lines.push(`${open}/>`);
        continue;
      }
      const detail = [...outcome.failures, '', ...(outcome.run ? [`path: ${outcome.run.path.join(' → ')}`] : [])].join(
        '\n',
      );
      lines.push(`${open}>`);
      lines.push(
        `      <failure message="${escapeXml(outcome.failures[0] ?? 'failed')}">${escapeXml(detail)}</failure>`,
      );
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** Runs every scenario of the files; `service` gives the service when a flow needs it. */
export async function runScenarioFiles(
  files: readonly string[],
  service: () => Promise<{ baseUrl: string; emulatorUrl?: string }>,
  options: {
    behaviour?: TwilioBehaviour;
    filter?: string;
    onOutcome?: (file: ScenarioFile, outcome: ScenarioOutcome) => void;
    onFile?: (file: string, parsed?: ScenarioFile, error?: string) => void;
  } = {},
): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  for (const file of files) {
    const began = Date.now();
    let parsed: ScenarioFile;
    try {
      parsed = readScenarioFile(file);
    } catch (error) {
      const message = (error as Error).message;
      options.onFile?.(file, undefined, message);
      reports.push({ file, error: message, outcomes: [], durationMs: 0 });
      continue;
    }
    options.onFile?.(file, parsed);
    const target = usesTheService([parsed.definition, ...Object.values(parsed.subflows)], parsed.serviceDomain)
      ? await service()
      : { baseUrl: 'http://127.0.0.1:9' };
    const outcomes: ScenarioOutcome[] = [];
    for (const scenario of parsed.scenarios) {
      if (options.filter && !scenario.name.includes(options.filter)) continue;
      const outcome = await runScenarioSpec(parsed, scenario, target, options.behaviour);
      outcomes.push(outcome);
      options.onOutcome?.(parsed, outcome);
    }
    reports.push({ file, outcomes, durationMs: Date.now() - began });
  }
  return reports;
}

const OPTIONS = {
  dir: { type: 'string', multiple: true },
  junit: { type: 'string' },
  filter: { type: 'string' },
  'twilio-behaviour': { type: 'string' },
  'base-url': { type: 'string' },
  'emulator-url': { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

type Values = ReturnType<typeof parseCommandLine>['values'];

/** What the command line asks for, checked. */
interface Command {
  values: Values;
  behaviour: TwilioBehaviour;
  /** The files and folders named (none: ./flows). */
  targets: string[];
  files: string[];
}

async function main(argv: string[]): Promise<number> {
  const command = readCommandLine(argv);
  const { values, files } = command;
  if (files.length === 0) {
    console.log(`no scenario files (*.scenarios.json) under ${command.targets.join(', ') || 'flows'}`);
    console.log('0 passed, 0 failed');
    if (values.junit) fs.writeFileSync(values.junit, junitXml([]));
    return 0;
  }
  const reports = await runAndPrint(files, values, command.behaviour);
  const passed = reports.reduce((n, r) => n + r.outcomes.filter((o) => o.passed).length, 0);
  const failed = reports.reduce((n, r) => n + (r.error ? 1 : r.outcomes.filter((o) => !o.passed).length), 0);
  if (values.junit) {
    fs.mkdirSync(path.dirname(path.resolve(values.junit)), { recursive: true });
    fs.writeFileSync(values.junit, junitXml(reports));
    console.log(`\nJUnit XML: ${values.junit}`);
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function readCommandLine(argv: string[]): Command {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    throw new BadCommand(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const behaviour = readBehaviour(values['twilio-behaviour']);
  const targets = [...positionals, ...(values.dir ?? [])];
  return { values, behaviour, targets, files: scenarioFilesOf(targets) };
}

/** The scenario files the command line names (files, or folders searched), ./flows by default. */
function scenarioFilesOf(targets: readonly string[]): string[] {
  const files: string[] = [];
  for (const target of targets.length > 0 ? targets : ['flows']) {
    const full = path.resolve(process.cwd(), target);
    if (!fs.existsSync(full)) throw new BadCommand(`${target}: no such file or folder\n${USAGE}`);
    if (fs.statSync(full).isDirectory()) files.push(...findScenarioFiles(full));
    else files.push(full);
  }
  return files;
}

/** Runs the files' scenarios, printing each file and outcome as it comes; stops a stack it started. */
async function runAndPrint(
  files: readonly string[],
  values: Values,
  behaviour: TwilioBehaviour,
): Promise<FileReport[]> {
  let stack: Promise<LocalService> | undefined;
  const service = () => (stack ??= serviceFor(values, behaviour));
  try {
    return await runScenarioFiles(files, service, {
      behaviour,
      filter: values.filter,
      onFile: (file, parsedFile, error) => {
        console.log(
          `\n${path.relative(process.cwd(), file)}${parsedFile ? ` (flow ${path.relative(process.cwd(), parsedFile.flowFile)})` : ''}`,
        );
        if (error) console.log(`  ✗ cannot be read: ${error}`);
      },
      onOutcome: (file, outcome) => {
        console.log(`  ${outcome.passed ? '✓' : '✗'} ${outcome.name} (${(outcome.durationMs / 1000).toFixed(1)} s)`);
        for (const failure of outcome.failures) console.log(`      ${failure}`);
        if (!outcome.passed && outcome.run) console.log(`      path: ${outcome.run.path.join(' → ')}`);
        if (values.verbose && outcome.run)
          console.log(formatRun(outcome.run, file.definition, outcome.name).replace(/^/gm, '      '));
      },
    });
  } finally {
    if (stack) await (await stack).stop();
  }
}

/** The running server when it answers, else a local stack (not when the URLs were given). */
async function serviceFor(values: Values, behaviour: TwilioBehaviour): Promise<LocalService> {
  const { base, emulator, running } = await findRunningService(values['base-url'], values['emulator-url']);
  if (running) {
    console.log(`(using the running server: functions ${base}, emulator ${emulator})`);
    return running;
  }
  if (values['base-url'] || values['emulator-url'])
    throw new Error(`nothing answers at ${base} (functions) and ${emulator} (emulator)`);
  console.log('(starting a local stack for the flows that call the service…)');
  return startStack({ behaviour, forkProcess: false });
}

if (require.main === module) runCommand('flows:test', main);
