/**
 * `npm run flows:pull -- [options] [flow files...]`: brings the flows published by
 * `npm run deploy:flows` (and perhaps edited in the Console since) back into flows/*.json, with
 * the deployment's values turned back into the placeholders deploy:flows fills
 * (`__SERVICE_DOMAIN__`, `__SERVICE_SID__`, `__ENVIRONMENT_SID__`, `__FUNCTION_SID_*__`,
 * `__FLEX_WORKFLOW_SID__`, and `__FLOW_SID_<FILE>__` for the SID of a subflow deployed from
 * flows/<file>.json, found by its friendly name), so `deploy:flows` then `flows:pull` changes
 * nothing in git.
 *
 * Each file is matched to the flow with its friendly name ("<prefix> <file name>", as
 * deploy:flows names them) and written with the flow's current definition (the latest revision,
 * as the Console shows it; a draft is pulled with a note). The values come from the same flags,
 * environment and .env as deploy:flows. A value the pull cannot turn back (a domain or SID it was
 * not told about) stays as it is and is named.
 *
 * Options: the value flags of deploy:flows (--service-domain, --service-sid, --environment-sid,
 * --function-sid /path=ZH..., --flex-workflow-sid, --set NAME=VALUE), --name-prefix P,
 * --api-base-url URL (the emulator), --out-dir DIR (default flows/).
 */
import path from 'node:path';
import { parseFlowsCommand, runFlowsCommand } from '../dev/flows/cli';
import { flowsClient } from '../dev/flows/client';
import { DeployFlowsError } from '../dev/flows/placeholders';
import { pullFlows } from '../dev/flows/pull';
import { collectValues } from '../dev/flows/values';

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { flags, files } = parseFlowsCommand(argv, { 'out-dir': { type: 'string' } });
  const { client } = flowsClient(env, flags['api-base-url'] ?? env.TWILIO_API_BASE_URL);
  const pulled = await pullFlows({
    client,
    files,
    values: collectValues(flags, env),
    namePrefix: flags['name-prefix'] ?? 'studio-async',
    outDir: flags['out-dir'] ? path.resolve(flags['out-dir']) : undefined,
    log: (line) => console.log(line),
  });
  const changed = pulled.filter((p) => p.before !== p.after).length;
  console.log(
    changed === 0
      ? 'every flow matches its file'
      : `${changed} file${changed === 1 ? '' : 's'} changed: review with git diff`,
  );
  return 0;
}

if (require.main === module) {
  runFlowsCommand(main, (error) =>
    error instanceof DeployFlowsError
      ? error.message
      : `flows:pull failed: ${(error as Error).message ?? String(error)}`,
  );
}
