/**
 * The build the benchmarks run: `npm run build`'s output, copied to a private folder so another
 * build (a test run, say) replacing dist/ meanwhile cannot pull files away mid-measurement.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build, type BuildResult } from '../../dev/build';
import { listFiles } from '../../dev/list-files';
import { DIST_DIR, PROJECT_ROOT } from '../../dev/paths';

/** Relative to the project: twilio-run resolves its folders from there. Git-ignored (.local/). */
export const BENCH_DIST_DIR = path.join('.local', 'bench', 'dist');

/**
 * Builds (unless `reuse`: take dist/ as it is, e.g. built by the test suite's setup) and copies
 * the output to `distDir` (relative to the project).
 */
export async function buildForBench(
  options: { reuse?: boolean; distDir?: string } = {},
): Promise<{ functions: BuildResult['functions']; distDir: string; absoluteDir: string }> {
  const distDir = options.distDir ?? BENCH_DIST_DIR;
  const functions = options.reuse ? listBuilt() : (await build()).functions;
  const absoluteDir = path.join(PROJECT_ROOT, distDir);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmSync(absoluteDir, { recursive: true, force: true });
      fs.cpSync(DIST_DIR, absoluteDir, { recursive: true });
      const missing = functions.filter((f) => !fs.existsSync(path.join(absoluteDir, f.file)));
      if (missing.length === 0 && fs.existsSync(path.join(absoluteDir, 'assets'))) break;
      throw new Error(`copy lacks ${missing.map((f) => f.file).join(', ')}`);
    } catch (error) {
      // dist/ was being replaced by another build: try again.
      if (attempt >= 20) throw error;
      await sleep(250);
    }
  }
  return { functions, distDir, absoluteDir };
}

/** The functions in dist/ now. */
function listBuilt(): BuildResult['functions'] {
  const dir = path.join(DIST_DIR, 'functions');
  if (!fs.existsSync(dir)) throw new Error('dist/ is not built: run npm run build');
  return listFiles(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => ({ file: path.relative(DIST_DIR, f).split(path.sep).join('/'), bytes: fs.statSync(f).size }));
}
