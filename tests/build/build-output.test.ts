/**
 * What `npm run build` leaves in dist/ is what twilio-run deploys: check its shape, and check
 * that twilio-run itself (its own config reader and file mapping) sees it the way the flows and
 * backends expect.
 */
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fsHelpers } from '@twilio-labs/serverless-api';
import { readSpecializedConfig } from 'twilio-run/dist/config/global';
import { getConfigFromCli } from 'twilio-run/dist/config/start';
import { cliInfo as startCliInfo } from 'twilio-run/dist/commands/start';
import { getConfigFromFlags } from 'twilio-run/dist/config/deploy';
import { PATHS } from '../../src/lib/contracts';
import { listFiles } from '../../dev/list-files';
import { ASSETS_SRC_DIR, DIST_DIR, FUNCTIONS_SRC_DIR, HOLD_MUSIC_FILE, PROJECT_ROOT } from '../../dev/paths';
import { listBuiltFunctions } from './support/built-functions';

/** Contract paths that are public; every other function is protected (signed by Twilio). */
const PUBLIC_FUNCTION_PATHS: string[] = [PATHS.complete];
const ASSET_PATHS: string[] = [PATHS.holdMusic];
const FUNCTION_PATHS = Object.values(PATHS).filter((p) => !ASSET_PATHS.includes(p));

function relativeTo(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join('/');
}

describe('dist/', () => {
  test('has one bundle per source function, same relative path and visibility infix', () => {
    const sources = listFiles(FUNCTIONS_SRC_DIR)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => relativeTo(FUNCTIONS_SRC_DIR, f).replace(/\.ts$/, '.js'));
    expect(listBuiltFunctions().map((fn) => fn.file)).toEqual(sources.sort());
  });

  test('bundles require nothing but Node built-ins and twilio (no sibling files)', () => {
    for (const fn of listBuiltFunctions()) {
      const code = fs.readFileSync(fn.absolutePath, 'utf8');
      const required = [...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
      const unexpected = required.filter((id) => {
        const bare = id.replace(/^node:/, '');
        return !builtinModules.includes(bare.split('/')[0]) && id !== 'twilio' && !id.startsWith('twilio/');
      });
      expect({ file: fn.file, unexpected }).toEqual({ file: fn.file, unexpected: [] });
    }
  });

  test('contains no source maps (anything under assets is published)', () => {
    expect(listFiles(DIST_DIR).filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(
      listBuiltFunctions().filter((fn) => fs.readFileSync(fn.absolutePath, 'utf8').includes('sourceMappingURL')),
    ).toEqual([]);
  });

  test('has the assets of src/assets, byte for byte', () => {
    for (const source of listFiles(ASSETS_SRC_DIR)) {
      const built = path.join(DIST_DIR, 'assets', relativeTo(ASSETS_SRC_DIR, source));
      expect(fs.readFileSync(built).equals(fs.readFileSync(source))).toBe(true);
    }
    expect(fs.existsSync(path.join(DIST_DIR, 'assets', path.basename(HOLD_MUSIC_FILE)))).toBe(true);
  });
});

describe('twilio-run and .twilioserverlessrc', () => {
  const ACCOUNT_SID = 'AC' + 'a'.repeat(32);

  test.each(['start', 'deploy'] as const)('the %s config names dist/ folders, runtime and service name', (command) => {
    expect(readSpecializedConfig(PROJECT_ROOT, '', command, {})).toMatchObject({
      functionsFolder: 'dist/functions',
      assetsFolder: 'dist/assets',
      runtime: expect.stringMatching(/^node(20|22)$/),
      serviceName: 'studio-async',
    });
  });

  test('`twilio-run start` resolves the dist/ folders from the config file', async () => {
    // the flags as yargs hands them over when none are given on the command line
    const defaults = Object.fromEntries(
      Object.entries(startCliInfo.options)
        .filter(([, option]) => 'default' in option)
        .map(([name, option]) => [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), option.default]),
    );
    const config = await getConfigFromCli({ ...defaults, cwd: PROJECT_ROOT } as never, startCliInfo);
    expect(config).toMatchObject({ functionsFolderName: 'dist/functions', assetsFolderName: 'dist/assets' });
  });

  test('`twilio-run deploy` resolves folders, runtime and service name from the config file', async () => {
    const config = await getConfigFromFlags({
      cwd: PROJECT_ROOT,
      username: ACCOUNT_SID,
      password: 'not-a-real-token',
      environment: 'dev',
      functions: true,
      assets: true,
      logLevel: 'info',
    } as never);
    expect(config).toMatchObject({
      functionsFolderName: 'dist/functions',
      assetsFolderName: 'dist/assets',
      runtime: expect.stringMatching(/^node(20|22)$/),
      serviceName: 'studio-async',
      noFunctions: false,
      noAssets: false,
    });
  });

  test('maps the built files to the contract paths with the right visibility', async () => {
    const config = readSpecializedConfig(PROJECT_ROOT, '', 'deploy', {});
    const { functions, assets } = await fsHelpers.getListOfFunctionsAndAssets(PROJECT_ROOT, {
      functionsFolderNames: [String(config.functionsFolder)],
      assetsFolderNames: [String(config.assetsFolder)],
    });
    const byPath = new Map(functions.map((fn) => [fn.path, fn.access]));
    for (const contractPath of FUNCTION_PATHS) {
      expect([contractPath, byPath.get(contractPath)]).toEqual([
        contractPath,
        PUBLIC_FUNCTION_PATHS.includes(contractPath) ? 'public' : 'protected',
      ]);
    }
    expect(functions).toHaveLength(new Set(functions.map((fn) => fn.path)).size);
    for (const assetPath of ASSET_PATHS) {
      expect(assets.find((asset) => asset.path === assetPath)).toMatchObject({ access: 'public' });
    }
  });
});
