/**
 * `npm run deploy:flows -- [options] [flow files...]`: publishes the Studio Flows in flows/*.json
 * (or the files given) to your account through the Studio REST API v2.
 *
 * 1. Reads each flow and fills its placeholders (`__SERVICE_DOMAIN__`, `__SERVICE_SID__`,
 *    `__ENVIRONMENT_SID__`, `__FUNCTION_SID_*__`, optional `__FLEX_WORKFLOW_SID__`) from flags,
 *    else the environment, else .env. Anything missing stops here, before any request.
 *    `__FLOW_SID_<FILE>__` (a Run Subflow's `flow_sid`, studio/project-subflows.ts) is the SID
 *    of the flow deployed from that file: the file is deployed in the same run (added from beside
 *    the parent when not named), unless `--set FLOW_SID_<FILE>=FW...` gives the SID.
 * 2. Asks Studio to validate every filled flow (FlowValidate); an invalid one stops everything
 *    with Studio's message, before any flow is created or changed. A subflow not created yet is
 *    named by a stand-in SID of the right shape there, and the parent is validated again with
 *    the real SID before it is created (whether FlowValidate looks the SID up is not known).
 * 3. Creates each flow, or updates the one with the same friendly name, as `published`:
 *    subflows first, so each parent is published with its subflow's SID filled in.
 * 4. Prints the webhook URL to set on a phone number, or with --number sets it: the number's voice
 *    URL and its call-status callback both go to the voice flow's webhook (IncomingPhoneNumbers
 *    update), so Studio hears of a hang-up during a long hold.
 *
 * --rehearse runs the same steps against a Twilio emulator started for the run (every request
 * and reply checked against twilio_studio_v2.json and twilio_api_v2010.json); placeholders not
 * given get made-up values of the right shape, and the account starts with the --number named.
 *
 * Options:
 *   --service-domain D      e.g. studio-async-1234-dev.twil.io      (env SERVICE_DOMAIN)
 *   --service-sid ZS...                                             (env SERVICE_SID)
 *   --environment-sid ZE...                                         (env ENVIRONMENT_SID)
 *   --function-sid /jobs/start=ZH...   (repeatable)                 (env FUNCTION_SID_JOBS_START, ...)
 *   --flex-workflow-sid WW...  optional: turns on the Flex fallback (env FLEX_WORKFLOW_SID)
 *   --set NAME=VALUE        any other __NAME__ placeholder (repeatable)
 *   --name-prefix P         friendly names are "P <file name>" (default "studio-async")
 *   --api-base-url URL      talk to the local emulator instead of Twilio (env TWILIO_API_BASE_URL)
 *   --dry-run               fill and validate only
 *   --number +1...          wire this number of the account to the voice flow
 *   --rehearse              against a local emulator; nothing leaves this machine
 * Credentials: ACCOUNT_SID and AUTH_TOKEN from the environment or .env.
 */
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type RestException from 'twilio/lib/base/RestException';
import { loadConfig } from '../src/lib/config';
import { createTwilioClient, type TwilioClient } from '../src/lib/twilio/client';
import { functionSidPlaceholder, listServiceFunctions } from '../studio/checker/service-functions';
import { flowFileForPlaceholder, flowSidPlaceholderName } from '../studio/project-subflows';
import { hasRealCredentials, LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../dev/credentials';
import { loadStartEmulator, type EmulatorHandle } from '../dev/emulator-loader';
import { readEnvFile } from '../dev/env-file';
import { FUNCTIONS_SRC_DIR, USER_ENV_FILE } from '../dev/paths';
import { projectFlowFiles } from '../dev/paths';

const PLACEHOLDER = /__([A-Z][A-Z0-9_]*?)__/g;
const OPTIONAL_PLACEHOLDERS = new Set(['FLEX_WORKFLOW_SID']);
/** What a placeholder's value must look like, by name. */
const VALUE_FORMATS: Array<[RegExp, RegExp, string]> = [
  [/^SERVICE_SID$/, /^ZS[0-9a-fA-F]{32}$/, 'ZS + 32 hex digits'],
  [/^ENVIRONMENT_SID$/, /^ZE[0-9a-fA-F]{32}$/, 'ZE + 32 hex digits'],
  [/^FUNCTION_SID_/, /^ZH[0-9a-fA-F]{32}$/, 'ZH + 32 hex digits'],
  [/^FLEX_WORKFLOW_SID$/, /^WW[0-9a-fA-F]{32}$/, 'WW + 32 hex digits'],
  [/^FLOW_SID_/, /^FW[0-9a-fA-F]{32}$/, 'FW + 32 hex digits'],
  [
    /^SERVICE_DOMAIN$/,
    /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i,
    'a domain name without scheme, e.g. studio-async-1234-dev.twil.io',
  ],
];
const FLAG_FOR: Record<string, string> = {
  SERVICE_DOMAIN: '--service-domain',
  SERVICE_SID: '--service-sid',
  ENVIRONMENT_SID: '--environment-sid',
  FLEX_WORKFLOW_SID: '--flex-workflow-sid',
};

export class DeployFlowsError extends Error {}

export interface FlowFile {
  file: string;
  friendlyName: string;
  /** Filled, except `__FLOW_SID_*__` of flows deployed in the same run (filled at deploy time). */
  definition: unknown;
}

/** The placeholder name (`FLOW_SID_HOLD_SUBFLOW`) that stands for this file's deployed SID. */
const ownSidName = (flow: FlowFile) => flowSidPlaceholderName(flow.file);

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

/** `__NAME__` placeholders in a JSON value, by NAME. */
export function placeholdersIn(value: unknown): Set<string> {
  const found = new Set<string>();
  JSON.stringify(value).replace(PLACEHOLDER, (_whole, name: string) => {
    found.add(name);
    return '';
  });
  return found;
}

/** How to give a placeholder's value, for error messages. */
function howToSet(name: string): string {
  if (FLAG_FOR[name]) return `${FLAG_FOR[name]} or ${name}`;
  if (name.startsWith('FLOW_SID_'))
    return `--set ${name}=FW... or ${name} (or deploy the subflow's file in the same run)`;
  if (name.startsWith('FUNCTION_SID_')) {
    const functionPath =
      (listServiceFunctions(FUNCTIONS_SRC_DIR) ?? []).find((p) => functionSidPlaceholder(p) === `__${name}__`) ??
      '/path';
    return `--function-sid ${functionPath}=ZH... or ${name}`;
  }
  return `--set ${name}=... or ${name}`;
}

/** Replaces every filled placeholder in every string of the definition. */
function fill(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
  if (Array.isArray(value)) return value.map((item) => fill(item, values));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  return value;
}

/**
 * Reads the flow files and fills their placeholders. Throws DeployFlowsError naming every value
 * that is missing or malformed, so nothing is sent to Twilio half-filled.
 */
export function prepareFlows(files: string[], values: Record<string, string>, namePrefix: string): FlowFile[] {
  const problems: string[] = [];
  const deployedHere = new Set(files.map((file) => flowSidPlaceholderName(file)));
  const flows = files.map((file) => {
    let definition: unknown;
    try {
      definition = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new DeployFlowsError(`${file}: cannot read the flow: ${(error as Error).message}`);
    }
    for (const name of placeholdersIn(definition)) {
      const value = values[name];
      if ((value === undefined || value === '') && deployedHere.has(name)) continue; // filled when that flow is deployed
      if (value === undefined || value === '') {
        if (!OPTIONAL_PLACEHOLDERS.has(name))
          problems.push(`${path.basename(file)} needs __${name}__: set ${howToSet(name)}`);
        continue;
      }
      const format = VALUE_FORMATS.find(([namePattern]) => namePattern.test(name));
      if (format && !format[1].test(value)) problems.push(`${name} must be ${format[2]}, got "${value}"`);
    }
    return {
      file,
      friendlyName: `${namePrefix} ${path.basename(file, '.json')}`.trim(),
      definition: fill(definition, values),
    };
  });
  if (problems.length > 0) throw new DeployFlowsError([...new Set(problems)].join('\n'));
  return flows;
}

/**
 * The files to deploy: `files` plus, for each `__FLOW_SID_<FILE>__` they use that no value
 * fills, the flow file it stands for beside them (studio/project-subflows.ts), added once.
 */
export function withSubflowFiles(
  files: string[],
  values: Record<string, string>,
): { files: string[]; added: string[] } {
  const all = [...files];
  const added: string[] = [];
  for (let i = 0; i < all.length; i++) {
    let definition: unknown;
    try {
      definition = JSON.parse(fs.readFileSync(all[i]!, 'utf8'));
    } catch {
      continue; // prepareFlows names the file
    }
    for (const name of placeholdersIn(definition)) {
      if (!name.startsWith('FLOW_SID_') || values[name]) continue;
      const file = flowFileForPlaceholder(`__${name}__`, path.dirname(all[i]!));
      if (file && !all.some((known) => path.resolve(known) === path.resolve(file))) {
        all.push(file);
        added.push(file);
      }
    }
  }
  return { files: all, added };
}

/** Subflows before the flows that run them (by `__FLOW_SID_*__`), otherwise in the order given. */
export function deployOrder(flows: FlowFile[]): FlowFile[] {
  const used = new Set(
    flows.flatMap((flow) => [...placeholdersIn(flow.definition)].filter((name) => name.startsWith('FLOW_SID_'))),
  );
  return [
    ...flows.filter((flow) => used.has(ownSidName(flow))),
    ...flows.filter((flow) => !used.has(ownSidName(flow))),
  ];
}

/** A stand-in SID of the right shape for a subflow that is not created yet (validation only). */
const STAND_IN_FLOW_SID = `FW${'0'.repeat(32)}`;

function restMessage(error: unknown): string {
  const rest = error as Partial<RestException>;
  const details = rest.details as { errors?: Array<{ message?: string; property_path?: string }> } | undefined;
  const lines = [rest.message ?? String(error)];
  for (const problem of details?.errors ?? []) lines.push(`  ${problem.property_path ?? ''}: ${problem.message ?? ''}`);
  return lines.join('\n');
}

/**
 * Validates every flow, then creates or updates each one, published: subflows first, each
 * parent with its subflow's SID in place of `__FLOW_SID_*__`.
 */
export async function deployFlows(options: DeployFlowsOptions): Promise<DeployedFlow[]> {
  const { client } = options;
  const flows = deployOrder(options.flows);
  const log = options.log ?? (() => undefined);
  const studio = client.studio.v2;
  const needsSids = flows.some((flow) =>
    [...placeholdersIn(flow.definition)].some((name) => name.startsWith('FLOW_SID_')),
  );
  const existing = needsSids || !options.dryRun ? await studio.flows.list() : [];
  const matchesOf = (flow: FlowFile) => existing.filter((candidate) => candidate.friendlyName === flow.friendlyName);
  /** The SIDs known before anything changes: flows of this run that exist already. */
  const knownSids: Record<string, string> = {};
  for (const flow of flows) {
    const [match, ...more] = matchesOf(flow);
    if (match && more.length === 0) knownSids[ownSidName(flow)] = match.sid;
  }
  const standIns = new Set<string>();
  const withSids = (flow: FlowFile, sids: Record<string, string>, standIn: boolean) => {
    const values: Record<string, string> = { ...sids };
    for (const name of placeholdersIn(flow.definition)) {
      if (!name.startsWith('FLOW_SID_') || values[name]) continue;
      if (!standIn)
        throw new DeployFlowsError(`${flow.file}: __${name}__ is not filled: its flow was not deployed first`);
      values[name] = STAND_IN_FLOW_SID;
      standIns.add(flow.file);
    }
    return fill(flow.definition, values);
  };
  const validate = async (flow: FlowFile, definition: unknown) => {
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
  };

  for (const flow of flows) await validate(flow, withSids(flow, knownSids, true));
  if (options.dryRun) return [];

  const deployedSids: Record<string, string> = {};
  const deployed: DeployedFlow[] = [];
  for (const flow of flows) {
    const matches = matchesOf(flow);
    if (matches.length > 1) {
      throw new DeployFlowsError(
        `several flows are named "${flow.friendlyName}" (${matches.map((m) => m.sid).join(', ')}); rename or delete all but one`,
      );
    }
    const definition = withSids(flow, deployedSids, false);
    if (standIns.has(flow.file)) await validate(flow, definition); // now with its subflow's real SID
    const change = { status: 'published' as const, definition, commitMessage: options.commitMessage };
    const result = matches[0]
      ? await studio.flows(matches[0].sid).update({ ...change, friendlyName: flow.friendlyName })
      : await studio.flows.create({ ...change, friendlyName: flow.friendlyName });
    deployedSids[ownSidName(flow)] = result.sid;
    const entry: DeployedFlow = {
      file: flow.file,
      friendlyName: flow.friendlyName,
      sid: result.sid,
      action: matches[0] ? 'updated' : 'created',
      revision: result.revision,
      webhookUrl: `https://webhooks.twilio.com/v1/Accounts/${result.accountSid}/Flows/${result.sid}`,
    };
    deployed.push(entry);
    log(`${entry.action.padEnd(8)} ${entry.friendlyName}: ${entry.sid} (revision ${entry.revision}, published)`);
  }
  return deployed;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const MADE_UP_PREFIX: Array<[RegExp, string]> = [
  [/^SERVICE_SID$/, 'ZS'],
  [/^ENVIRONMENT_SID$/, 'ZE'],
  [/^FUNCTION_SID_/, 'ZH'],
];

/**
 * For a rehearsal: values of the right shape for the required placeholders the files use and
 * that were not given (a made-up domain and SIDs), and their names.
 */
export function rehearsalValues(
  files: string[],
  given: Record<string, string>,
): { values: Record<string, string>; madeUp: string[] } {
  const values = { ...given };
  const madeUp: string[] = [];
  for (const file of files) {
    let definition: unknown;
    try {
      definition = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // prepareFlows names the file
    }
    for (const name of placeholdersIn(definition)) {
      if (values[name] || OPTIONAL_PLACEHOLDERS.has(name)) continue;
      const prefix = MADE_UP_PREFIX.find(([pattern]) => pattern.test(name))?.[1];
      if (name === 'SERVICE_DOMAIN') values[name] = `studio-async-${randomInt(1000, 10000)}-dev.twil.io`;
      else if (prefix) values[name] = prefix + randomBytes(16).toString('hex');
      else continue;
      madeUp.push(name);
    }
  }
  return { values, madeUp };
}

/** The flow a phone call goes to: the one whose Trigger answers incomingCall. */
export function voiceFlowOf(flows: FlowFile[]): FlowFile {
  const answersCalls = flows.filter((flow) => {
    const definition = flow.definition as {
      initial_state?: string;
      states?: Array<{ name: string; transitions?: Array<{ event: string; next?: string }> }>;
    };
    const trigger = definition.states?.find((state) => state.name === definition.initial_state);
    return Boolean(trigger?.transitions?.some((t) => t.event === 'incomingCall' && t.next));
  });
  if (answersCalls.length !== 1) {
    throw new DeployFlowsError(
      answersCalls.length === 0
        ? '--number: none of these flows answers incoming calls'
        : `--number: several flows answer incoming calls (${answersCalls.map((f) => path.basename(f.file)).join(', ')}): deploy the one to wire on its own`,
    );
  }
  return answersCalls[0] as FlowFile;
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

/** The placeholder values from flags, the environment and .env, in that order of precedence. */
export function collectValues(
  flags: Record<string, string | string[] | boolean | undefined>,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value && (key in FLAG_FOR || key.startsWith('FUNCTION_SID_') || key.startsWith('FLOW_SID_')))
      values[key] = value;
  }
  for (const [name, flag] of Object.entries(FLAG_FOR)) {
    const value = flags[flag.slice(2)];
    if (typeof value === 'string') values[name] = value;
  }
  for (const pair of (flags['function-sid'] as string[] | undefined) ?? []) {
    const [functionPath, sid] = pair.split('=');
    if (!functionPath || !sid) throw new DeployFlowsError(`--function-sid takes /path=ZH..., got "${pair}"`);
    values[functionSidPlaceholder(functionPath).slice(2, -2)] = sid;
  }
  for (const pair of (flags.set as string[] | undefined) ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new DeployFlowsError(`--set takes NAME=VALUE, got "${pair}"`);
    values[pair.slice(0, at).replace(/^__|__$/g, '')] = pair.slice(at + 1);
  }
  if (values.SERVICE_DOMAIN)
    values.SERVICE_DOMAIN = values.SERVICE_DOMAIN.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return values;
}

/** The REST client: the account in the environment, or the emulator at apiBaseUrl. */
export function flowsClient(
  env: Record<string, string | undefined>,
  apiBaseUrl?: string,
): { client: TwilioClient; accountSid: string } {
  const real = hasRealCredentials({ ACCOUNT_SID: env.ACCOUNT_SID ?? '', AUTH_TOKEN: env.AUTH_TOKEN ?? '' });
  if (!real && !apiBaseUrl) {
    throw new DeployFlowsError(
      'Publishing flows needs ACCOUNT_SID and AUTH_TOKEN (in .env or the environment). Nothing was sent.',
    );
  }
  const accountSid = real ? env.ACCOUNT_SID! : LOCAL_ACCOUNT_SID;
  const authToken = real ? env.AUTH_TOKEN! : LOCAL_AUTH_TOKEN;
  // Only the credentials and the API base matter here; loadConfig shapes them like the service's.
  const config = loadConfig({ ACCOUNT_SID: accountSid, AUTH_TOKEN: authToken, TWILIO_API_BASE_URL: apiBaseUrl });
  return { client: createTwilioClient(config), accountSid };
}

/** The options that name the values placeholders stand for (shared with flows:pull), and the account's API. */
export const FLOW_VALUE_OPTIONS = {
  'service-domain': { type: 'string' },
  'service-sid': { type: 'string' },
  'environment-sid': { type: 'string' },
  'flex-workflow-sid': { type: 'string' },
  'function-sid': { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  'name-prefix': { type: 'string', default: 'studio-async' },
  'api-base-url': { type: 'string' },
} as const;

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: flags, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...FLOW_VALUE_OPTIONS,
      'commit-message': { type: 'string' },
      'dry-run': { type: 'boolean' },
      number: { type: 'string' },
      rehearse: { type: 'boolean' },
    },
  });
  const given = positionals.length > 0 ? positionals.map((file) => path.resolve(file)) : projectFlowFiles();
  const number = flags.number?.replace(/[\s().-]/g, '');
  if (number !== undefined && !E164.test(number))
    throw new DeployFlowsError(`--number must be an E.164 number such as +14155550100, got "${flags.number}"`);
  let values = collectValues(flags, env);
  const { files, added } = withSubflowFiles(given, values);
  for (const file of added)
    console.log(`note: ${path.relative(process.cwd(), file) || file} is deployed too: a flow runs it as a subflow`);
  if (flags.rehearse) {
    const rehearsal = rehearsalValues(files, values);
    values = rehearsal.values;
    for (const name of rehearsal.madeUp)
      console.log(`rehearsal: __${name}__ not given; using ${values[name]} (made up)`);
  }
  const flows = prepareFlows(files, values, flags['name-prefix'] ?? 'studio-async');
  const missingFlex = flows.some((flow) => placeholdersIn(flow.definition).has('FLEX_WORKFLOW_SID'));
  if (missingFlex)
    console.log('note: no --flex-workflow-sid: the Flex fallback stays off (the caller hears the apology instead)');
  const voiceFlow = number !== undefined ? voiceFlowOf(flows) : undefined;

  let emulator: EmulatorHandle | undefined;
  try {
    if (flags.rehearse) {
      emulator = await loadStartEmulator()({ port: 0, host: '127.0.0.1' });
      console.log(
        `Rehearsing against a local Twilio emulator at ${emulator.url} (requests checked against Twilio's specs; nothing leaves this machine).`,
      );
    }
    const { client } = flowsClient(
      emulator ? {} : env,
      emulator?.url ?? flags['api-base-url'] ?? env.TWILIO_API_BASE_URL,
    );
    if (emulator && number !== undefined) await client.incomingPhoneNumbers.create({ phoneNumber: number });
    const deployed = await deployFlows({
      client,
      flows,
      dryRun: flags['dry-run'],
      commitMessage: flags['commit-message'] ?? 'npm run deploy:flows',
      log: (line) => console.log(line),
    });
    if (flags['dry-run']) {
      console.log('dry run: every flow is valid; nothing was created or changed');
    } else if (number !== undefined && voiceFlow) {
      const wired = await wireNumber(
        client,
        number,
        deployed.find((flow) => flow.file === voiceFlow.file) as DeployedFlow,
      );
      console.log(`\nwired    ${wired.phoneNumber} (${wired.sid}) to ${wired.flow}:`);
      console.log(`  A call comes in      POST ${wired.voiceUrl}`);
      console.log(`  Call status changes  POST ${wired.statusCallback}`);
    } else {
      console.log(
        '\nPoint a phone number at a flow (Phone Numbers > the number > "A call comes in" / "A message comes in" > Webhook), or use --number:',
      );
      for (const flow of deployed) console.log(`  ${flow.friendlyName.padEnd(28)} ${flow.webhookUrl}`);
    }
    if (emulator) {
      const violations = emulator.violations();
      for (const v of violations)
        console.error(`rehearsal: ${v.method} ${v.path} departs from Twilio's spec: ${v.problems.join('; ')}`);
      console.log(
        `rehearsal: ${emulator.stats().total ?? 0} requests, ${violations.length === 0 ? "all as Twilio's specs describe" : `${violations.length} departing from Twilio's specs`}`,
      );
      if (violations.length > 0) return 1;
    }
    return 0;
  } finally {
    await emulator?.close();
  }
}

if (require.main === module) {
  const env = { ...readEnvFile(USER_ENV_FILE), ...process.env };
  main(process.argv.slice(2), env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof DeployFlowsError ? error.message : `deploy:flows failed: ${restMessage(error)}`;
      console.error(message);
      process.exit(1);
    },
  );
}
