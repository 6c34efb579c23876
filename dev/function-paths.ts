/**
 * How twilio-run (and the deployed service) maps a file under functions/ or assets/ to the URL
 * it is served at and its visibility: `jobs/start.protected.ts` -> `/jobs/start`, protected;
 * `hold-music.private.wav` -> `/hold-music.wav`, private. One place for the checker, the
 * in-process host and the build.
 */
export type Visibility = 'public' | 'protected' | 'private';

/** `.protected` or `.private` just before the file's extension. */
const VISIBILITY_MARK = /\.(protected|private)(?=\.[^./]+$)/;

export function visibilityOf(relativeFile: string): Visibility {
  return (VISIBILITY_MARK.exec(relativeFile)?.[1] as Visibility | undefined) ?? 'public';
}

/** An asset's URL path: the file's path below assets/, its visibility mark dropped. */
export function assetUrlPath(relativeFile: string): string {
  return '/' + relativeFile.split('\\').join('/').replace(VISIBILITY_MARK, '');
}

/** A function's URL path: as an asset's, without the file's extension. */
export function functionUrlPath(relativeFile: string): string {
  return assetUrlPath(relativeFile).replace(/\.[^./]+$/, '');
}
