/** verify:live's plan and consent: nothing happens on an account without a yes. */
import type { CliIo } from '../../verify/cli';
import { REFUSAL_NO_TTY } from '../../verify/plan';
import { runCli } from './support';

const REAL_LOOKING = { ACCOUNT_SID: `AC${'1'.repeat(32)}`, AUTH_TOKEN: 'f'.repeat(32) };
const NUMBERS = ['--from', '+15005550006', '--to', '+15005550001'];

/** Stands in for the deploy and everything after it: reaching it means the run started. */
function stopHere(): never {
  throw new Error('stopped by the test before anything reached Twilio');
}

/** Runs it in a terminal where the user answers `answer` to the question. */
const inTerminal = (answer: string, liveTarget: CliIo['liveTarget']) =>
  runCli(NUMBERS, { env: REAL_LOOKING, isTTY: true, ask: async () => answer, liveTarget });

describe('verify:live plan and consent', () => {
  test('without a terminal and without --yes it refuses in one line, after the plan', async () => {
    let started = false;
    const run = await runCli(NUMBERS, { env: REAL_LOOKING, liveTarget: async () => ((started = true), stopHere()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${REFUSAL_NO_TTY}\n`);
    expect(started).toBe(false);
    // The plan: what it does, what it creates, what it costs and at which prices.
    expect(run.stdout).toMatch(/NEW Serverless service "studio-async-verify-[0-9a-f]{6}"/);
    expect(run.stdout).toMatch(/5 calls from \+15005550006 to \+15005550001/);
    expect(run.stdout).toMatch(/Estimated cost: at most about \$0\.\d\d/);
    expect(run.stdout).toContain('$0.014 per minute');
    expect(run.stdout).toContain('twilio.com/en-us/voice/pricing/us');
    expect(run.stdout).toContain('per invocation');
    expect(run.stdout).toContain('Sync');
    expect(run.stdout).toContain('nothing on your numbers');
  });

  test('--yes starts without asking', async () => {
    let started = false;
    const run = await runCli([...NUMBERS, '--yes'], {
      env: REAL_LOOKING,
      liveTarget: async () => ((started = true), stopHere()),
    });
    expect(started).toBe(true);
    expect(run.asked).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('stopped by the test');
  });

  test('in a terminal it asks; anything but yes does nothing', async () => {
    let started = false;
    const liveTarget = async () => ((started = true), stopHere());
    const no = await inTerminal('n', liveTarget);
    expect(no.asked).toEqual(['Start? [y/N] ']);
    expect(no.code).toBe(2);
    expect(started).toBe(false);
    const yes = await inTerminal('y', liveTarget);
    expect(yes.asked).toEqual(['Start? [y/N] ']);
    expect(started).toBe(true);
  });

  test('without numbers the voice probes are shown as skipped; --configure-number says what it changes', async () => {
    const bare = await runCli([], { env: REAL_LOOKING });
    expect(bare.stdout).toMatch(/rooms .*\[SKIPPED: needs --from and --to\]/);
    expect(bare.stdout).toContain('no calls');
    const configure = await runCli([...NUMBERS, '--configure-number'], { env: REAL_LOOKING });
    expect(configure.stdout).toContain('CHANGES the voice URL of +15005550001');
    expect(configure.stdout).toContain('restores it afterwards');
  });

  test('no credentials, bad numbers and a profile for a real account are usage errors', async () => {
    expect((await runCli(NUMBERS, { env: {} })).stderr).toMatch(/needs a real account/);
    expect((await runCli(['--from', '5551234'], { env: REAL_LOOKING })).code).toBe(2);
    expect((await runCli(['--twilio-behaviour', 'hopeful'], { env: REAL_LOOKING })).stderr).toMatch(
      /is for --against-emulator/,
    );
  });
});
