/**
 * `npm run build`: builds the deployable service into dist/ (dev/build.ts) and prints what was
 * written.
 *
 * Run: npx tsx tools/build.ts
 */
import { build } from '../dev/build';

build({ log: true }).catch((err: unknown) => {
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
