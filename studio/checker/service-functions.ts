/**
 * The HTTP paths of this service's Functions, read from the source folder the way twilio-run maps
 * files to paths (dev/function-paths.ts): `jobs/start.protected.ts` -> `/jobs/start`, `hold.protected.ts` -> `/hold`.
 * Private functions (`*.private.*`) have no URL, so they are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { functionUrlPath, visibilityOf } from '../../dev/function-paths';

/** Sorted paths, or null when the folder does not exist. */
export function listServiceFunctions(functionsDir: string): string[] | null {
  if (!fs.existsSync(functionsDir)) return null;
  const paths: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        walk(path.join(dir, entry.name), `${prefix}/${entry.name}`);
        continue;
      }
      if (!/\.(ts|js)$/.test(entry.name) || entry.name.endsWith('.d.ts') || /\.test\./.test(entry.name)) continue;
      if (visibilityOf(entry.name) !== 'private') paths.push(prefix + functionUrlPath(entry.name));
    }
  };
  walk(functionsDir, '');
  return paths.sort();
}

/** The placeholder the deploy step replaces with a function's SID: `/jobs/start` -> `__FUNCTION_SID_JOBS_START__`. */
export function functionSidPlaceholder(functionPath: string): string {
  const stem = functionPath
    .replace(/^\//, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
  return `__FUNCTION_SID_${stem}__`;
}
