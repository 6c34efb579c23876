/**
 * Named call scenarios, shared by `npm run call -- --scenario NAME` and tests/flow-runs.
 *
 * A scenario runs a flow with a few parameters added to its /jobs/start widget. Each sets the
 * timing for both backends the local stack may have: the built-in simulated backend reads
 * `simulateSeconds` / `simulateFailure`, the example backend (backends/example-backend.ts) reads
 * `behaviour` / `delayMs` / `duplicate`; each ignores the other's. So a scenario behaves alike
 * against `npm start` (simulated) and against a stack with the example backend.
 */
import { PATHS } from '../../src/lib/contracts';
import type { SlowApiOptions } from '../../relay/local/slow-api';
import type { FlowDefinition, FlowState, KeyValue } from '../flow-model';
import { subflowsFor, attachSubflows } from './flow-inputs';
import type { FlowTrigger } from './types';

export const VOICE_FLOW_FILE = 'flows/voice-hold.json';
export const MESSAGING_FLOW_FILE = 'flows/messaging.json';

export interface Scenario {
  name: string;
  /** What it shows, one line. */
  summary: string;
  /** Flow file (relative to the project root) used when none is given. */
  flowFile: string;
  trigger: FlowTrigger;
  /** Added to (or replacing) the parameters of every Run Function widget that calls /jobs/start. */
  startParameters: Record<string, string>;
  hangUpAfterMs?: number;
  /** The caller hangs up this long after joining the hold room. */
  hangUpInRoomAfterMs?: number;
  joinDelayMs?: number;
  /** The number's Fallback URL (requested when the first TwiML of a TwiML Redirect cannot be used). */
  fallbackUrl?: string;
  /** Only meaningful with the example backend (a pushed completion); runs anyway without it. */
  needsExampleBackend: boolean;
  /** A local stack for it runs the relay (relay/) in front of this slow API as its backend. */
  relaySlowApi?: SlowApiOptions;
  /** What should happen, for people reading the CLI output. */
  expected: string;
}

const call: FlowTrigger = { kind: 'call' };
const NEVER = { simulateSeconds: '600', behaviour: 'push', delayMs: '600000' };
/** What the messaging scenarios share: the same text into flows/messaging.json, with the example backend. */
const textedQuestion = {
  flowFile: MESSAGING_FLOW_FILE,
  trigger: { kind: 'message', body: 'When does my order arrive?' },
  needsExampleBackend: true,
} as const satisfies Partial<Scenario>;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'plain',
    summary: 'the flow exactly as written; the backend decides how long the work takes',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: {},
    needsExampleBackend: false,
    expected: 'the caller holds until the work is done, then hears the result',
  },
  {
    name: 'fast',
    summary: "the job finishes within /jobs/start's wait",
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: { simulateSeconds: '0', behaviour: 'push', delayMs: '300' },
    needsExampleBackend: false,
    expected: 'no hold: the result is said right after the greeting',
  },
  {
    name: 'normal',
    summary: 'the job takes 8 s (simulated backend or example backend)',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    // Long enough that the caller is in the room before it finishes, even on a busy machine.
    startParameters: { simulateSeconds: '8', behaviour: 'push', delayMs: '8000' },
    needsExampleBackend: false,
    expected: 'hold music, then the result is said',
  },
  {
    name: 'done-before-join',
    summary: 'the job finishes after /hold answered but before the caller is in the room',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    // wait=0: /jobs/start answers at once, so the finish lands between /hold and the join.
    startParameters: { wait: '0', simulateSeconds: '2.5', behaviour: 'push', delayMs: '2500' },
    joinDelayMs: 4000,
    needsExampleBackend: false,
    expected: 'the caller is released as soon as they join (no full loop of music), then hears the result',
  },
  {
    name: 'backend-failure',
    summary: 'the backend reports the job FAILED while the caller holds',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: { simulateSeconds: '8', simulateFailure: 'true', behaviour: 'fail', delayMs: '8000' },
    needsExampleBackend: false,
    expected: 'hold music, then the apology and the fallback (goodbye_sorry without Flex)',
  },
  {
    name: 'max-hold',
    summary: 'the job never finishes; maxHoldSeconds is 10',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: { ...NEVER, maxHoldSeconds: '10' },
    needsExampleBackend: false,
    expected: 'released after about 10 s of hold with TIMED_OUT, then the apology',
  },
  {
    name: 'hangup',
    summary: 'the caller hangs up after 3 s on hold',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: NEVER,
    hangUpInRoomAfterMs: 3_000,
    needsExampleBackend: false,
    expected: 'the job ends CANCELLED, the room is gone and nothing polls any more',
  },
  {
    name: 'duplicate',
    summary: 'the backend sends its completion twice',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: { simulateSeconds: '8', behaviour: 'push', delayMs: '8000', duplicate: 'true' },
    needsExampleBackend: true,
    expected: 'the caller is released once and hears the result once',
  },
  {
    name: 'progress',
    summary: 'the backend posts progress messages while the caller holds; the hold loop says them',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    // A heartbeat every 2.5 s (example backend), said on every turn of the hold loop.
    startParameters: {
      simulateSeconds: '20',
      behaviour: 'progress',
      delayMs: '20000',
      progressEveryMs: '2500',
      progressEveryTurns: '1',
    },
    needsExampleBackend: true,
    expected: "hold music with the backend's latest progress message said before each play, then the result is said",
  },
  {
    name: 'messaging',
    summary:
      'a text message; the job takes 8 s. Push: the flow ends at once and a new execution texts the outcome; poll or simulated: the flow polls /jobs/status',
    ...textedQuestion,
    startParameters: { simulateSeconds: '8', behaviour: 'push', delayMs: '8000' },
    expected:
      '"working on it" at once, then the result as a second message (from the execution the service starts, in push mode)',
  },
  {
    name: 'messaging-poll',
    summary: 'a text message; the backend answers in poll mode and is done after 8 s: the flow polls /jobs/status',
    ...textedQuestion,
    startParameters: { simulateSeconds: '8', behaviour: 'poll', delayMs: '8000' },
    expected: '"working on it", then the result, both from the one execution (no REST execution)',
  },
  {
    name: 'messaging-failure',
    summary: 'a text message; the backend reports the job FAILED after 5 s',
    ...textedQuestion,
    startParameters: { simulateSeconds: '5', simulateFailure: 'true', behaviour: 'fail', delayMs: '5000' },
    expected:
      '"working on it", then the apology (with the backend\'s reason, from the execution the service starts, in push mode)',
  },
  {
    name: 'messaging-timeout',
    summary: 'a text message; maxHoldSeconds is 10 and the backend answers after 12 s, too late',
    ...textedQuestion,
    startParameters: { maxHoldSeconds: '10', simulateSeconds: '600', behaviour: 'push', delayMs: '12000' },
    expected:
      '"working on it", then the apology: the late completion (push) or a poll (simulated) finds the deadline passed',
  },
  {
    name: 'relay-slow-api',
    summary: 'the relay (relay/) fronts a plain API that takes 25 s to answer',
    flowFile: VOICE_FLOW_FILE,
    trigger: call,
    startParameters: { task: 'slow-api' },
    needsExampleBackend: false,
    relaySlowApi: { delayMs: 25_000, answer: 'The slow API says: your order ships tomorrow.' },
    expected: "about 25 s of hold music, then the API's answer is said",
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}

function callsStart(state: FlowState): boolean {
  if (state.type !== 'run-function' || typeof state.properties.url !== 'string') return false;
  return state.properties.url.split('?')[0]!.replace(/\/+$/, '').endsWith(PATHS.start);
}

/**
 * A copy of the flow whose /jobs/start widgets also send `parameters` (same keys are replaced).
 * Its project subflows (a Run Subflow naming `__FLOW_SID_*__`, such as flows/hold-subflow.json
 * behind flows/voice-hold.json) get the same change and travel with the copy (attachSubflows),
 * so a run of the copy starts its job with them wherever the /jobs/start widget is.
 */
export function withStartParameters(definition: FlowDefinition, parameters: Record<string, string>): FlowDefinition {
  const copy = addStartParameters(definition, parameters);
  const subflows = subflowsFor(definition);
  if (Object.keys(subflows).length > 0) {
    attachSubflows(
      copy,
      Object.fromEntries(
        Object.entries(subflows).map(([sid, subflow]) => [sid, addStartParameters(subflow, parameters)]),
      ),
    );
  }
  return copy;
}

function addStartParameters(definition: FlowDefinition, parameters: Record<string, string>): FlowDefinition {
  const copy = structuredClone(definition);
  if (Object.keys(parameters).length === 0) return copy;
  for (const state of copy.states.filter(callsStart)) {
    const kept = (Array.isArray(state.properties.parameters) ? (state.properties.parameters as KeyValue[]) : []).filter(
      (item) => !(item.key in parameters),
    );
    state.properties.parameters = [...kept, ...Object.entries(parameters).map(([key, value]) => ({ key, value }))];
  }
  return copy;
}
