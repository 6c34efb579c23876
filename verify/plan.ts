/**
 * What a verify:live run will do, what it creates and what it may cost, printed before anything
 * happens. The prices are US list prices as this project assumes them; they are not fetched
 * (there is no API for them) and may be out of date: check the pages named before running.
 */
import type { Probe } from './probes';

export interface Price {
  what: string;
  usd: number;
  per: string;
  source: string;
}

export const PRICES = {
  outboundMinute: {
    what: 'Voice, outbound call to a US number',
    usd: 0.014,
    per: 'minute (billed by the started minute)',
    source: 'twilio.com/en-us/voice/pricing/us',
  },
  inboundMinute: {
    what: 'Voice, inbound call on a US local number (only with --configure-number, the answering number is yours)',
    usd: 0.0085,
    per: 'minute',
    source: 'twilio.com/en-us/voice/pricing/us',
  },
  conferenceMinute: {
    what: 'Voice conference',
    usd: 0.0018,
    per: 'participant-minute',
    source: 'twilio.com/en-us/voice/pricing/us',
  },
  studioExecution: {
    what: 'Studio execution (after the monthly free ones)',
    usd: 0.001,
    per: 'execution',
    source: 'twilio.com/en-us/studio/pricing',
  },
  functionInvocation: {
    what: 'Functions invocation (after the monthly free ones)',
    usd: 0.0001,
    per: 'invocation',
    source: 'twilio.com/en-us/serverless/pricing',
  },
  syncRequest: {
    what: 'Sync API request',
    usd: 0.0001,
    per: 'request (assumed; Sync bills by actions)',
    source: 'twilio.com/en-us/sync/pricing',
  },
} as const satisfies Record<string, Price>;

export interface PlanInput {
  probes: readonly Probe[];
  serviceName: string;
  runId: string;
  from?: string;
  to?: string;
  configureNumber: boolean;
}

export interface Estimate {
  usd: number;
  lines: string[];
}

/** A generous estimate: every call billed 3 minutes (its time limit), every minute in a conference, every request charged. */
export function estimateCost(input: PlanInput): Estimate {
  const voice = input.from && input.to ? input.probes.filter((p) => p.needsVoice) : [];
  const calls = voice.reduce((sum, p) => sum + p.calls, 0);
  const minutes = calls * 3;
  const executions = calls + voice.reduce((sum, p) => sum + (p.executions ?? 0), 0);
  // Each call: the flow's webhook, the room TwiML, wait turns, callbacks, transitions (~40); the
  // runtime-event probe: 2; deploy checks: ~10.
  const invocations = calls * 40 + 12;
  // The endpoint writes one document per recorded request and the command polls about every 1.5 s.
  const syncRequests = calls * 120 + 30;
  const parts: Array<[number, string]> = [
    [minutes * PRICES.outboundMinute.usd, `${minutes} outbound minutes x $${PRICES.outboundMinute.usd}`],
    ...(input.configureNumber
      ? ([[minutes * PRICES.inboundMinute.usd, `${minutes} inbound minutes x $${PRICES.inboundMinute.usd}`]] as Array<
          [number, string]
        >)
      : []),
    [
      minutes * PRICES.conferenceMinute.usd,
      `${minutes} conference participant-minutes x $${PRICES.conferenceMinute.usd}`,
    ],
    [executions * PRICES.studioExecution.usd, `${executions} Studio executions x $${PRICES.studioExecution.usd}`],
    [
      invocations * PRICES.functionInvocation.usd,
      `~${invocations} Functions invocations x $${PRICES.functionInvocation.usd}`,
    ],
    [syncRequests * PRICES.syncRequest.usd, `~${syncRequests} Sync requests x $${PRICES.syncRequest.usd}`],
  ];
  const usd = Math.round(parts.reduce((sum, [value]) => sum + value, 0) * 1000) / 1000;
  return { usd, lines: parts.map(([value, text]) => `    ${text} = $${value.toFixed(4)}`) };
}

export function planText(input: PlanInput): string {
  const { probes, serviceName, runId } = input;
  const voice = probes.filter((p) => p.needsVoice);
  const calls = input.from && input.to ? voice.reduce((sum, p) => sum + p.calls, 0) : 0;
  const estimate = estimateCost(input);
  const lines = [
    'verify:live checks, on your Twilio account, the Twilio behaviours this service relies on (docs/TWILIO-DIFFERENCES.md).',
    '',
    'It will:',
    `  1. build the service and deploy it with a probe endpoint (/verify/probe) to a NEW Serverless service "${serviceName}", environment "verify";`,
    '  2. run these probes, one after the other:',
    ...probes.map((p) => {
      const skipped = p.needsVoice && !(input.from && input.to) ? '  [SKIPPED: needs --from and --to]' : '';
      return `       ${p.name.padEnd(17)} ${p.ids.join(', ').padEnd(18)} ${p.what}${skipped}`;
    }),
    '  3. write the answers to a record file (no secrets, SIDs or phone numbers in it);',
    '  4. remove everything it created, also if a probe fails or you press Ctrl+C.',
    '',
    'It creates (and removes):',
    `  - Serverless service "${serviceName}" (its environment, build, functions, assets and Variables)`,
    `  - ${calls > 0 ? voice.length : 0} Studio Flows named "verify-${runId} <probe>"`,
    calls > 0
      ? `  - ${calls} calls from ${input.from} to ${input.to}, each at most 3 minutes (the call's own time limit), each in its own conference room "verify-${runId}-..."`
      : '  - no calls (give --from and --to for the voice probes)',
    `  - Sync Documents "vfy_${runId}_..." in the default Sync service (TTL 1 hour as a backstop)`,
    input.configureNumber
      ? `  - CHANGES the voice URL of ${input.to} to the probe endpoint (it answers and waits silently), and restores it afterwards`
      : calls > 0
        ? `  - nothing on your numbers: someone must answer each call to ${input.to} and stay on the line (or pass --configure-number if ${input.to} is a number on this account)`
        : '  - nothing on your numbers',
    '',
    `Estimated cost: at most about $${estimate.usd.toFixed(2)} (assumed US list prices; check the pages below):`,
    ...estimate.lines,
    ...Object.values(PRICES).map((p) => `    $${p.usd} per ${p.per}: ${p.what} (${p.source})`),
    '',
    `It takes about ${Math.max(2, Math.ceil(calls * 1.5 + 3))} minutes.`,
  ];
  return lines.join('\n');
}

export const REFUSAL_NO_TTY =
  'verify:live creates resources on your Twilio account and costs money: run it in a terminal to confirm, or pass --yes.';
