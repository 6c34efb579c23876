/**
 * Widgets that call this service (a URL on `__SERVICE_DOMAIN__`, or a `__FUNCTION_SID_*__`
 * placeholder) must name a Function the service has, and a Run Function widget's placeholders
 * must agree with its URL, so the deploy step fills in the right SIDs.
 */
import type { FlowState } from '../flow-model';
import type { FaultList } from './fault';
import { functionSidPlaceholder } from './service-functions';

export const SERVICE_DOMAIN_PLACEHOLDER = '__SERVICE_DOMAIN__';
export const SERVICE_SID_PLACEHOLDER = '__SERVICE_SID__';
export const ENVIRONMENT_SID_PLACEHOLDER = '__ENVIRONMENT_SID__';
const FUNCTION_SID_PLACEHOLDER = /^__FUNCTION_SID_[A-Z0-9_]+__$/;
const SERVICE_BASE = `https://${SERVICE_DOMAIN_PLACEHOLDER}/`;
const URL_WIDGETS = new Set(['run-function', 'add-twiml-redirect', 'make-http-request']);

/**
 * @param functions the service's function paths; null when unknown (then only the
 *   placeholders' agreement with the URL is checked).
 */
export function checkServiceUrls(
  states: readonly FlowState[],
  functions: readonly string[] | null,
  faults: FaultList,
): void {
  for (const state of states) {
    if (!URL_WIDGETS.has(state.type)) continue;
    const url = state.properties.url;
    const functionPath = typeof url === 'string' ? servicePath(url, state.name, faults) : null;

    if (functionPath !== null && functions !== null && !functions.includes(functionPath)) {
      faults.error(
        state.name,
        'url',
        `calls function "${functionPath}", which the service does not have (it has: ${functions.join(', ') || 'none'})`,
      );
    }
    if (state.type === 'run-function') checkRunFunctionSids(state, functionPath, faults);
  }
}

/** The function path of a URL on this service, or null when the URL points elsewhere. */
function servicePath(url: string, state: string, faults: FaultList): string | null {
  if (!url.includes(SERVICE_DOMAIN_PLACEHOLDER)) return null;
  if (!url.startsWith(SERVICE_BASE)) {
    faults.error(state, 'url', `a URL on this service must start with ${SERVICE_BASE}, got "${url}"`);
    return null;
  }
  const rest = url.slice(SERVICE_BASE.length).split(/[?#]/)[0];
  return `/${rest.replace(/\/+$/, '')}`;
}

function checkRunFunctionSids(state: FlowState, functionPath: string | null, faults: FaultList): void {
  const { function_sid: functionSid, service_sid: serviceSid, environment_sid: environmentSid } = state.properties;
  const placeholder =
    typeof functionSid === 'string' && FUNCTION_SID_PLACEHOLDER.test(functionSid) ? functionSid : null;

  if (functionPath === null) {
    if (placeholder) {
      faults.error(state.name, 'function_sid', `is ${placeholder}, but url does not call this service`);
    }
    return;
  }
  const expected = functionSidPlaceholder(functionPath);
  if (functionSid !== undefined && functionSid !== expected) {
    faults.error(
      state.name,
      'function_sid',
      `must be ${expected} for url ${functionPath}, got ${JSON.stringify(functionSid)}`,
    );
  }
  if (serviceSid !== undefined && serviceSid !== SERVICE_SID_PLACEHOLDER) {
    faults.error(
      state.name,
      'service_sid',
      `must be ${SERVICE_SID_PLACEHOLDER} for a URL on this service, got ${JSON.stringify(serviceSid)}`,
    );
  }
  if (environmentSid !== undefined && environmentSid !== ENVIRONMENT_SID_PLACEHOLDER) {
    faults.error(
      state.name,
      'environment_sid',
      `must be ${ENVIRONMENT_SID_PLACEHOLDER} for a URL on this service, got ${JSON.stringify(environmentSid)}`,
    );
  }
}
