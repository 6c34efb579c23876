/**
 * Bringing published flows back into their files (`npm run flows:pull`, tools/flows-pull.ts):
 * each file gets the current definition of the flow of its friendly name, with the deployment's
 * values turned back into the placeholders `npm run deploy:flows` fills.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TwilioClient } from '../../src/lib/twilio/client';
import { flowSidPlaceholderName } from '../../studio/project-subflows';
import { flowNamed, type AccountFlow } from './client';
import { flowFriendlyName } from './flow-files';
import { DeployFlowsError, restorePlaceholders } from './placeholders';

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

/** A subflow's SID goes back to __FLOW_SID_<FILE>__: every flow named "<prefix> <file>" counts. */
function subflowSids(existing: AccountFlow[], namePrefix: string): Record<string, string> {
  const values: Record<string, string> = {};
  const prefix = namePrefix ? `${namePrefix} ` : '';
  for (const flow of existing) {
    const stem = flow.friendlyName.startsWith(prefix) ? flow.friendlyName.slice(prefix.length) : undefined;
    if (stem && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stem)) values[flowSidPlaceholderName(`${stem}.json`)] ??= flow.sid;
  }
  return values;
}

/** The one flow of the file's friendly name. */
function flowFor(file: string, existing: AccountFlow[], namePrefix: string): AccountFlow {
  const friendlyName = flowFriendlyName(namePrefix, file);
  const flow = flowNamed(existing, friendlyName);
  if (!flow)
    throw new DeployFlowsError(
      `no flow is named "${friendlyName}" (for ${path.basename(file)}): deploy it with npm run deploy:flows first, or pass --name-prefix`,
    );
  return flow;
}

function logPulled(pulled: PulledFlow, log: (line: string) => void): void {
  log(
    `${pulled.before === pulled.after ? 'unchanged' : 'updated  '} ${path.relative(process.cwd(), pulled.file) || pulled.file} from ${pulled.sid} (revision ${pulled.revision}, ${pulled.status})`,
  );
  if (pulled.status !== 'published')
    log(`  note: revision ${pulled.revision} is a draft: it is not what calls run until it is published`);
  for (const value of pulled.leftOver)
    log(`  note: ${value} is left as it is: no placeholder was given for it (pass the value flags deploy:flows took)`);
}

export async function pullFlows(options: PullOptions): Promise<PulledFlow[]> {
  const log = options.log ?? (() => undefined);
  const existing = await options.client.studio.v2.flows.list();
  const values = { ...subflowSids(existing, options.namePrefix), ...options.values };
  const pulled: PulledFlow[] = [];
  for (const file of options.files) {
    const { sid } = flowFor(file, existing, options.namePrefix);
    const flow = await options.client.studio.v2.flows(sid).fetch();
    const after = flowFileText(restorePlaceholders(flow.definition, values));
    const target = options.outDir ? path.join(options.outDir, path.basename(file)) : file;
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    const leftOver = [...new Set(after.match(DEPLOYED_LOOKING) ?? [])];
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, after);
    const entry = { file: target, sid: flow.sid, revision: flow.revision, status: flow.status, before, after, leftOver };
    pulled.push(entry);
    logPulled(entry, log);
  }
  return pulled;
}
