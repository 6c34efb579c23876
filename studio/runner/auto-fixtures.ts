/**
 * npm run flows:auto-fixtures -- [--dir DIR]... [--verbose]
 *
 * Runs every flow of the reference folders (../shared/fixtures/studio-flows and
 * ../shared/fixtures/real-flows beside the project, when they exist; or the --dir folders) the way
 * `npm run call -- FILE --auto --json` does: the trigger the flow handles, a generated contact,
 * `200 {}` for external HTTP, subflows not given taken as completing. One line per flow (how the
 * run ended), then `N passed, M failed`. A flow passes when its run reaches a natural end (the
 * flow ends, the caller hangs up, the call ends) and nothing in it is "not simulated".
 *
 * Exit 0 when at least 90% pass and "not simulated" appears nowhere; 1 otherwise; 2 on bad usage.
 * Folders that do not exist are skipped (and said so); none at all is exit 0 with "0 passed".
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../dev/paths';
import type { FlowDefinition } from '../flow-model';
import { autoInputs, autoTrigger, readFlowFile, usesTheService } from './flow-inputs';
import type { LocalService } from './local-service';
import { runCommand, startStack } from './cli-setup';
import { describeEnd } from './flow-end';
import { runFlow } from './run-flow';
import { ranToAnEnd } from './run-json';
import type { FlowRun } from './types';

const DEFAULT_DIRS = ['studio-flows', 'real-flows'].map((name) =>
  path.resolve(PROJECT_ROOT, '..', 'shared', 'fixtures', name),
);
const PASS_SHARE = 0.9;
const NOT_SIMULATED = /not simulated/i;

export interface AutoResult {
  file: string;
  passed: boolean;
  end: string;
  trigger: string;
  steps: number;
  notSimulated: string[];
}

/** One --auto run of a flow file (the same inputs as `npm run call -- FILE --auto`). */
export async function autoRun(
  file: string,
  service: () => Promise<LocalService | undefined>,
): Promise<{ result: AutoResult; run?: FlowRun }> {
  let definition: FlowDefinition;
  try {
    definition = readFlowFile(file);
  } catch (error) {
    return {
      result: {
        file,
        passed: false,
        end: `cannot read: ${(error as Error).message}`,
        trigger: '-',
        steps: 0,
        notSimulated: [],
      },
    };
  }
  const stack = usesTheService([definition]) ? await service() : undefined;
  const trigger = autoTrigger(definition);
  const run = await runFlow({
    definition,
    baseUrl: stack?.baseUrl ?? 'http://127.0.0.1:9',
    emulatorUrl: stack?.emulatorUrl,
    trigger,
    ...autoInputs(definition, {}),
    timeScale: 0.02,
    maxRunMs: 60_000,
  });
  const notSimulated = run.timeline
    .filter((entry) => NOT_SIMULATED.test(entry.text))
    .map((entry) => `${entry.widget}: ${entry.text}`);
  if (run.end.kind === 'error' && NOT_SIMULATED.test(run.end.message)) notSimulated.push(run.end.message);
  const passed = ranToAnEnd(run.end) && notSimulated.length === 0;
  return {
    result: { file, passed, end: describeEnd(run.end), trigger: trigger.kind, steps: run.steps, notSimulated },
    run,
  };
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dir: { type: 'string', multiple: true }, verbose: { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: npm run flows:auto-fixtures -- [--dir DIR]... [--verbose]`);
    return 2;
  }
  const dirs = (values.dir ?? DEFAULT_DIRS).map((dir) => path.resolve(process.cwd(), dir));
  const files: string[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      console.log(`(${dir} does not exist: skipped)`);
      continue;
    }
    for (const name of fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort())
      files.push(path.join(dir, name));
  }
  let stack: Promise<LocalService> | undefined;
  const service = () => (stack ??= startStack({ forkProcess: false }));
  const results: AutoResult[] = [];
  const width = Math.max(10, ...files.map((file) => path.relative(process.cwd(), file).length));
  try {
    for (const file of files) {
      const { result, run } = await autoRun(file, service);
      results.push(result);
      const shown = path.relative(process.cwd(), file).padEnd(width);
      console.log(
        `${result.passed ? 'ok  ' : 'FAIL'}  ${shown}  ${result.trigger.padEnd(12)}  ${result.end} (${result.steps} steps)`,
      );
      for (const line of result.notSimulated) console.log(`        not simulated: ${line}`);
      if (values.verbose && run) console.log(`        path: ${run.path.join(' → ')}`);
    }
  } finally {
    if (stack) await (await stack).stop();
  }
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  const anyNotSimulated = results.some((r) => r.notSimulated.length > 0);
  const share = results.length === 0 ? 1 : passed / results.length;
  console.log(`${passed} passed, ${failed} failed`);
  if (anyNotSimulated) console.error('"not simulated" appears in a run');
  if (share < PASS_SHARE)
    console.error(`only ${(share * 100).toFixed(0)}% reached a natural end (the goal is ${PASS_SHARE * 100}%)`);
  return share >= PASS_SHARE && !anyNotSimulated ? 0 : 1;
}

if (require.main === module) runCommand('flows:auto-fixtures', main, true);
