/**
 * Helpers for the flow tests: where flows live, and copies to mutate. Nothing here reads outside
 * the project: the reference flows beside it are checked by `npm run flows:check-fixtures`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flowWith, type FlowDefinition, type FlowState } from '../../studio/flow-model';
import { PROJECT_ROOT } from '../../dev/paths';

export { PROJECT_ROOT };
export const VOICE_FLOW = path.join(PROJECT_ROOT, 'flows/voice-hold.json');
/** The hold pattern itself, which voice-hold.json runs as a subflow. */
export const HOLD_SUBFLOW = path.join(PROJECT_ROOT, 'flows/hold-subflow.json');
export const MESSAGING_FLOW = path.join(PROJECT_ROOT, 'flows/messaging.json');

/** The service's planned functions, so these tests do not depend on src/functions' progress. */
export const SERVICE_FUNCTIONS = [
  '/hold',
  '/hold/events',
  '/hold/wait',
  '/jobs/complete',
  '/jobs/result',
  '/jobs/start',
  '/jobs/status',
];

export function loadFlow(file: string): FlowDefinition {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as FlowDefinition;
}

/** A deep copy of a flow with `change` applied. */
export function mutate(file: string, change: (flow: FlowDefinition) => void): FlowDefinition {
  const flow = loadFlow(file);
  change(flow);
  return flow;
}

export function state(flow: FlowDefinition, name: string): FlowState {
  const found = flow.states.find((s) => s.name === name);
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

/** Writes a temporary folder of empty function files that twilio-run would serve at `paths`. */
export function fakeFunctionsDir(paths: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'functions-'));
  for (const functionPath of paths) {
    const file = path.join(dir, `${functionPath.slice(1)}.protected.ts`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'export {};\n');
  }
  return dir;
}

/**
 * The smallest parent of the hold: a call, one Run Subflow widget (flows/hold-subflow.json by its
 * placeholder) and one Say of what comes back.
 */
export function minimalHoldParent(): FlowDefinition {
  return flowWith(
    'A parent with only a Run Subflow and a Say',
    [{ event: 'incomingMessage' }, { event: 'incomingCall', next: 'look_up' }, { event: 'incomingRequest' }],
    [
      {
        name: 'look_up',
        type: 'run-subflow',
        transitions: [{ event: 'completed', next: 'tell' }, { event: 'failed', next: 'tell' }],
        properties: {
          offset: { x: 0, y: 200 },
          flow_sid: '__FLOW_SID_HOLD_SUBFLOW__',
          flow_revision: 'LatestPublished',
          parameters: [
            { key: 'task', value: 'order-status' },
            { key: 'input', value: '{{trigger.call.From}}' },
            { key: 'flowSid', value: '{{flow.flow_sid}}' },
          ],
        },
      },
      {
        name: 'tell',
        type: 'say-play',
        transitions: [{ event: 'audioComplete' }],
        properties: { offset: { x: 0, y: 400 }, say: '{{widgets.look_up.message | default: "Sorry, we could not look that up."}}', loop: 1 },
      },
    ],
  );
}
