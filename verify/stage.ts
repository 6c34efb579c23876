/**
 * The layout a verify:live run serves or deploys: a copy of the built service (dist/) plus the
 * probe endpoint (verify/functions/verify/probe.js -> /verify/probe), in `verify/.stage-<run>/`
 * (inside the project, where twilio-run resolves it), with the project's package.json and a
 * .twilioserverlessrc that points at it. Removed at cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DIST_DIR, PROJECT_ROOT } from '../dev/paths';

export const PROBE_FUNCTION_SOURCE = path.join(PROJECT_ROOT, 'verify', 'functions');

export interface Stage {
  dir: string;
  /** The folder with functions/ and assets/, absolute. */
  distDir: string;
  /** The same, relative to the project (startLocalStack's distDir: twilio-run resolves it from there). */
  distDirRelative: string;
  remove(): void;
}

export function prepareStage(runId: string): Stage {
  if (!fs.existsSync(path.join(DIST_DIR, 'functions')))
    throw new Error('dist/ is missing: run `npm run build` first (or leave out --no-build)');
  const dir = path.join(PROJECT_ROOT, 'verify', `.stage-${runId}`);
  const distDir = path.join(dir, 'dist');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(DIST_DIR, distDir, { recursive: true });
  fs.cpSync(PROBE_FUNCTION_SOURCE, path.join(distDir, 'functions'), { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(dir, 'package.json'));
  const rc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, '.twilioserverlessrc'), 'utf8')) as Record<
    string,
    unknown
  >;
  fs.writeFileSync(
    path.join(dir, '.twilioserverlessrc'),
    JSON.stringify({ ...rc, functionsFolder: 'dist/functions', assetsFolder: 'dist/assets' }, null, 2),
  );
  return {
    dir,
    distDir,
    distDirRelative: path.relative(PROJECT_ROOT, distDir),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
