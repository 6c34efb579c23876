/**
 * `npm run flows:check-fixtures` on folders made here from our own flows: it needs nothing beside
 * the project, so it runs in jest on a bare clone. (Its run on the real reference folders is
 * `.ci/run`'s, when they exist.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_EXPECTATIONS, loadExpectations, MIN_STUDIO_FLOWS, STUDIO_FLOWS_WARNINGS } from '../../studio/checker/check-fixtures';
import { MESSAGING_FLOW, mutate, PROJECT_ROOT, state, VOICE_FLOW } from './flow-fixtures';

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const SCRIPT = path.join(PROJECT_ROOT, 'studio', 'checker', 'check-fixtures.ts');

function run(...args: string[]): { status: number | null; lines: string[]; stderr: string } {
  const result = spawnSync(TSX, [SCRIPT, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return { status: result.status, lines: result.stdout.trimEnd().split('\n'), stderr: result.stderr };
}

/** A fixtures root with the given folders of files (name -> JSON text). */
function fixtures(folders: Record<string, Record<string, string>>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-'));
  for (const [folder, files] of Object.entries(folders)) {
    fs.mkdirSync(path.join(root, folder));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, folder, name), text);
  }
  return root;
}

const voice = fs.readFileSync(VOICE_FLOW, 'utf8');
const messaging = fs.readFileSync(MESSAGING_FLOW, 'utf8');
const dangling = JSON.stringify(mutate(VOICE_FLOW, (flow) => (state(flow, 'goodbye').transitions[0].next = 'nowhere')));
const paced = JSON.stringify(
  mutate(MESSAGING_FLOW, (flow) => {
    const ask = state(flow, 'send_sorry');
    ask.type = 'send-and-wait-for-reply';
    ask.properties.timeout = '600';
    ask.transitions = [{ event: 'incomingMessage', next: 'start_job' }, { event: 'timeout' }, { event: 'deliveryFailure' }];
  }),
);

function goodStudioFlows(): Record<string, string> {
  const files: Record<string, string> = { 'README.md': '# reference flows\n' };
  for (let i = 0; i < MIN_STUDIO_FLOWS; i += 1) files[`flow-${i}.json`] = i % 2 ? voice : messaging;
  return files;
}

describe('flows:check-fixtures', () => {
  const danglingError =
    'b-broken.json: state "goodbye", property "transitions[0].next": names state "nowhere", which this flow does not have';

  /** An expectations table (file name -> verdict) written to a temporary file. */
  function expectations(table: Record<string, unknown>): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'expectations-')), 'expectations.json');
    fs.writeFileSync(file, JSON.stringify(table));
    return file;
  }

  const goodTable = {
    'a-good.json': { verdict: 'accepted' },
    'b-broken.json': { verdict: 'rejected', reason: 'a next names a missing state', errors: [danglingError] },
  };

  it('passes when every flow gets the verdict its expectation states', () => {
    const root = fixtures({ 'studio-flows': goodStudioFlows(), 'real-flows': { 'a-good.json': voice, 'b-broken.json': dangling } });
    const result = run('--fixtures', root, '--expectations', expectations(goodTable));
    expect(result.lines).toEqual([
      `pass  studio-flows/: ${MIN_STUDIO_FLOWS} flow files, README.md present (expected at least ${MIN_STUDIO_FLOWS} and a README)`,
      ...Array.from({ length: MIN_STUDIO_FLOWS }, (_, i) => `pass  studio-flows/flow-${i}.json: accepted`),
      'pass  real-flows/a-good.json: accepted',
      'pass  real-flows/b-broken.json: rejected, 1 error as expected: a next names a missing state',
      'real-flows: 1 accepted, 1 rejected',
      `${MIN_STUDIO_FLOWS + 3} passed, 0 failed`,
    ]);
    expect(result.status).toBe(0);
  });

  it('fails a real flow whose verdict or errors differ from its expectation, or that the table does not list', () => {
    const root = fixtures({
      'real-flows': { 'a-good.json': dangling, 'b-broken.json': voice, 'c-not-json.json': '{' },
    });
    const table = { ...goodTable, 'd-gone.json': { verdict: 'accepted' } };
    const result = run('--fixtures', root, '--expectations', expectations(table));
    expect(result.status).toBe(1);
    expect(result.lines).toContain('fail  real-flows/a-good.json: rejected, 1 error (expected: accepted)');
    expect(result.lines).toContain(
      '        unexpected: a-good.json: state "goodbye", property "transitions[0].next": names state "nowhere", which this flow does not have',
    );
    expect(result.lines).toContain('fail  real-flows/b-broken.json: accepted (expected: rejected: a next names a missing state)');
    expect(result.lines).toContain(`        missing: ${danglingError}`);
    expect(result.lines).toContain('fail  real-flows/c-not-json.json: rejected, 1 error (no expectation listed for it)');
    expect(result.lines).toContain('fail  real-flows/d-gone.json: listed in the expectations but not in the folder');
    expect(result.lines.at(-1)).toBe('0 passed, 4 failed');
  });

  it('refuses a malformed expectations table (exit 2)', () => {
    const root = fixtures({ 'real-flows': { 'a-good.json': voice } });
    const result = run('--fixtures', root, '--expectations', expectations({ 'a-good.json': { verdict: 'rejected' } }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('"a-good.json" must be');
  });

  it('keeps a verdict and, for each rejection, a reason and its errors for every file of the project table', () => {
    const table = loadExpectations(DEFAULT_EXPECTATIONS);
    expect(Object.keys(table).length).toBeGreaterThan(0);
    for (const [name, entry] of Object.entries(table)) {
      expect(name).toMatch(/\.json$/);
      if (entry.verdict === 'rejected') for (const line of entry.errors) expect(line.startsWith(`${name}: `)).toBe(true);
    }
  });

  it('fails a studio-flows file that is rejected or draws a warning not listed, naming the faults', () => {
    const root = fixtures({ 'studio-flows': { ...goodStudioFlows(), 'flow-1.json': dangling, 'flow-2.json': paced } });
    const result = run('--fixtures', root);
    expect(result.status).toBe(1);
    expect(result.lines).toContain('fail  studio-flows/flow-1.json: rejected, 1 error (expected: accepted)');
    expect(result.lines).toContain(
      '        unexpected: flow-1.json: state "goodbye", property "transitions[0].next": names state "nowhere", which this flow does not have',
    );
    expect(result.lines).toContain('fail  studio-flows/flow-2.json: accepted, 1 warning (expected: accepted)');
    expect(result.lines.at(-1)).toBe(`${MIN_STUDIO_FLOWS - 1} passed, 2 failed`);
  });

  it('fails a studio-flows folder that lost files or its README', () => {
    const root = fixtures({ 'studio-flows': { 'one.json': voice } });
    const result = run('--fixtures', root);
    expect(result.lines).toEqual([
      `fail  studio-flows/: 1 flow file, README.md missing (expected at least ${MIN_STUDIO_FLOWS} and a README)`,
      'pass  studio-flows/one.json: accepted',
      '1 passed, 1 failed',
    ]);
    expect(result.status).toBe(1);
  });

  it('exits 1 when there is nothing to check, and 2 on bad usage', () => {
    const empty = run('--fixtures', fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-')));
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('nothing to check');
    expect(empty.lines).toEqual(['0 passed, 0 failed']);
    expect(run('--frobnicate').status).toBe(2);
  });

  it('expects only warnings about loops paced by the contact', () => {
    for (const line of STUDIO_FLOWS_WARNINGS) expect(line).toMatch(/: warning: loops straight back to this state on "deliveryFailure"/);
  });
});
