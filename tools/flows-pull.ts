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
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TwilioClient } from '../src/lib/twilio/client';
import { flowSidPlaceholderName } from '../studio/project-subflows';
import { collectValues, DeployFlowsError, FLOW_VALUE_OPTIONS, flowsClient } from './deploy-flows';
import { readEnvFile } from '../dev/env-file';
import { USER_ENV_FILE } from '../dev/paths';
import { projectFlowFiles } from '../dev/paths';

/** What is left in a definition that looks like a deployment's value. */
const DEPLOYED_LOOKING = /[a-z0-9-]+(?:\.[a-z0-9-]+)*\.twil\.io|\b(?:ZS|ZE|ZH|WW|FW)[0-9a-f]{32}\b/g;

export interface PulledFlow {
  file: string;
  sid: string;
  revision: number;
  status: string;
  /** The file's content before and after (undefined: there was none). */
  before: string | undefined;
  after: string;
  /** Deployment-looking values left in, which no placeholder stands for. */
  leftOver: string[];
}

/** Turns each value back into its `__NAME__` placeholder in every string (longest value first). */
export function restorePlaceholders(value: unknown, values: Record<string, string>): unknown {
  const pairs = Object.entries(values)
    .filter(([, v]) => v !== '')
    .sort((a, b) => b[1].length - a[1].length);
  const restore = (text: string) => pairs.reduce((out, [name, v]) => out.split(v).join(`__${name}__`), text);
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return restore(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, walk(v)]));
    return item;
  };
  return walk(value);
}

/** The file text a definition is kept as in flows/ (two-space JSON, a final newline). */
export function flowFileText(definition: unknown): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

export interface PullOptions {
  client: TwilioClient;
  /** Flow files to pull into (their names pick the flows). */
  files: string[];
  values: Record<string, string>;
  namePrefix: string;
  /** Where to write (default: each file where it is). */
  outDir?: string;
  log?: (line: string) => void;
}

export async function pullFlows(options: PullOptions): Promise<PulledFlow[]> {
  const log = options.log ?? (() => undefined);
  const existing = await options.client.studio.v2.flows.list();
  // A subflow's SID goes back to __FLOW_SID_<FILE>__: every flow named "<prefix> <file>" counts.
  const values: Record<string, string> = {};
  const prefix = options.namePrefix ? `${options.namePrefix} ` : '';
  for (const flow of existing) {
    const stem = flow.friendlyName.startsWith(prefix) ? flow.friendlyName.slice(prefix.length) : undefined;
    if (stem && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stem)) values[flowSidPlaceholderName(`${stem}.json`)] ??= flow.sid;
  }
  Object.assign(values, options.values);
  const pulled: PulledFlow[] = [];
  for (const file of options.files) {
    const friendlyName = `${options.namePrefix} ${path.basename(file, '.json')}`.trim();
    const matches = existing.filter((flow) => flow.friendlyName === friendlyName);
    if (matches.length === 0)
      throw new DeployFlowsError(
        `no flow is named "${friendlyName}" (for ${path.basename(file)}): deploy it with npm run deploy:flows first, or pass --name-prefix`,
      );
    if (matches.length > 1)
      throw new DeployFlowsError(
        `several flows are named "${friendlyName}" (${matches.map((m) => m.sid).join(', ')}); rename or delete all but one`,
      );
    const flow = await options.client.studio.v2.flows(matches[0]!.sid).fetch();
    const definition = restorePlaceholders(flow.definition, values);
    const after = flowFileText(definition);
    const target = options.outDir ? path.join(options.outDir, path.basename(file)) : file;
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    const leftOver = [...new Set(after.match(DEPLOYED_LOOKING) ?? [])];
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, after);
    pulled.push({ file: target, sid: flow.sid, revision: flow.revision, status: flow.status, before, after, leftOver });
    log(
      `${before === after ? 'unchanged' : 'updated  '} ${path.relative(process.cwd(), target) || target} from ${flow.sid} (revision ${flow.revision}, ${flow.status})`,
    );
    if (flow.status !== 'published')
      log(`  note: revision ${flow.revision} is a draft: it is not what calls run until it is published`);
    for (const value of leftOver)
      log(
        `  note: ${value} is left as it is: no placeholder was given for it (pass the value flags deploy:flows took)`,
      );
  }
  return pulled;
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: flags, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...FLOW_VALUE_OPTIONS,
      'out-dir': { type: 'string' },
    },
  });
  const files = positionals.length > 0 ? positionals.map((file) => path.resolve(file)) : projectFlowFiles();
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
  const env = { ...readEnvFile(USER_ENV_FILE), ...process.env };
  main(process.argv.slice(2), env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(
        error instanceof DeployFlowsError
          ? error.message
          : `flows:pull failed: ${(error as Error).message ?? String(error)}`,
      );
      process.exit(1);
    },
  );
}
