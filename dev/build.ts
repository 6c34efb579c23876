/**
 * Builds the deployable service into dist/:
 *   src/functions/**\/*.ts -> dist/functions/**\/*.js  (one self-contained CommonJS bundle each)
 *   src/assets/**          -> dist/assets/**
 *
 * Each function is bundled with everything it imports except `twilio` (a deploy dependency
 * the platform installs), because Twilio uploads every function as a separate file: a
 * relative import to a sibling would work locally and break once deployed.
 *
 * The library behind `npm run build` (tools/build.ts), also called by the tests' global set-up,
 * the deploy, the benchmarks and the chaos runs.
 */
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { ASSETS_SRC_DIR, DIST_DIR, FUNCTIONS_SRC_DIR, PROJECT_ROOT } from './paths';
import { listFiles } from './list-files';
import { audioDurations } from './audio-assets';

/** Packages left out of the bundles: installed on the platform from package.json dependencies. */
export const EXTERNAL_PACKAGES = ['twilio'];

export interface BuiltFile {
  /** Path relative to dist/, with forward slashes. */
  file: string;
  bytes: number;
}

export interface BuildResult {
  functions: BuiltFile[];
  assets: BuiltFile[];
  /** Seconds each WAV/MP3 asset plays, by served path: what the bundles know (src/lib/voice/audio-lengths.ts). */
  audioSeconds: Record<string, number>;
}

/** The identifier src/lib/voice/audio-lengths.ts reads the measured lengths from. */
export const AUDIO_SECONDS_DEFINE = '__STUDIO_ASYNC_AUDIO_SECONDS__';

export interface BuildOptions {
  /** Print a summary of what was written. */
  log?: boolean;
}

function isFunctionSource(file: string): boolean {
  return file.endsWith('.ts') && !file.endsWith('.d.ts') && !/\.(test|spec)\.ts$/.test(file);
}

/** Asset files to publish: everything except dotfiles and source maps (a .map would be public). */
function isPublishableAsset(file: string): boolean {
  const base = path.basename(file);
  return !base.startsWith('.') && !base.endsWith('.map');
}

function isAllowedExternal(importPath: string): boolean {
  const bare = importPath.replace(/^node:/, '');
  if (builtinModules.includes(bare) || builtinModules.includes(bare.split('/')[0])) return true;
  return EXTERNAL_PACKAGES.some((pkg) => importPath === pkg || importPath.startsWith(`${pkg}/`));
}

async function bundleFunctions(outDir: string, audioSeconds: Record<string, number>): Promise<BuiltFile[]> {
  const entryPoints = listFiles(FUNCTIONS_SRC_DIR).filter(isFunctionSource);
  if (entryPoints.length === 0) return [];

  const result = await esbuild.build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints,
    outbase: FUNCTIONS_SRC_DIR,
    outdir: path.join(outDir, 'functions'),
    // keeps `jobs/start.protected.ts` -> `jobs/start.protected.js`, which twilio-run maps to
    // the protected path /jobs/start
    entryNames: '[dir]/[name]',
    bundle: true,
    splitting: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    // The hold loop's period is the hold music's real length, measured here from the files.
    define: { [AUDIO_SECONDS_DEFINE]: JSON.stringify(audioSeconds) },
    sourcemap: false,
    minify: false,
    treeShaking: true,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'silent',
  });

  for (const warning of result.warnings) {
    console.warn(`build warning: ${warning.text}`);
  }

  // Guard the deploy contract: a bundle may only require Node built-ins and `twilio`.
  const built: BuiltFile[] = [];
  for (const [outFile, output] of Object.entries(result.metafile.outputs)) {
    const unexpected = output.imports.filter((imp) => imp.external && !isAllowedExternal(imp.path));
    if (unexpected.length > 0) {
      throw new Error(
        `${outFile} requires ${unexpected.map((imp) => imp.path).join(', ')} at run time; ` +
          `only Node built-ins and ${EXTERNAL_PACKAGES.join(', ')} are available on the platform`,
      );
    }
    const relative = path.relative(outDir, path.resolve(PROJECT_ROOT, outFile));
    built.push({ file: relative.split(path.sep).join('/'), bytes: output.bytes });
  }
  return built.sort((a, b) => a.file.localeCompare(b.file));
}

function copyAssets(outDir: string): BuiltFile[] {
  const copied: BuiltFile[] = [];
  for (const source of listFiles(ASSETS_SRC_DIR).filter(isPublishableAsset)) {
    const relative = path.relative(ASSETS_SRC_DIR, source);
    const target = path.join(outDir, 'assets', relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(source, target);
    copied.push({ file: ['assets', ...relative.split(path.sep)].join('/'), bytes: fs.statSync(target).size });
  }
  return copied.sort((a, b) => a.file.localeCompare(b.file));
}

function assertNoSourceMaps(dir: string): void {
  const maps = listFiles(dir).filter((file) => file.endsWith('.map'));
  if (maps.length > 0) throw new Error(`source maps must not be published: ${maps.join(', ')}`);
}

/**
 * Replaces `dist` with `staging`. Several builds may run at once (parallel test runs), so a
 * rename that loses the race to another build simply retries.
 */
function swapIntoPlace(staging: string, target: string): void {
  for (let attempt = 0; ; attempt++) {
    fs.rmSync(target, { recursive: true, force: true });
    try {
      fs.renameSync(staging, target);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 20 || (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM')) throw err;
    }
  }
}

/** Builds dist/ from scratch. The output appears all at once, never half-written. */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  // Staged on the same filesystem as dist/ (so the final rename is atomic) in a git-ignored place.
  const stagingRoot = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'studio-async-build');
  fs.mkdirSync(stagingRoot, { recursive: true });
  const staging = fs.mkdtempSync(path.join(stagingRoot, 'dist-'));
  try {
    fs.mkdirSync(path.join(staging, 'functions'), { recursive: true });
    fs.mkdirSync(path.join(staging, 'assets'), { recursive: true });
    const audioSeconds = audioDurations(ASSETS_SRC_DIR);
    const functions = await bundleFunctions(staging, audioSeconds);
    const assets = copyAssets(staging);
    assertNoSourceMaps(staging);
    swapIntoPlace(staging, DIST_DIR);
    if (options.log) printSummary({ functions, assets, audioSeconds });
    return { functions, assets, audioSeconds };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function printSummary(result: BuildResult): void {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const built of [...result.functions, ...result.assets]) {
    console.log(`  dist/${built.file}  ${kib(built.bytes)}`);
  }
  for (const [served, seconds] of Object.entries(result.audioSeconds))
    console.log(`  ${served} plays ${seconds.toFixed(1)} s`);
  console.log(`built ${result.functions.length} functions, ${result.assets.length} assets into dist/`);
  if (result.functions.length === 0) console.warn('warning: src/functions has no functions to build');
}
