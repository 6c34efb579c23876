/**
 * Publishing the filled flows through the Studio REST API v2, and wiring a phone number to the
 * voice flow (IncomingPhoneNumbers). What `npm run deploy:flows` (tools/deploy-flows.ts) runs.
 */
import type RestException from 'twilio/lib/base/RestException';
import { fixedSid } from '../../emulator/sids';
import type { TwilioClient } from '../../src/lib/twilio/client';
import { flowNamed, type AccountFlow } from './client';
import { deployOrder, ownSidName, type FlowFile } from './flow-files';
import { DeployFlowsError, fillPlaceholders, isFlowSidName, placeholdersIn } from './placeholders';

export interface DeployedFlow {
  file: string;
  friendlyName: string;
  sid: string;
  action: 'created' | 'updated';
  revision: number;
  webhookUrl: string;
}

export interface DeployFlowsOptions {
  client: TwilioClient;
  flows: FlowFile[];
  commitMessage?: string;
  dryRun?: boolean;
  log?: (line: string) => void;
}

type Studio = TwilioClient['studio']['v2'];

/** A stand-in SID of the right shape for a subflow that is not created yet (validation only). */
const STAND_IN_FLOW_SID = fixedSid('FW');

/** Twilio's message for a failed request, with each problem its details name. */
export function restMessage(error: unknown): string {
  const rest = error as Partial<RestException>;
  const details = rest.details as { errors?: Array<{ message?: string; property_path?: string }> } | undefined;
  const lines = [rest.message ?? String(error)];
  for (const problem of details?.errors ?? []) lines.push(`  ${problem.property_path ?? ''}: ${problem.message ?? ''}`);
  return lines.join('\n');
}

/** The SIDs known before anything changes: flows of this run that exist already (one of a name). */
function knownSidsOf(flows: FlowFile[], existing: AccountFlow[]): Record<string, string> {
  const knownSids: Record<string, string> = {};
  for (const flow of flows) {
    const matches = existing.filter((candidate) => candidate.friendlyName === flow.friendlyName);
    if (matches.length === 1) knownSids[ownSidName(flow)] = matches[0]!.sid;
  }
  return knownSids;
}

/**
 * The definition with `__FLOW_SID_*__` filled from `sids`. A placeholder `sids` does not fill
 * gets the stand-in SID when `standIns` is given (the flow is recorded there), else it is an
 * error.
 */
function withFlowSids(flow: FlowFile, sids: Record<string, string>, standIns?: Set<string>): unknown {
  const values: Record<string, string> = { ...sids };
  for (const name of placeholdersIn(flow.definition)) {
    if (!isFlowSidName(name) || values[name]) continue;
    if (!standIns) throw new DeployFlowsError(`${flow.file}: __${name}__ is not filled: its flow was not deployed first`);
    values[name] = STAND_IN_FLOW_SID;
    standIns.add(flow.file);
  }
  return fillPlaceholders(flow.definition, values);
}

/** Studio's FlowValidate on one definition; an invalid one stops everything with Studio's words. */
async function validateFlow(studio: Studio, flow: FlowFile, definition: unknown, log: (line: string) => void) {
  try {
    await studio.flowValidate.update({ friendlyName: flow.friendlyName, status: 'published', definition });
    log(`valid    ${flow.friendlyName} (${flow.file})`);
  } catch (error) {
    const invalid = (error as Partial<RestException>).status === 400;
    throw new DeployFlowsError(
      invalid
        ? `Studio says ${flow.file} is not valid; nothing was created or changed.\n${restMessage(error)}`
        : `could not validate ${flow.file} (nothing was created or changed): ${restMessage(error)}`,
    );
  }
}

/** Creates the flow, or updates `match` (the one of its name), as published. */
async function publishFlow(
  studio: Studio,
  flow: FlowFile,
  match: AccountFlow | undefined,
  definition: unknown,
  commitMessage: string | undefined,
): Promise<DeployedFlow> {
  const change = { status: 'published' as const, definition, commitMessage };
  const result = match
    ? await studio.flows(match.sid).update({ ...change, friendlyName: flow.friendlyName })
    : await studio.flows.create({ ...change, friendlyName: flow.friendlyName });
  return {
    file: flow.file,
    friendlyName: flow.friendlyName,
    sid: result.sid,
    action: match ? 'updated' : 'created',
    revision: result.revision,
    webhookUrl: `https://webhooks.twilio.com/v1/Accounts/${result.accountSid}/Flows/${result.sid}`,
  };
}

/**
 * Validates every flow, then creates or updates each one, published: subflows first, each
 * parent with its subflow's SID in place of `__FLOW_SID_*__`.
 */
export async function deployFlows(options: DeployFlowsOptions): Promise<DeployedFlow[]> {
  const studio = options.client.studio.v2;
  const flows = deployOrder(options.flows);
  const log = options.log ?? (() => undefined);
  const needsSids = flows.some((flow) => [...placeholdersIn(flow.definition)].some(isFlowSidName));
  const existing = needsSids || !options.dryRun ? await studio.flows.list() : [];

  const knownSids = knownSidsOf(flows, existing);
  const standIns = new Set<string>();
  for (const flow of flows) await validateFlow(studio, flow, withFlowSids(flow, knownSids, standIns), log);
  if (options.dryRun) return [];

  const deployedSids: Record<string, string> = {};
  const deployed: DeployedFlow[] = [];
  for (const flow of flows) {
    const match = flowNamed(existing, flow.friendlyName);
    const definition = withFlowSids(flow, deployedSids);
    if (standIns.has(flow.file)) await validateFlow(studio, flow, definition, log); // now with its subflow's real SID
    const entry = await publishFlow(studio, flow, match, definition, options.commitMessage);
    deployedSids[ownSidName(flow)] = entry.sid;
    deployed.push(entry);
    log(`${entry.action.padEnd(8)} ${entry.friendlyName}: ${entry.sid} (revision ${entry.revision}, published)`);
  }
  return deployed;
}

export interface WiredNumber {
  phoneNumber: string;
  sid: string;
  flow: string;
  voiceUrl: string;
  statusCallback: string;
}

/**
 * Points the account's number at the flow: "A call comes in" and "Call status changes" both to
 * the flow's webhook, POST (IncomingPhoneNumbers update). The number must be on the account.
 */
export async function wireNumber(client: TwilioClient, phoneNumber: string, flow: DeployedFlow): Promise<WiredNumber> {
  const found = await client.incomingPhoneNumbers.list({ phoneNumber });
  const exact = found.filter((n) => n.phoneNumber === phoneNumber);
  if (exact.length === 0)
    throw new DeployFlowsError(
      `--number ${phoneNumber} is not a number of this account (Phone Numbers > Active numbers); the flows are published, nothing was wired`,
    );
  const updated = await client.incomingPhoneNumbers(exact[0]!.sid).update({
    voiceUrl: flow.webhookUrl,
    voiceMethod: 'POST',
    statusCallback: flow.webhookUrl,
    statusCallbackMethod: 'POST',
  });
  return {
    phoneNumber,
    sid: updated.sid,
    flow: flow.friendlyName,
    voiceUrl: updated.voiceUrl,
    statusCallback: updated.statusCallback,
  };
}
