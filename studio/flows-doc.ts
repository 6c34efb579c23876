/**
 * docs/FLOWS.md, generated from flows/*.json: how to import a flow, what each placeholder means,
 * and a Mermaid diagram of each flow.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FlowDefinition } from './flow-model';
import { checkingFlowsSection } from './checker/docs-section';
import { flowToMermaid } from './mermaid';
import { PROJECT_ROOT, projectFlowFiles } from '../dev/paths';
import { flowFileForPlaceholder } from './project-subflows';

export interface NamedFlow {
  /** Path relative to the project root, e.g. `flows/voice-hold.json`. */
  file: string;
  definition: FlowDefinition;
}

const PLACEHOLDER = /__[A-Z][A-Z0-9_]*__/g;

/** What each placeholder stands for; function SID placeholders are described by pattern. */
const PLACEHOLDERS: Record<string, string> = {
  __SERVICE_DOMAIN__:
    'Domain of the deployed Functions service, without scheme (e.g. `studio-async-1234-dev.twil.io`). URLs read `https://__SERVICE_DOMAIN__/jobs/start`.',
  __SERVICE_SID__: 'SID of the Serverless Service (`ZS…`) the Run Function widgets call.',
  __ENVIRONMENT_SID__: 'SID of the Environment (`ZE…`) the functions are deployed to.',
  __FLEX_WORKFLOW_SID__:
    'TaskRouter Workflow SID (`WW…`) for Send to Flex. Left as it is, the `offer_agent` split (which asks whether it starts with `WW`) never routes callers to Flex; set it to turn the Flex fallback on.',
};

const FUNCTION_SID = /^__FUNCTION_SID_([A-Z0-9_]+)__$/;

export function placeholderMeaning(placeholder: string): string | undefined {
  const known = PLACEHOLDERS[placeholder];
  if (known) return known;
  const subflow = flowFileForPlaceholder(placeholder);
  if (subflow) {
    return `SID of the Studio Flow (\`FW…\`) published from \`flows/${path.basename(subflow)}\`, the subflow the Run Subflow widget runs. \`npm run deploy:flows\` publishes it first and fills this in; by hand, import that flow first.`;
  }
  const fn = FUNCTION_SID.exec(placeholder);
  return fn ? "SID of the Function (`ZH…`) that the same widget's `url` calls." : undefined;
}

export function loadProjectFlows(): NamedFlow[] {
  return projectFlowFiles().map((file) => ({
    file: path.relative(PROJECT_ROOT, file).split(path.sep).join('/'),
    definition: JSON.parse(fs.readFileSync(file, 'utf8')) as FlowDefinition,
  }));
}

function placeholdersIn(flows: readonly NamedFlow[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const flow of flows) {
    for (const match of JSON.stringify(flow.definition).matchAll(PLACEHOLDER)) {
      const files = found.get(match[0]) ?? [];
      if (!files.includes(flow.file)) files.push(flow.file);
      found.set(match[0], files);
    }
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}

function triggers(definition: FlowDefinition): string {
  const trigger = definition.states.find((state) => state.type === 'trigger');
  const events = (trigger?.transitions ?? []).filter((t) => t.next !== undefined).map((t) => `\`${t.event}\``);
  return events.join(', ') || '(none)';
}

/** The widgets that call this service, with what they send: one table row each. */
function serviceCalls(definition: FlowDefinition): string[] {
  const base = 'https://__SERVICE_DOMAIN__';
  const rows = definition.states
    .filter((state) => typeof state.properties.url === 'string' && state.properties.url.startsWith(base))
    .map((state) => {
      // A fragment (webhook connection overrides, #rc=..&rp=..) is never sent: not a parameter.
      const [address, fragment] = (state.properties.url as string).slice(base.length).split('#');
      const [functionPath, query] = address!.split('?');
      const params = Array.isArray(state.properties.parameters)
        ? (state.properties.parameters as Array<{ key: string; value: string }>).map((p) => `${p.key}=${p.value}`)
        : (query ?? '').split('&').filter((pair) => pair !== '');
      // A "|" (a Liquid filter) would end the table cell: GitHub tables take "\|" inside code.
      const sent = params.map((param) => `\`${param.replace(/\|/g, '\\|')}\``).join(', ') || '(nothing)';
      const retries = fragment ? ` (connection overrides \`#${fragment}\`)` : '';
      return `| \`${state.name}\` | ${state.type} | \`${functionPath}\`${retries} | ${sent} |`;
    });
  return rows.length === 0 ? [] : ['', '| state | widget | function | sends |', '|---|---|---|---|', ...rows];
}

/** The subflow's interface: what the parent passes, what comes back, and which flow the call returns to. */
function holdSubflowSection(): string[] {
  return [
    '## The hold subflow',
    '',
    '`flows/hold-subflow.json` is the whole voice pattern behind one Run Subflow widget: start the',
    'job, hold the caller in a conference while it runs, read the result, retry each step through a',
    'counter, and fall back to Flex (when `__FLEX_WORKFLOW_SID__` is set). It starts only as a',
    "subflow (`incomingParent`); Studio runs its widgets in the parent's execution, on the",
    "parent's call. In your IVR, add a Run Subflow widget with Flow = this flow, Revision =",
    '"Latest Published" (`flow_revision: "LatestPublished"`), and these parameters:',
    '',
    '| parameter (in) | required | what |',
    '|---|---|---|',
    "| `task` | yes | the job's `task` (a relay config names its tasks: `input.task`) |",
    "| `input` | no | text handed to the backend as the job input's `input` (JSON text if you like; it is not parsed) |",
    '| `flowSid` | yes | `{{flow.flow_sid}}` of the parent: the flow the call returns to after the hold (below) |',
    '| `maxHoldSeconds` | no | how long the caller may hold, 10-3600 (default `120`) |',
    '| `wait` | no | seconds `/jobs/start` waits for a fast job, 0-5 (default `2`) |',
    '| `idempotencyKey` | no | default `{{flow.sid}}-<task>`: one job per task and execution, also when the start is retried |',
    '',
    'The job input the backend gets also holds `callSid` and `callerCountry` of the call. When the',
    'subflow ends, Studio hands its variables to the parent as `{{widgets.RUN_SUBFLOW_WIDGET.NAME}}`',
    "(`widgets.hold_call.status` in `flows/voice-hold.json`); the subflow's own widgets are not",
    'visible to the parent:',
    '',
    '| variable (out) | when | what |',
    '|---|---|---|',
    '| `status` | always | `COMPLETED`, `FAILED`, `TIMED_OUT`, `CANCELLED`; `PENDING` when the retries ran out while the job still ran; `UNAVAILABLE` when `/jobs/start` never answered |',
    "| `message` | `COMPLETED` | the result's `message` (say it; empty when the result has none) |",
    '| `resultBody` | `COMPLETED` | the JSON text of the reply that carried the result (`/jobs/result`, or `/jobs/start` for a job done at once): `{jobId, status, result}` |',
    '| `jobId` | once started | the job (for `/jobs/status`, logs, an agent) |',
    "| `errorCode` | not `COMPLETED` | the job's `error.code`, when it has one |",
    '| `agent` | Flex took the call | `connected`: the caller was with an agent; say nothing more |',
    '| `retries` | after a retry | the counter of the retry loops |',
    '',
    'The Run Subflow fires `completed` whenever the subflow ran to its end (whatever `status`), and',
    '`failed` when Studio could not run it (error 81024: the flow does not exist, or it runs a',
    'subflow itself). So the parent branches on `status`: `COMPLETED` says `message`, `agent` =',
    '`connected` ends, anything else apologises.',
    '',
    "**Which flow the call returns to.** Studio's docs say a subflow runs as part of the parent's",
    "single execution; they do not say what `{{flow.flow_sid}}` is inside a subflow (the parent's",
    "SID or the subflow's), nor whether Studio takes a call back at the subflow's webhook. The call",
    "came in on the parent's webhook and the execution is the parent's, so the hold returns there:",
    "the parent passes its own `{{flow.flow_sid}}` as `flowSid`, and the subflow's `/hold` URL uses",
    '`{{trigger.parent.parameters.flowSid | default: flow.flow_sid}}`. The service uses whatever',
    'Flow SID the URL carries, so the choice lives in the flow alone. The runner (`npm run call`)',
    "renders `flow.flow_sid` inside a subflow as the parent's and takes a return to either webhook",
    "as the return to the execution (with a note when it is the subflow's). What real Studio does",
    'is worth a probe on a live account.',
  ];
}

/** How the messaging flow gets the outcome to the contact without holding an execution, and why. */
function messagingSection(): string[] {
  return [
    '## The messaging flow',
    '',
    '`flows/messaging.json` answers a text without keeping a Functions execution busy while the job',
    'runs. A Run Function holds one execution of the service for as long as the Function runs, and a',
    'service has about 30 concurrent executions, so a flow that long-polls `/jobs/status` for every',
    'waiting conversation (all this flow did when it was `flows/messaging-poll.json`) fills the service',
    'at about 30 conversations. Now:',
    '',
    '- **Push mode** (a backend that POSTs its completion). `start_job` also sends',
    '  `notifyFlowSid={{flow.flow_sid}}`, `notifyTo={{contact.channel.address}}` and',
    '  `notifyFrom={{flow.channel.address}}` (for an incoming SMS only: the Executions API takes a phone',
    '  number or a Messaging Service as `From`, not a Conversation, so a Conversations message sends',
    '  none and waits as below). `/jobs/start` does not wait (`wait` 0: a wait would hold an',
    '  execution); a backend that answers its dispatch with the result gets it into the reply, and',
    '  `send_result_fast` texts it: no execution is started. A job',
    '  still pending gets `delivery: "execution"`: `send_working_async` texts that the answer follows',
    '  and the execution ends. Nothing waits. The request that makes the job final (the completion, or',
    '  a request that finds the deadline passed) starts a new execution of the same flow through',
    "  Studio's REST API: `To` the contact, `From` the flow's address, `Parameters`",
    "  `{jobId, status, result?, error?}` (`flow.data`). It enters at the Trigger's `incomingRequest`:",
    '  `route_outcome` splits on `{{flow.data.status}}`, `send_outcome` texts',
    '  `{{flow.data.result.message}}`, `send_outcome_sorry` apologises (with `flow.data.error.message`',
    '  when there is one). These Send Message widgets name `{{flow.channel.address}}` and',
    '  `{{contact.channel.address}}` only: an execution started through the API has no',
    '  `trigger.message`.',
    '- **Poll and simulated modes.** Nothing would tell the service that the job is done at a moment',
    '  when it can act: a text conversation has no hold loop, and nothing on Twilio runs the service',
    '  later by itself. A Function stops at `callback()` (Functions execution docs), a Sync TTL fires',
    '  "up to minutes away" (twilio.com/docs/sync/objects-ttl) and Message Scheduling must be booked',
    '  minutes ahead. The one documented way left is the flow asking, so `/jobs/start` answers',
    '  `delivery: "wait"` and the flow keeps its long-poll loop: `send_working`, then `wait_for_job`',
    '  (`/jobs/status`, `wait=6`) until the job is final, `get_result`, `send_result`. Each of those',
    '  conversations holds an execution while it polls, as before.',
    "- **Exactly one delivery per job.** The outcome is either the flow's to send or the service's",
    '  to deliver, never both. `/jobs/start` records the delivery target on a pending push-mode job',
    '  (one If-Match write) before it answers `execution`; a job that became final before that write',
    '  goes back in the reply instead, and poll and simulated jobs never get a target.',
    '  `route_delivery` branches on `delivery` before `status`, so a retried start that finds the job',
    "  already handed to an execution sends nothing more. Racing completions meet at the job's",
    '  revision: the one whose final write lands starts the execution.',
    '- **A contact who is mid-conversation.** Studio runs one execution per contact and flow at a',
    '  time; whether it refuses a REST create meanwhile or ends the active execution is not',
    '  documented (docs/TWILIO-DIFFERENCES.md, S18). Either way the job keeps its outcome: until the',
    "  execution has started, the backend's completion is answered `503 DELIVERY_PENDING` and its",
    '  retry (the same body) tries again.',
    '- **A backend that never answers.** In push mode only a request for the job (the late',
    '  completion, a heartbeat) finds its deadline passed; a backend that never calls back leaves the',
    '  contact with "the answer follows". The relay (relay/) always completes, with `FAILED` just',
    '  before the deadline at the latest.',
  ];
}

export function renderFlowsDoc(flows: readonly NamedFlow[]): string {
  const out = [
    ...introSection(flows),
    '',
    ...importSection(),
    '',
    ...placeholdersSection(flows),
    '',
    ...holdSubflowSection(),
    '',
    ...messagingSection(),
    '',
    ...checkingFlowsSection(),
    '',
    ...pathsTwilioCannotTakeSection(),
    '',
    ...diagramsSection(flows),
  ];
  return `${out.join('\n')}\n`;
}

/** The title, what the flows are, and a table of them. */
function introSection(flows: readonly NamedFlow[]): string[] {
  return [
    '# Studio Flows',
    '',
    '<!-- Generated by `npm run flows:diagram` from flows/*.json. Edit the flows, not this file; a test fails when it is out of date. -->',
    '',
    'Importable Studio Flow definitions (Studio REST API v2 JSON) that run a long job behind Studio:',
    'they start it with `/jobs/start`, keep the contact waiting (a caller on hold in a conference; a',
    'texter gets the answer from a new execution, or the flow polls `/jobs/status`), then read',
    '`/jobs/result` into `{{widgets.NAME.parsed.*}}` (or `{{flow.data.*}}`).',
    'The voice hold is a Studio Subflow, `flows/hold-subflow.json`: one Run Subflow widget in any IVR',
    'runs all of it (below), and `flows/voice-hold.json` is the smallest such IVR. It holds the caller',
    'with a TwiML Redirect widget pointing at `/hold`; when the job is final, `/hold` hands the call',
    'back to Studio (`FlowEvent=return`) with the final status, readable as `{{widgets.hold.status}}`',
    'inside the subflow. Every retry and poll goes through a counter in Set Variables and a Split on',
    "it, far below Studio's limit of 10 runs of one widget.",
    '',
    '| file | starts on | what it does |',
    '|---|---|---|',
    ...flows.map((flow) => `| \`${flow.file}\` | ${triggers(flow.definition)} | ${flow.definition.description} |`),
  ];
}

/** How to import a flow, step by step. */
function importSection(): string[] {
  return [
    '## Import a flow',
    '',
    '1. Deploy the service first: the flows call its Functions.',
    '2. Fill in the placeholders (below) in a copy of the flow file. Import `flows/hold-subflow.json`',
    '   before `flows/voice-hold.json`: the parent names the subflow by its SID (`__FLOW_SID_HOLD_SUBFLOW__`).',
    '   `twilio serverless:list --extended-output` shows the service, environment and function SIDs and the domain.',
    '3. Check the result: `npm run flows:check -- path/to/filled-flow.json`.',
    '4. Import it, either',
    '   - in the Console: Studio > Flows > Create new Flow, name it, choose **Import from JSON**, paste',
    '     the file, then **Next** and **Publish**; or',
    '   - with the Twilio CLI: `twilio api:studio:v2:flows:create --friendly-name "Voice hold" --status published --definition "$(cat filled-flow.json)"`.',
    '5. Point a phone number at it: Phone Numbers > the number > Voice "A call comes in" (voice flow)',
    '   or Messaging "A message comes in" (messaging flow) > Studio Flow > this flow.',
  ];
}

/** Each placeholder the flows use: what it stands for, and which files use it. */
function placeholdersSection(flows: readonly NamedFlow[]): string[] {
  return [
    '## Placeholders',
    '',
    '| placeholder | meaning | used in |',
    '|---|---|---|',
    ...[...placeholdersIn(flows)].map(
      ([name, files]) =>
        `| \`${name}\` | ${placeholderMeaning(name) ?? '(not documented)'} | ${files.map((f) => `\`${f}\``).join(', ')} |`,
    ),
    '',
    'Function SID placeholders follow the function path: `/jobs/start` is `__FUNCTION_SID_JOBS_START__`.',
  ];
}

/** Flow paths that were changed because Twilio cannot take them. */
function pathsTwilioCannotTakeSection(): string[] {
  return [
    '## Paths Twilio cannot take',
    '',
    'A flow path is only worth having if Twilio can take it. In the voice hold (then all in',
    '`flows/voice-hold.json`, now in `flows/hold-subflow.json`) two did not hold up against what',
    'Twilio documents, and were changed:',
    '',
    '- **`hold` on `fail` no longer retries the hold.** It used to lead to `retry_hold`, another try',
    '  at `/hold`, as if `fail` meant "fetching `/hold` failed". It cannot mean that: Studio never',
    '  fetches a TwiML Redirect URL, it answers Voice with a `<Redirect>` and Voice fetches it. When',
    '  that fetch fails, Voice requests the number\'s Fallback URL or says "an application error has',
    '  occurred" and ends the call; the widget\'s `fail` does not fire and the flow never hears of it.',
    "  What does fire `fail` is not documented. The event stays in the flow, because Studio's own",
    '  exports list every event of a widget (whether Studio requires that is not known), and it now',
    "  leads to `get_result`, like `return` and `timeout`: whatever happened, the flow reads the job's",
    '  real status and says the result, holds again through the counted `retry_hold` only when the',
    '  job is still PENDING, or apologises. To survive a failed fetch of `/hold` itself, give the',
    '  phone number a Fallback URL; no flow path can.',
    '- **`hold` waits up to `"3900"` seconds (it was `"300"`).** When a TwiML Redirect\'s timer runs',
    '  out, Studio ends the widget whether or not the caller is still on hold, and what it then does',
    '  with a call that is still in our conference is not known. The service releases the caller',
    "  itself: at the latest at the job's deadline (`maxHoldSeconds`, at most 3600 s, counted from",
    '  `/jobs/start`, which runs before `hold`) plus one turn of the hold loop (about 10 s). 3900 s is',
    '  that worst case with almost five minutes to spare, inside Studio\'s range of `"0"` to',
    '  `"14400"`, so the timer only fires when the service failed to release the caller at all. The',
    "  old 300 s covered this flow's own `maxHoldSeconds` of 120 but would have cut in on anyone who",
    '  raised it past about 290 s; the long timer costs nothing, as the service ends the hold first.',
  ];
}

/** One Mermaid diagram per flow, with the service calls it makes. */
function diagramsSection(flows: readonly NamedFlow[]): string[] {
  return [
    '## Diagrams',
    ...flows.flatMap((flow) => [
      '',
      `### \`${flow.file}\``,
      '',
      flow.definition.description,
      ...serviceCalls(flow.definition),
      '',
      ...mermaidBlock(flow.definition),
    ]),
  ];
}

/** A flow's Mermaid chart as a fenced block. */
function mermaidBlock(definition: FlowDefinition): string[] {
  return ['```mermaid', flowToMermaid(definition).trimEnd(), '```'];
}

export const README_DIAGRAMS_START = '<!-- flow diagrams: generated from flows/*.json by `npm run flows:diagram` -->';
export const README_DIAGRAMS_END = '<!-- end of flow diagrams -->';

/** README's copy of the diagrams (one Mermaid chart per flow), between the two markers. */
export function withReadmeDiagrams(readme: string, flows: readonly NamedFlow[]): string {
  const start = readme.indexOf(README_DIAGRAMS_START);
  const end = readme.indexOf(README_DIAGRAMS_END);
  if (start === -1 || end < start) throw new Error('README.md has no flow diagram markers');
  const charts = flows.flatMap((flow) => ['', `\`${flow.file}\`:`, '', ...mermaidBlock(flow.definition)]);
  return `${readme.slice(0, start + README_DIAGRAMS_START.length)}\n${charts.join('\n')}\n\n${readme.slice(end)}`;
}
