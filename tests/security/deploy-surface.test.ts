/**
 * What a deploy publishes: exactly the seven functions (all protected but /jobs/complete, which
 * is public and signed) and the hold music; no secret, source map or private file among them.
 * The list comes from twilio-run's own code (see publish-scan.ts), run on the real build; the
 * scanner is then shown to catch each kind of mistake in a copy with planted files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST_DIR, PROJECT_ROOT, USER_ENV_FILE } from '../../dev/paths';
import { CHAOS_SECRET } from '../../chaos/harness';
import { BATTERY_SECRET } from '../../chaos/battery';
import { SECRET as IN_PROCESS_SECRET } from '../support/in-process-stack';
import { PUBLISHED } from '../support/published';
import { copyDeployLayout, findPublishProblems, listPublishedFiles, secretValuesOf } from './publish-scan';

/** Secrets the tests use, the local stack's token, and whatever .env holds. */
function knownSecrets(): string[] {
  return [
    CHAOS_SECRET,
    BATTERY_SECRET,
    IN_PROCESS_SECRET,
    ...secretValuesOf(USER_ENV_FILE),
    ...secretValuesOf(path.join(PROJECT_ROOT, '.env.example')),
  ];
}

describe('the real build', () => {
  it('publishes exactly the seven functions and the hold music, with the intended visibility', async () => {
    const files = await listPublishedFiles(PROJECT_ROOT);
    expect(files.map(({ path: url, access, kind }) => ({ kind, path: url, visibility: access }))).toEqual(PUBLISHED);
    // Studio-facing functions are protected by their built file names.
    for (const file of files.filter((f) => f.kind === 'function' && f.path !== '/jobs/complete')) {
      expect(path.basename(file.filePath)).toMatch(/\.protected\.js$/);
    }
    expect(files.every((file) => file.filePath.startsWith(DIST_DIR + path.sep))).toBe(true);
  });

  it('publishes no secret, no source map, no private file', async () => {
    expect(findPublishProblems(await listPublishedFiles(PROJECT_ROOT), knownSecrets())).toEqual([]);
  });

  it('the functions hold no credentials: none of the environment reaches a bundle', () => {
    for (const file of fs.readdirSync(path.join(DIST_DIR, 'functions'), { recursive: true }) as string[]) {
      if (!file.endsWith('.js')) continue;
      const text = fs.readFileSync(path.join(DIST_DIR, 'functions', file), 'utf8');
      expect({ file, env: /process\.env\.[A-Z_]*(TOKEN|SECRET)/.test(text) }).toEqual({ file, env: false });
    }
  });
});

describe('the scanner catches mistakes (planted in a copy of the deploy layout)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-publish-'));
    copyDeployLayout(PROJECT_ROOT, dir);
    const assets = path.join(dir, 'dist', 'assets');
    const functions = path.join(dir, 'dist', 'functions');
    fs.writeFileSync(path.join(assets, '.env'), 'AUTH_TOKEN=0123456789abcdef0123456789abcdef\n');
    fs.writeFileSync(path.join(assets, 'server.key'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    fs.writeFileSync(path.join(assets, 'app.js.map'), '{"version":3,"sources":["../src/lib/config.ts"]}');
    fs.writeFileSync(path.join(assets, 'config.json'), JSON.stringify({ secret: CHAOS_SECRET }));
    fs.writeFileSync(path.join(assets, 'notes.ts'), 'export const x = 1;');
    fs.writeFileSync(
      path.join(functions, 'debug.js'),
      'exports.handler = () => {};\n//# sourceMappingURL=debug.js.map\n',
    );
    fs.writeFileSync(
      path.join(functions, 'leak.protected.js'),
      `exports.handler = () => {}; const token = "0123456789abcdef0123456789abcdef";`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the planted files the way a deploy would upload them, and flags each one', async () => {
    const files = await listPublishedFiles(dir);
    const problems = findPublishProblems(files, [...knownSecrets(), '0123456789abcdef0123456789abcdef']);
    const byPath = (url: string) => problems.filter((p) => p.path === url).map((p) => p.problem);
    expect(byPath('/.env')).toEqual(expect.arrayContaining(['a secret file', 'holds a configured secret value']));
    expect(byPath('/server.key')).toEqual(expect.arrayContaining(['a secret file', 'holds a private key']));
    expect(byPath('/app.js.map')).toContain('a private file (source, map, test, tooling or dotfile)');
    expect(byPath('/config.json')).toEqual(expect.arrayContaining(['holds a webhook secret (whsec_...)']));
    expect(byPath('/notes.ts')).toContain('a private file (source, map, test, tooling or dotfile)');
    expect(byPath('/debug')).toContain('points at a source map');
    expect(byPath('/leak')).toContain('holds a configured secret value');
    // And nothing else: the real files stay clean in the copy too.
    expect(new Set(problems.map((p) => p.path))).toEqual(
      new Set(['/.env', '/server.key', '/app.js.map', '/config.json', '/notes.ts', '/debug', '/leak']),
    );
  });
});
