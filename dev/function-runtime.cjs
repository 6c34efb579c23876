'use strict';
/**
 * The Twilio Functions runtime, played once for every local host that runs a built function
 * without twilio-run: the in-process host of the chaos runs and the batteries
 * (chaos/function-host.ts), the fresh process that loads one function alone
 * (tests/build/support/call-function-alone.cjs) and the cold-start runner
 * (bench/lib/cold-start-runner.cjs). It copies what twilio-run's runtime does
 * (@twilio/runtime-handler dist/dev-runtime/route.js: constructGlobalScope, constructContext,
 * constructEvent): the globals, the context, the event, and one call of the handler with its
 * callback and Twilio.Response.
 *
 * Plain CommonJS on purpose: the two runners start with `node` alone (no TypeScript loader, and
 * for the cold start nothing loaded that the platform would not load). It requires nothing but
 * Node's own modules; the helper library is handed in by the caller, resolved from wherever the
 * platform would find it.
 */
const path = require('node:path');

/** The Response class of Twilio's own local runtime (required by file: the package's exports hide it). */
const RESPONSE_MODULE = path.join(
  __dirname,
  '..',
  'node_modules/@twilio/runtime-handler/dist/dev-runtime/internal/response.js',
);

/** Twilio.Response, from `file` (default: the runtime-handler's). */
function loadResponse(file = RESPONSE_MODULE) {
  return require(file).Response;
}

/**
 * The globals a function finds: `Twilio` (the helper library plus `Response`; only `Response`
 * when `twilio` is not given) and `Runtime` (no assets, no functions, no Sync client).
 */
function installGlobals({ Response, twilio }) {
  global.Twilio = twilio ? Object.assign({}, twilio, { Response }) : { Response };
  global.Runtime = {
    getAssets: () => ({}),
    getFunctions: () => ({}),
    getSync: () => {
      throw new Error('Runtime.getSync() is not available here');
    },
  };
}

/**
 * The context: the runtime's own fields, the environment over them (as twilio-run merges them),
 * and `getTwilioClient` with the environment's credentials. `twilio` returns the helper library
 * (asked for only when a function calls getTwilioClient).
 */
function functionContext({ env, path: functionPath, domainName, serviceSid, environmentSid, twilio }) {
  return {
    PATH: functionPath,
    DOMAIN_NAME: domainName,
    SERVICE_SID: serviceSid,
    ENVIRONMENT_SID: environmentSid,
    ...env,
    getTwilioClient: (options) => twilio()(env.ACCOUNT_SID, env.AUTH_TOKEN, { lazyLoading: true, ...options }),
  };
}

/** The event: `request` (lowercase headers, no cookies), then the parameters over it (query, then body). */
function functionEvent(headers, ...parameters) {
  return Object.assign({ request: { headers, cookies: {} } }, ...parameters);
}

/**
 * Calls `handler` once and resolves with the first thing that happens:
 *   { kind: 'response', statusCode, headers, body }  the callback got a Twilio.Response;
 *   { kind: 'value', value }                         the callback got anything else;
 *   { kind: 'callback-error', error }                the callback got an error;
 *   { kind: 'threw', error }                         the handler threw, or its promise rejected;
 *   { kind: 'timeout' }                              none of those within `timeoutMs`.
 * `unref`: the time limit alone does not keep the process alive.
 */
function invoke(handler, context, event, { Response, timeoutMs, unref = false }) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    if (unref) timer.unref();
    const callback = (error, payload) => {
      if (error) return finish({ kind: 'callback-error', error });
      if (payload instanceof Response) {
        return finish({
          kind: 'response',
          statusCode: payload.statusCode,
          headers: payload.headers,
          body: payload.body,
        });
      }
      return finish({ kind: 'value', value: payload });
    };
    try {
      const returned = handler(context, event, callback);
      if (returned && typeof returned.then === 'function') {
        returned.then(undefined, (error) => finish({ kind: 'threw', error }));
      }
    } catch (error) {
      finish({ kind: 'threw', error });
    }
  });
}

/** What an error says: its stack when it has one. */
function describeError(error) {
  return (error && error.stack) || String(error);
}

module.exports = {
  RESPONSE_MODULE,
  loadResponse,
  installGlobals,
  functionContext,
  functionEvent,
  invoke,
  describeError,
};
