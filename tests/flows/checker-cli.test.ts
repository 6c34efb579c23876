/** `npm run flows:check`: exit codes and output, run as a child process like a user would. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeFunctionsDir, HOLD_SUBFLOW, MESSAGING_FLOW, mutate, PROJECT_ROOT, SERVICE_FUNCTIONS, state } from './flow-fixtures';

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(PROJECT_ROOT, 'studio', 'checker', 'cli.ts');
const functionsDir = fakeFunctionsDir(SERVICE_FUNCTIONS);

function runCheck(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(TSX, [CLI, '--functions-dir', functionsDir, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempFile(name: string, content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'flows-cli-')), name);
  fs.writeFileSync(file, content);
  return file;
}

describe('flows:check', () => {
  it('exits 0 and prints no fault for the project flows (the default set)', () => {
    const result = runCheck('--strict');
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('flows:check: 3 file(s), 0 error(s), 0 warning(s)');
    expect(result.status).toBe(0);
  });

  it('exits 0 on a flow that only draws warnings, printing them; 1 with --strict', () => {
    // A reply loop with no counter: paced by the contact, so a warning, not an error.
    const paced = mutate(MESSAGING_FLOW, (flow) => {
      const ask = state(flow, 'send_working_async');
      ask.type = 'send-and-wait-for-reply';
      ask.properties.timeout = '600';
      ask.transitions = [{ event: 'incomingMessage', next: 'start_job' }, { event: 'timeout' }, { event: 'deliveryFailure' }];
    });
    const file = tempFile('messaging-paced.json', JSON.stringify(paced, null, 2));
    const result = runCheck(file);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain(`${file}: state "start_job", property "transitions[0].next": warning: starts a loop that no counter bounds`);
    expect(result.stderr).toContain('flows:check: 1 file(s), 0 error(s), 1 warning(s)');
    expect(runCheck('--strict', file).status).toBe(1);
  });

  it('exits 1 on a broken flow, one line per fault naming file, state and property', () => {
    const broken = mutate(HOLD_SUBFLOW, (flow) => {
      state(flow, 'hold').properties.timeout = 300;
      state(flow, 'say_connecting').type = 'hang-up';
    });
    const file = tempFile('voice-broken.json', JSON.stringify(broken, null, 2));
    const result = runCheck(file);
    expect(result.status).toBe(1);
    // In the order of the states in the file: hold comes before say_connecting.
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}: state "hold", property "timeout": must be a string holding a whole number (Studio rejects a JSON number here), got 300 (number)`,
      `${file}: state "say_connecting", property "type": warning: "hang-up" is not a widget type this checker knows, so Studio's rule for it is not known: its properties and events are not checked`,
    ]);
  });

  it('exits 1 on malformed JSON with one line and no stack trace', () => {
    const file = tempFile('not-json.json', '{"states": [}');
    const result = runCheck(file);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      `${file}: flow, property "(file)": is not valid JSON: expected a value at line 1, column 13, found "}"\n`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on an unknown option', () => {
    const result = runCheck('--frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown option --frobnicate');
  });
});
