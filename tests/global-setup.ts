import { build } from '../dev/build';

/** Builds dist/ once for the whole suite: tests exercise what would be deployed. */
export default async function globalSetup(): Promise<void> {
  await build();
}
