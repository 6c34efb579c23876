/**
 * The probe flows: a call comes in, a TwiML Redirect widget hands it to the probe endpoint, and
 * each of the widget's transitions (`return`, `timeout`, `fail`) reports itself to the endpoint
 * through an HTTP Request widget (Studio makes that request, so which transition fired is seen
 * the same way on Twilio and offline), then a Say tells the caller the call is back in the flow.
 * The executions probe's flow is a REST trigger into one slow HTTP Request to the endpoint.
 */
import { flowWith, type FlowDefinition, type FlowState, type Transition } from '../studio/flow-model';
import { probeUrl, type Target } from './target';

export const TRANSITION_EVENTS = ['return', 'timeout', 'fail'] as const;

type ProbeTarget = Pick<Target, 'probeEndpoint' | 'probeKey' | 'runId'>;

const TRIGGER_EVENTS = [
  'incomingMessage',
  'incomingCall',
  'incomingConversationMessage',
  'incomingRequest',
  'incomingParent',
] as const;

const at = (x: number, y: number) => ({ offset: { x, y } });

/** The Trigger's transitions: `event` leads to `next`, every other event ends the execution. */
function triggerInto(event: (typeof TRIGGER_EVENTS)[number], next: string): Transition[] {
  return TRIGGER_EVENTS.map((name) => (name === event ? { event: name, next } : { event: name }));
}

const probeDescription = (probe: string) =>
  `studio-async verify:live probe ${probe} (temporary; deleted at the end of the run)`;

/** An HTTP Request widget posting a form to the probe endpoint. */
function requestState(
  name: string,
  transitions: Transition[],
  offset: { x: number; y: number },
  url: string,
  parameters?: Array<{ key: string; value: string }>,
): FlowState {
  return {
    name,
    type: 'make-http-request',
    transitions,
    properties: {
      ...at(offset.x, offset.y),
      method: 'POST',
      content_type: 'application/x-www-form-urlencoded;charset=utf-8',
      url,
      ...(parameters ? { parameters } : {}),
    },
  };
}

export function probeFlow(
  target: ProbeTarget,
  probe: string,
  redirect: { url: string; timeoutSeconds: number },
): FlowDefinition {
  const toBack: Transition[] = [
    { event: 'success', next: 'back' },
    { event: 'failed', next: 'back' },
  ];
  const report = (event: (typeof TRANSITION_EVENTS)[number], x: number): FlowState =>
    requestState(`t_${event}`, toBack, { x, y: 400 }, probeUrl(target, { probe, step: 'transition' }), [
      { key: 'name', value: event },
    ]);
  return flowWith(probeDescription(probe), triggerInto('incomingCall', 'probe'), [
    {
      name: 'probe',
      type: 'add-twiml-redirect',
      transitions: TRANSITION_EVENTS.map((event) => ({ event, next: `t_${event}` })),
      properties: { ...at(0, 200), url: redirect.url, method: 'POST', timeout: String(redirect.timeoutSeconds) },
    },
    report('return', -400),
    report('timeout', 0),
    report('fail', 400),
    {
      name: 'back',
      type: 'say-play',
      transitions: [{ event: 'audioComplete' }],
      properties: { ...at(0, 600), say: 'Back in the flow.', loop: 1 },
    },
  ]);
}

/** A flow whose REST-started execution waits on the probe endpoint's slow step (it stays active meanwhile). */
export function busyFlow(target: ProbeTarget): FlowDefinition {
  return flowWith(probeDescription('executions'), triggerInto('incomingRequest', 'busy'), [
    requestState(
      'busy',
      [{ event: 'success' }, { event: 'failed' }],
      { x: 0, y: 200 },
      probeUrl(target, { probe: 'executions', step: 'slow' }),
    ),
  ]);
}
