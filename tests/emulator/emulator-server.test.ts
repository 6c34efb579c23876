/** The server around the handlers: authentication, routing, spec refusals, stats, reset, the CLI. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startEmulator } from '../../emulator/server';
import { rewriteTwilioUrl } from '../../dev/emulator-client';
import { control, rawTwilio, useTestEmulator } from '../support/emulator';
import { PROJECT_ROOT } from '../../dev/paths';

describe('emulator server', () => {
  const { emulator } = useTestEmulator();

  it('listens on 127.0.0.1 and refuses any other interface', async () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('rewrites Twilio URLs the way the service client does', () => {
    expect(
      rewriteTwilioUrl('https://sync.twilio.com/v1/Services/default/Documents?PageSize=2', 'http://127.0.0.1:3010/'),
    ).toBe('http://127.0.0.1:3010/sync/v1/Services/default/Documents?PageSize=2');
    expect(rewriteTwilioUrl('https://api.twilio.com/2010-04-01/Accounts/AC1/Calls/CA1.json', 'http://h')).toBe(
      'http://h/api/2010-04-01/Accounts/AC1/Calls/CA1.json',
    );
    expect(rewriteTwilioUrl('https://example.com/x', 'http://h')).toBe('https://example.com/x');
  });

  it('requires Basic credentials like Twilio (401, code 20003)', async () => {
    const response = await fetch(`${emulator.url}/sync/v1/Services/default/Documents`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: 20003,
      message: 'Authenticate: no Basic credentials were given',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
  });

  it('refuses paths that are no operation of the specs, and bodies that are not form-encoded', async () => {
    const unknown = await rawTwilio(emulator.url, 'GET', '/sync/v1/Services/default/Docs');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      code: 20001,
      message: 'SPEC_VIOLATION: no operation in the sync spec matches /v1/Services/default/Docs',
    });

    const response = await fetch(`${emulator.url}/sync/v1/Services/default/Documents`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from('AC1:x').toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ UniqueName: 'x' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /body must be application\/x-www-form-urlencoded/,
    );

    const listed = await control(emulator.url, 'GET', '/violations');
    expect((listed.body as unknown as Array<{ kind: string }>).map((v) => v.kind)).toEqual(['request', 'request']);
  });

  it('answers 404 for spec operations the emulator does not implement, and counts them', async () => {
    const reply = await rawTwilio(emulator.url, 'GET', '/sync/v1/Services');
    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ code: 20404, message: 'The emulator does not implement GET /sync/v1/Services' });
    expect(emulator.stats()).toEqual({ 'sync.ListService': 1, total: 1 });
    expect(emulator.violations()).toEqual([]);
  });

  it('resets state, counts and violations through the control API', async () => {
    await rawTwilio(emulator.url, 'POST', '/sync/v1/Services/default/Documents', { UniqueName: 'a' });
    await rawTwilio(emulator.url, 'POST', '/sync/v1/Services/default/Documents', { Bogus: '1' });
    expect(emulator.stats().total).toBe(2);
    expect(emulator.violations()).toHaveLength(1);
    expect((await control(emulator.url, 'POST', '/reset')).body).toEqual({ reset: true });
    expect((await control(emulator.url, 'GET', '/stats')).body).toEqual({ total: 0 });
    expect(emulator.violations()).toEqual([]);
    expect((await rawTwilio(emulator.url, 'GET', '/sync/v1/Services/default/Documents/a')).status).toBe(404);
  });
});

describe('emulator CLI', () => {
  it('prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const root = PROJECT_ROOT;
    const child = spawn(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'emulator/cli.ts', '--port', '0', '--quiet'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await control(url, 'GET', '/stats')).body).toEqual({ total: 0 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
