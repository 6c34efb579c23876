/** The relay's config file: a bad one is one clear error at start naming the file and the field. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../relay/src/config';
import { parseArgs } from '../../relay/src/cli';
import { SECRET } from './support';
import { PROJECT_ROOT as ROOT } from '../../dev/paths';

const ENV = { CRM_TOKEN: 'secret-value' };

function good(): Record<string, any> {
  return {
    tasks: {
      lookup: {
        request: {
          url: 'https://crm.example.com/customers/{{ input.customerId }}',
          headers: { Authorization: { env: 'CRM_TOKEN', prefix: 'Bearer ' } },
        },
        result: '{"name": customer.name}',
      },
    },
  };
}

function errorOf(raw: unknown, env: Record<string, string> = ENV): string {
  try {
    parseConfig(raw, 'relay.config.json', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

test('the shipped example config is valid (given its environment variables)', () => {
  const config = loadConfig(path.join(ROOT, 'relay/relay.config.example.json'), { CRM_TOKEN: 'a', PAYMENTS_KEY: 'b' });
  expect([...config.tasks.keys()]).toEqual(['lookup', 'refund']);
  expect(config.tasks.get('lookup')!.timeoutMs).toBe(20000);
  expect(config.tasks.get('refund')!.retry).toEqual({ attempts: 3, delayMs: 500, maxDelayMs: 5000 });
});

test('a good config loads, with defaults', () => {
  const config = parseConfig(good(), 'relay.config.json', ENV);
  const task = config.tasks.get('lookup')!;
  expect(task.timeoutMs).toBe(10000);
  expect(task.headers).toEqual({ Authorization: { env: 'CRM_TOKEN', prefix: 'Bearer ' } });
  expect(config.headerValues.get('CRM_TOKEN')).toBe('secret-value');
});

describe('each problem names the file and the field', () => {
  const cases: Array<[string, (c: Record<string, any>) => void, string]> = [
    ['no tasks', (c) => delete c.tasks, 'relay.config.json: tasks: must be an object'],
    ['an unknown top-level field', (c) => (c.task = {}), 'relay.config.json: task: is not a known field'],
    ['no url', (c) => delete c.tasks.lookup.request.url, 'relay.config.json: tasks.lookup.request.url: is required'],
    [
      'a url that is not http',
      (c) => (c.tasks.lookup.request.url = 'ftp://x/{{ input.a }}'),
      'tasks.lookup.request.url: must start with http:// or https://',
    ],
    [
      'a broken Liquid template',
      (c) => (c.tasks.lookup.request.url = 'https://x/{{ input.a '),
      'tasks.lookup.request.url: is not a valid Liquid template',
    ],
    [
      'an unknown Liquid filter',
      (c) => (c.tasks.lookup.request.url = 'https://x/{{ input.a | nofilter }}'),
      'tasks.lookup.request.url: is not a valid Liquid template',
    ],
    [
      'a bad method',
      (c) => (c.tasks.lookup.request.method = 'FETCH'),
      'tasks.lookup.request.method: must be one of GET, POST, PUT, PATCH, DELETE',
    ],
    [
      'a header holding a value instead of a variable name',
      (c) => (c.tasks.lookup.request.headers = { Authorization: 'Bearer abc123' }),
      'tasks.lookup.request.headers.Authorization: must name an environment variable',
    ],
    [
      'a header whose variable is not set',
      (c) => (c.tasks.lookup.request.headers = { 'X-Key': 'MISSING_KEY' }),
      'tasks.lookup.request.headers.X-Key: reads the environment variable MISSING_KEY, which is not set',
    ],
    [
      'a header field that is not known',
      (c) => (c.tasks.lookup.request.headers = { 'X-Key': { env: 'CRM_TOKEN', value: 'x' } }),
      'tasks.lookup.request.headers.X-Key.value: is not a known field',
    ],
    [
      'a Content-Length header',
      (c) => (c.tasks.lookup.request.headers = { 'Content-Length': 'CRM_TOKEN' }),
      'tasks.lookup.request.headers.Content-Length: is set by the relay itself',
    ],
    [
      'a misspelt request field',
      (c) => (c.tasks.lookup.request.header = {}),
      'tasks.lookup.request.header: is not a known field',
    ],
    [
      'a timeout that is not a number',
      (c) => (c.tasks.lookup.timeoutMs = '10s'),
      'tasks.lookup.timeoutMs: must be a whole number of milliseconds',
    ],
    [
      'zero attempts',
      (c) => (c.tasks.lookup.retry = { attempts: 0 }),
      'tasks.lookup.retry.attempts: must be a whole number from 1',
    ],
    [
      'no result mapping',
      (c) => delete c.tasks.lookup.result,
      'tasks.lookup.result: is required: a JSONata expression',
    ],
    [
      'a broken JSONata mapping',
      (c) => (c.tasks.lookup.result = '{"name": customer.name'),
      'tasks.lookup.result: is not a valid JSONata expression',
    ],
  ];
  test.each(cases)('%s', (_name, edit, expected) => {
    const config = good();
    edit(config);
    const message = errorOf(config);
    expect(message).toContain(expected);
    expect(message.startsWith('relay.config.json: ')).toBe(true);
    expect(message).not.toContain('secret-value');
  });
});

test('a file that is missing or not JSON is named', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-config-'));
  try {
    const file = path.join(dir, 'relay.config.json');
    expect(() => loadConfig(file, ENV)).toThrow(`${file}: cannot be read (ENOENT)`);
    fs.writeFileSync(file, '{"tasks": ');
    expect(() => loadConfig(file, ENV)).toThrow(`${file}: is not valid JSON`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("arguments: --config is resolved from the caller's folder; port and host from flags, then PORT and HOST", () => {
  expect(parseArgs(['--config', 'r.json'], { INIT_CWD: '/srv/app' })).toEqual({
    config: '/srv/app/r.json',
    port: 8080,
    host: '127.0.0.1',
  });
  expect(parseArgs(['--config=/c.json', '--port', '9000'], { PORT: '7000', HOST: '0.0.0.0' })).toEqual({
    config: '/c.json',
    port: 9000,
    host: '0.0.0.0',
  });
  expect(parseArgs([], { RELAY_CONFIG: '/c.json', PORT: '7000' })).toMatchObject({ port: 7000 });
  expect(() => parseArgs([], {})).toThrow('no config file');
  expect(() => parseArgs(['--config', 'a', '--port', 'x'], {})).toThrow('port "x" is not a port number');
  expect(() => parseArgs(['--verbose'], {})).toThrow('unknown argument "--verbose"');
});

test('npm run relay with a bad config exits at once with one line naming the file and the field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-config-'));
  try {
    const file = path.join(dir, 'relay.config.json');
    const config = good();
    config.tasks.lookup.request.headers = { Authorization: 'NOT_SET_ANYWHERE' };
    fs.writeFileSync(file, JSON.stringify(config));
    const env: NodeJS.ProcessEnv = { ...process.env, WEBHOOK_SECRET: SECRET };
    delete env.NOT_SET_ANYWHERE;
    const run = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        path.join(ROOT, 'relay/src/cli.ts'),
        '--config',
        file,
        '--port',
        '0',
      ],
      {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `relay: bad config: ${file}: tasks.lookup.request.headers.Authorization: reads the environment variable NOT_SET_ANYWHERE, which is not set\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
