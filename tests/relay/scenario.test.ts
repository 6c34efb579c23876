/**
 * The flow scenario `relay-slow-api`: the shipped voice flow, the service's local stack, and as
 * its backend the relay in front of a plain API that takes 25 s to answer. The caller holds, then
 * hears the API's answer.
 */
import { startLocalService, type LocalService } from '../../studio/runner/local-service';
import { ranToAnEnd, readJobDocuments, runJobs } from '../../studio/runner/run-json';
import { findScenario } from '../../studio/runner/scenarios';
import { explain, runScenario, said, type ScenarioRun } from '../flow-runs/support';

const scenario = findScenario('relay-slow-api')!;
let service: LocalService;
let run: ScenarioRun;

beforeAll(async () => {
  service = await startLocalService({ relaySlowApi: scenario.relaySlowApi, build: false, forkProcess: false });
  run = await runScenario(service, scenario.name, 80_000);
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

test('the caller holds while the API works, then hears its answer', async () => {
  const jobs = runJobs(run.run, await readJobDocuments(service.emulatorUrl));
  explain(run, () => {
    expect(ranToAnEnd(run.run.end)).toBe(true);
    expect(said(run.run).join(' | ')).toContain(scenario.relaySlowApi!.answer);
    const job = jobs.find((j) => j.jobId === run.jobId);
    expect(job?.status).toBe('COMPLETED');
    // The API answered after 25 s; the caller was released at once after the relay's completion.
    expect(job?.completedAtMs).toBeGreaterThanOrEqual(scenario.relaySlowApi!.delayMs);
    expect(job!.releasedAtMs! - job!.completedAtMs!).toBeLessThanOrEqual(2000);
    const [stay] = run.run.rooms.filter((room) => room.friendlyName.startsWith('hold_'));
    expect(stay?.leftAtMs).toBeDefined();
  });
});
