import path from 'node:path';
import { listFiles } from '../../../dev/list-files';
import { FUNCTIONS_DIST_DIR } from '../../../dev/paths';

export interface BuiltFunction {
  /** e.g. jobs/start.protected.js */
  file: string;
  absolutePath: string;
  /** The URL path twilio-run gives it, e.g. /jobs/start */
  urlPath: string;
  access: 'public' | 'protected' | 'private';
}

/** Every function in dist/functions, with the path and visibility twilio-run derives from its name. */
export function listBuiltFunctions(): BuiltFunction[] {
  return listFiles(FUNCTIONS_DIST_DIR)
    .filter((file) => file.endsWith('.js'))
    .map((absolutePath) => {
      const file = path.relative(FUNCTIONS_DIST_DIR, absolutePath).split(path.sep).join('/');
      const access = /\.protected\.js$/.test(file) ? 'protected' : /\.private\.js$/.test(file) ? 'private' : 'public';
      const urlPath = '/' + file.replace(/(\.protected|\.private)?\.js$/, '');
      return { file, absolutePath, urlPath, access };
    });
}
