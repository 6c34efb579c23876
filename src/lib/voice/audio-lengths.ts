/**
 * How long each audio asset plays, measured when the service is built: dev/build.ts reads
 * every WAV and MP3 under src/assets and hands the bundles a map of asset path to seconds (an
 * esbuild `define`), so a function knows its hold music's length without reading the file.
 */
declare const __STUDIO_ASYNC_AUDIO_SECONDS__: Record<string, number> | undefined;

/** The length assumed when an asset was not measured (not built, or not an asset of this service). */
export const UNMEASURED_AUDIO_SECONDS = 10;

const measured: Record<string, number> =
  typeof __STUDIO_ASYNC_AUDIO_SECONDS__ === 'undefined' ? {} : __STUDIO_ASYNC_AUDIO_SECONDS__;

/** Seconds the asset at `assetPath` (e.g. `/hold-music.wav`) plays. */
export function audioSeconds(assetPath: string): number {
  const seconds = measured[assetPath.startsWith('/') ? assetPath : `/${assetPath}`];
  return typeof seconds === 'number' && seconds > 0 ? seconds : UNMEASURED_AUDIO_SECONDS;
}
