/**
 * The offline stack behind `npm start`: twilio-run serving dist/ with a generated env file that
 * points the functions at the emulator. Needs emulator/server.ts.
 */
import fs from 'node:fs';
import { isEmulatorAvailable } from '../../dev/emulator-loader';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';
import { HOLD_MUSIC_FILE } from '../../dev/paths';

const describeWithEmulator = isEmulatorAvailable() ? describe : describe.skip;

describeWithEmulator('startLocalStack', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('serves the built assets', async () => {
    const response = await fetch(`${stack.baseUrl}/hold-music.wav`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/audio\/(x-)?wav/);
    expect((await response.arrayBuffer()).byteLength).toBe(fs.statSync(HOLD_MUSIC_FILE).size);
  });

  test('runs the functions with the generated env, against the emulator', async () => {
    // A well-formed id no job has: the function must reach the emulator's Sync to say 404.
    const response = await fetch(`${stack.baseUrl}/jobs/status?jobId=JB${'0'.repeat(32)}`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect({ status: response.status, body: await response.json() }).toMatchObject({
      status: 404,
      body: { error: { code: expect.any(String) } },
    });
    expect(fs.readFileSync(stack.envFile, 'utf8')).toContain(`TWILIO_API_BASE_URL=${stack.emulator.url}`);
  });

  test('stop() ends twilio-run and frees its port', async () => {
    await stack.stop();
    await expect(stack.exited).resolves.toEqual(expect.any(Number));
    await expect(fetch(`${stack.baseUrl}/hold-music.wav`)).rejects.toThrow();
    expect(fs.existsSync(stack.envFile)).toBe(false);
  });
});

if (!isEmulatorAvailable()) {
  test.skip('startLocalStack (skipped: emulator/server.ts is not in this checkout yet)', () => undefined);
}
