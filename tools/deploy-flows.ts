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
import path from 'node:path';
import type { EmulatorHandle } from '../dev/emulator-loader';
import { parseFlowsCommand, runFlowsCommand } from '../dev/flows/cli';
import { openFlowsTarget } from '../dev/flows/client';
import { deployFlows, restMessage, wireNumber, type DeployedFlow } from '../dev/flows/deploy';
import { prepareFlows, voiceFlowOf, withSubflowFiles, type FlowFile } from '../dev/flows/flow-files';
import { DeployFlowsError, placeholdersIn } from '../dev/flows/placeholders';
import { collectValues, rehearsalValues } from '../dev/flows/values';

/** The options of deploy:flows besides the value options it shares with flows:pull. */
const DEPLOY_OPTIONS = {
  'commit-message': { type: 'string' },
  'dry-run': { type: 'boolean' },
  number: { type: 'string' },
  rehearse: { type: 'boolean' },
} as const;

type DeployFlags = ReturnType<typeof parseFlowsCommand<typeof DEPLOY_OPTIONS>>['flags'];

const E164 = /^\+[1-9]\d{6,14}$/;

interface Plan {
  flows: FlowFile[];
  /** The --number given, in E.164, and the flow to wire it to. */
  number?: string;
  voiceFlow?: FlowFile;
}

/** --number as E.164 (spaces, dots, dashes and parentheses dropped); a malformed one stops here. */
function parseNumber(flag: string | undefined): string | undefined {
  const number = flag?.replace(/[\s().-]/g, '');
  if (number !== undefined && !E164.test(number))
    throw new DeployFlowsError(`--number must be an E.164 number such as +14155550100, got "${flag}"`);
  return number;
}

/** Step 1: the files (with the subflows they run) and their filled flows, each note printed. */
function plan(flags: DeployFlags, given: string[], env: Record<string, string | undefined>): Plan {
  const number = parseNumber(flags.number);
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
  return { flows, number, voiceFlow: number !== undefined ? voiceFlowOf(flows) : undefined };
}

function printWebhooks(deployed: DeployedFlow[]): void {
  console.log(
    '\nPoint a phone number at a flow (Phone Numbers > the number > "A call comes in" / "A message comes in" > Webhook), or use --number:',
  );
  for (const flow of deployed) console.log(`  ${flow.friendlyName.padEnd(28)} ${flow.webhookUrl}`);
}

/** The rehearsal's verdict: every request as Twilio's specs describe (0), or not (1). */
function reportRehearsal(emulator: EmulatorHandle): number {
  const violations = emulator.violations();
  for (const v of violations)
    console.error(`rehearsal: ${v.method} ${v.path} departs from Twilio's spec: ${v.problems.join('; ')}`);
  console.log(
    `rehearsal: ${emulator.stats().total ?? 0} requests, ${violations.length === 0 ? "all as Twilio's specs describe" : `${violations.length} departing from Twilio's specs`}`,
  );
  return violations.length > 0 ? 1 : 0;
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { flags, files } = parseFlowsCommand(argv, DEPLOY_OPTIONS);
  const { flows, number, voiceFlow } = plan(flags, files, env);
  const target = await openFlowsTarget({
    rehearse: flags.rehearse,
    env,
    apiBaseUrl: flags['api-base-url'] ?? env.TWILIO_API_BASE_URL,
    phoneNumber: number,
    onEmulator: (emulator) =>
      console.log(
        `Rehearsing against a local Twilio emulator at ${emulator.url} (requests checked against Twilio's specs; nothing leaves this machine).`,
      ),
  });
  try {
    const { client } = target;
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
        deployed.find((flow) => flow.file === voiceFlow.file)!,
      );
      console.log(`\nwired    ${wired.phoneNumber} (${wired.sid}) to ${wired.flow}:`);
      console.log(`  A call comes in      POST ${wired.voiceUrl}`);
      console.log(`  Call status changes  POST ${wired.statusCallback}`);
    } else {
      printWebhooks(deployed);
    }
    return target.emulator ? reportRehearsal(target.emulator) : 0;
  } finally {
    await target.close();
  }
}

if (require.main === module) {
  runFlowsCommand(main, (error) =>
    error instanceof DeployFlowsError ? error.message : `deploy:flows failed: ${restMessage(error)}`,
  );
}
