/**
 * verify:live removes what it created when a probe fails and when it is interrupted: checked
 * through the emulator's own state (rooms, Sync documents, Studio Flows), on a stack the test owns.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CleanupRegistry } from '../../verify/cleanup';
import { PROJECT_ROOT } from '../../dev/paths';
import { leftovers, runCli, startProbeStack } from './support';

jest.setTimeout(180_000);

describe('CleanupRegistry', () => {
  test('runs newest first, each once, and goes on past a failing step', async () => {
    const done: string[] = [];
    const registry = new CleanupRegistry();
    registry.add('a', () => void done.push('a'));
    const drop = registry.add('b', () => void done.push('b'));
    registry.add('c', () => {
      throw new Error('c failed');
    });
    registry.add('d', async () => void done.push('d'));
    drop();
    const [first, second] = await Promise.all([registry.runAll(), registry.runAll()]);
    expect(done).toEqual(['d', 'a']);
    expect(first).toEqual(second);
    expect(first).toEqual([
      { label: 'd', ok: true },
      { label: 'c', ok: false, error: 'c failed' },
      { label: 'a', ok: true },
    ]);
    expect(await registry.runAll()).toHaveLength(3);
  });
});

describe('verify:live cleanup against the emulator', () => {
  let probeStack: Awaited<ReturnType<typeof startProbeStack>>;
  beforeAll(async () => {
    probeStack = await startProbeStack();
  });
  afterAll(async () => {
    await probeStack?.stop();
  });

  const stackArgs = () => [
    '--against-emulator',
    '--base-url',
    probeStack.stack.baseUrl,
    '--emulator-url',
    probeStack.stack.emulator.url,
  ];

  test('a probe that fails once its call is in a room: the room, the call, the flow and the documents go', async () => {
    const run = await runCli([...stackArgs(), '--only', 'rooms,sync', '--fail-probe', 'rooms', '--json'], {
      env: { VERIFY_KEY: probeStack.key },
    });
    expect(run.code).toBe(1);
    const record = JSON.parse(run.stdout) as {
      probes: Array<{ probe: string; error?: string }>;
      cleanup: Array<{ ok: boolean }>;
    };
    expect(record.probes.find((p) => p.probe === 'rooms')?.error).toMatch(/failed on purpose/);
    // The other probe still ran, and everything was removed.
    expect(record.probes.find((p) => p.probe === 'sync')?.error).toBeUndefined();
    expect(record.cleanup.every((step) => step.ok)).toBe(true);
    expect(await leftovers(probeStack.stack.emulator.url)).toEqual({ openRooms: [], documents: [], flows: 0 });
  });

  test('SIGINT in the middle of a probe: everything created is removed, exit 130', async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        'verify/cli.ts',
        ...stackArgs(),
        '--only',
        'sync,leave',
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, VERIFY_KEY: probeStack.key },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // Wait until the leave probe's call is in its first room (the Sync probe's documents exist too).
    const deadline = Date.now() + 60_000;
    let during = await leftovers(probeStack.stack.emulator.url);
    while (Date.now() < deadline && during.openRooms.length === 0) {
      await sleep(100);
      during = await leftovers(probeStack.stack.emulator.url);
    }
    expect(during.openRooms.length).toBe(1);
    expect(during.flows).toBe(1);
    expect(during.documents.length).toBeGreaterThan(0);

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output).toContain('SIGINT: stopping the probes');
    expect(output).not.toContain('FAILED to remove');
    expect(await leftovers(probeStack.stack.emulator.url)).toEqual({ openRooms: [], documents: [], flows: 0 });
  });
});
