/**
 * `npm run flows:auto-fixtures -- --dir DIR`: --auto on every flow of the folders, one line per
 * flow, `N passed, M failed`, exit 0 only when at least 90% reach a natural end and nothing is
 * "not simulated". Run here on flows this test writes (the reference fixtures are run by path
 * from the command itself, never copied).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FlowDefinition, Transition } from '../../studio/flow-model';
import { runScript, smallFlow } from './support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auto-fixtures-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A flow of one widget `w` of `type`, started by `event`. */
const flow = (
  event: string,
  type: string,
  properties: Record<string, unknown>,
  transitions: Transition[],
): FlowDefinition => smallFlow('auto fixtures', [event], 'w', [{ name: 'w', type, transitions, properties }]);

const command = (args: string[]) => runScript('studio/runner/auto-fixtures.ts', args, { cwd: dir });

it('prints one line per flow and exits 0 only at 90% natural ends with nothing "not simulated"', async () => {
  const good = path.join(dir, 'good');
  fs.mkdirSync(good);
  fs.writeFileSync(
    path.join(good, 'sms.json'),
    JSON.stringify(
      flow('incomingMessage', 'send-and-wait-for-reply', { body: 'yes?', timeout: '60' }, [
        { event: 'incomingMessage' },
        { event: 'timeout' },
      ]),
    ),
  );
  fs.writeFileSync(
    path.join(good, 'rest.json'),
    JSON.stringify(
      flow(
        'incomingRequest',
        'make-http-request',
        { method: 'GET', content_type: 'application/json', url: 'https://api.example.com/x' },
        [{ event: 'success' }, { event: 'failed' }],
      ),
    ),
  );
  const passing = await command(['--dir', 'good']);
  expect(passing.stdout).toMatch(/ok +good\/rest\.json +request +the flow ends after w \(success\)/);
  expect(passing.stdout).toMatch(/ok +good\/sms\.json +message /);
  expect(passing.stdout).toMatch(/2 passed, 0 failed\n$/);
  expect(passing.code).toBe(0);

  const bad = path.join(dir, 'bad');
  fs.mkdirSync(bad);
  fs.writeFileSync(
    path.join(bad, 'unknown.json'),
    JSON.stringify(flow('incomingCall', 'holographic-agent', {}, [{ event: 'next' }])),
  );
  const failing = await command(['--dir', 'good', '--dir', 'bad', '--dir', 'missing']);
  expect(failing.stdout).toMatch(/missing does not exist: skipped/);
  expect(failing.stdout).toMatch(/FAIL +bad\/unknown\.json .*not simulated/);
  expect(failing.stdout).toMatch(/2 passed, 1 failed\n$/);
  expect(failing.code).toBe(1);
}, 120_000);
