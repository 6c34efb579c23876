/**
 * Parameters a Function can never receive: a Run Function parameter, or a query key of a URL that
 * a Function serves, named like a key the Functions runtime puts into `event` itself
 * (studio/runtime-event.ts).
 */
import type { FlowState } from '../flow-model';
import { isReservedEventKey, RUNTIME_EVENT_LAYOUT } from '../runtime-event';
import type { FaultList } from './fault';
import { SERVICE_DOMAIN_PLACEHOLDER } from './check-service-urls';

const URL_WIDGETS = new Set(['run-function', 'add-twiml-redirect', 'make-http-request']);

export function reservedKeyMessage(what: string, key: string): string {
  return (
    `${what} "${key}" never reaches the function: the Functions runtime builds event as ` +
    `${RUNTIME_EVENT_LAYOUT}, so "${key}" collides with the runtime's own; rename it (e.g. "message")`
  );
}

export function checkEventKeys(states: readonly FlowState[], faults: FaultList): void {
  for (const state of states) {
    if (state.type === 'run-function') checkParameters(state, faults);
    if (URL_WIDGETS.has(state.type) && typeof state.properties.url === 'string') {
      checkUrlQuery(state, state.properties.url, faults);
    }
  }
}

/** Run Function always calls a Twilio Function, so every parameter lands in its `event`. */
function checkParameters(state: FlowState, faults: FaultList): void {
  const parameters = state.properties.parameters;
  if (!Array.isArray(parameters)) return;
  parameters.forEach((item, index) => {
    const key = (item as { key?: unknown } | null)?.key;
    if (typeof key === 'string' && isReservedEventKey(key.trim())) {
      faults.error(state.name, `parameters[${index}].key`, reservedKeyMessage('parameter', key.trim()));
    }
  });
}

/** Query keys count only on URLs a Function serves: this service, or any *.twil.io domain. */
function checkUrlQuery(state: FlowState, url: string, faults: FaultList): void {
  if (!servedByFunctions(url)) return;
  const query = url.split('#')[0]!.split('?').slice(1).join('?');
  if (query === '') return;
  for (const pair of query.split('&')) {
    let key = pair.split('=')[0]!;
    try {
      key = decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      // a Liquid template or a stray % in the key: judge it as written
    }
    if (isReservedEventKey(key)) faults.error(state.name, 'url', reservedKeyMessage('query parameter', key));
  }
}

function servedByFunctions(url: string): boolean {
  if (url.startsWith(`https://${SERVICE_DOMAIN_PLACEHOLDER}/`)) return true;
  const host = /^https?:\/\/([^/?#:]+)/i.exec(url)?.[1]?.toLowerCase();
  return host !== undefined && (host === 'twil.io' || host.endsWith('.twil.io'));
}
