/**
 * `npm run deploy [-- --rehearse] [-- twilio-run deploy flags]`
 *
 * 1. Preflight (dev/deploy/preflight.ts): runtime vs @twilio/runtime-handler, local Node,
 *    credentials, the .env keys that would become Variables, Twilio's limits, visibility.
 *    Any refusal stops here, before anything is uploaded.
 * 2. Builds dist/, then runs `twilio-run deploy` from the project root. Folders, runtime and
 *    service name come from .twilioserverlessrc; the uploaded Variables from .env.
 *    With --rehearse, the same `twilio-run deploy` runs against a local stand-in of the
 *    Serverless API instead (dev/deploy/rehearse.ts) and ends with the stand-in's domain.
 *
 * Credentials: ACCOUNT_SID and AUTH_TOKEN from .env, or else from the shell environment (an API
 * key SID SK... and its secret work too). A rehearsal needs none.
 * --project-dir DIR deploys another copy of the project as it is (no build).
 */
import { parseDeployArgs, runDeploy } from '../dev/deploy/run';

async function main(argv: string[]): Promise<number> {
  const parsed = parseDeployArgs(argv);
  if ('error' in parsed) {
    console.error(parsed.error);
    return 2;
  }
  return runDeploy({ ...parsed, out: (line) => console.log(line), err: (line) => console.error(line) });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`deploy failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
