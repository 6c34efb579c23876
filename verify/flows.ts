/**
 * The probe flows: a call comes in, a TwiML Redirect widget hands it to the probe endpoint, and
 * each of the widget's transitions (`return`, `timeout`, `fail`) reports itself to the endpoint
 * through an HTTP Request widget (Studio makes that request, so which transition fired is seen
 * the same way on Twilio and offline), then a Say tells the caller the call is back in the flow.
 */
import type { FlowDefinition, FlowState } from '../studio/flow-model';
import { probeUrl, type Target } from './target';

export const TRANSITION_EVENTS = ['return', 'timeout', 'fail'] as const;

export function probeFlow(
  target: Pick<Target, 'probeEndpoint' | 'probeKey' | 'runId'>,
  probe: string,
  redirect: { url: string; timeoutSeconds: number },
): FlowDefinition {
  const at = (x: number, y: number) => ({ offset: { x, y } });
  const report = (event: (typeof TRANSITION_EVENTS)[number], x: number): FlowState => ({
    name: `t_${event}`,
    type: 'make-http-request',
    transitions: [
      { event: 'success', next: 'back' },
      { event: 'failed', next: 'back' },
    ],
    properties: {
      ...at(x, 400),
      method: 'POST',
      content_type: 'application/x-www-form-urlencoded;charset=utf-8',
      url: probeUrl(target, { probe, step: 'transition' }),
      parameters: [{ key: 'name', value: event }],
    },
  });
  return {
    description: `studio-async verify:live probe ${probe} (temporary; deleted at the end of the run)`,
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
    states: [
      {
        name: 'Trigger',
        type: 'trigger',
        transitions: [
          { event: 'incomingMessage' },
          { event: 'incomingCall', next: 'probe' },
          { event: 'incomingConversationMessage' },
          { event: 'incomingRequest' },
          { event: 'incomingParent' },
        ],
        properties: at(0, 0),
      },
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
    ],
  };
}
