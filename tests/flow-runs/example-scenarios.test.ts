/**
 * The documented example (studio/runner/README.md, "Testing your own flow"): an IVR that uses our
 * hold, and its scenario file. The README shows the file as it is, and every scenario in it passes
 * against the local stack (functions, emulator, the built-in simulated backend).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runScenarioFiles, junitXml } from '../../studio/runner/flows-test';
import { startLocalService, type LocalService } from '../../studio/runner/local-service';
import { PROJECT_ROOT } from '../../dev/paths';

const EXAMPLE = path.join(PROJECT_ROOT, 'studio', 'runner', 'examples', 'ivr-with-hold.scenarios.json');
let service: LocalService | undefined;

afterAll(async () => {
  await service?.stop();
});

it('the runner README shows the example scenario file exactly', () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'studio', 'runner', 'README.md'), 'utf8');
  expect(readme).toContain(`\`\`\`json\n${fs.readFileSync(EXAMPLE, 'utf8')}\`\`\``);
});

it('every scenario of the example passes: hold music then the result, a failed job, a busy agent, silence', async () => {
  const reports = await runScenarioFiles(
    [EXAMPLE],
    async () => (service ??= await startLocalService({ build: false, forkProcess: false })),
  );
  const outcomes = reports[0]!.outcomes;
  expect(reports[0]!.error).toBeUndefined();
  for (const outcome of outcomes)
    expect({ name: outcome.name, failures: outcome.failures }).toEqual({ name: outcome.name, failures: [] });
  expect(outcomes).toHaveLength(4);
  const hold = outcomes[0]!.run!;
  expect(hold.rooms).toHaveLength(1);
  expect(hold.rooms[0]!.friendlyName).toMatch(/^hold_/);
  expect(junitXml(reports)).toMatch(/tests="4" failures="0"/);
}, 120_000);
