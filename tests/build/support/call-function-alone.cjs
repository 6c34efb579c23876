'use strict';
/**
 * Loads ONE built function file the way Twilio's runtime does and calls its handler once.
 * Runs in a fresh node process: node call-function-alone.cjs <function.js> <Response module> <path>
 * The event comes from FUNCTION_EVENT (JSON); the context's environment is this process's env.
 * Prints one line "@@OUTCOME@@<json>" and exits.
 */
const { createRequire } = require('node:module');

const [functionFile, responseModule, functionPath] = process.argv.slice(2);

let reported = false;
function report(outcome) {
  if (reported) return;
  reported = true;
  process.stdout.write(`\n@@OUTCOME@@${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
const describe = (err) => (err && err.stack) || String(err);
process.on('uncaughtException', (err) => report({ kind: 'threw', message: describe(err) }));
process.on('unhandledRejection', (err) => report({ kind: 'threw', message: describe(err) }));

// The globals Twilio's runtime provides: Twilio (the helper library plus Response) and Runtime.
// `twilio` is resolved from the function's own folder, as the platform installs it.
const twilio = createRequire(functionFile)('twilio');
const { Response } = require(responseModule);
global.Twilio = Object.assign({}, twilio, { Response });
global.Runtime = {
  getAssets: () => ({}),
  getFunctions: () => ({}),
  getSync: () => {
    throw new Error('Runtime.getSync() is not available in this test');
  },
};

let fn;
try {
  fn = require(functionFile);
} catch (err) {
  report({ kind: 'load-failed', message: describe(err) });
}

if (!reported && typeof (fn && fn.handler) !== 'function') {
  report({ kind: 'no-handler', exports: fn ? Object.keys(fn) : [] });
}

if (!reported) {
  const env = { ...process.env };
  const context = {
    ...env,
    PATH: functionPath,
    DOMAIN_NAME: 'studio-async-1234-dev.twil.io',
    SERVICE_SID: 'ZS' + '1'.repeat(32),
    ENVIRONMENT_SID: 'ZE' + '1'.repeat(32),
    getTwilioClient: (options) => twilio(env.ACCOUNT_SID, env.AUTH_TOKEN, { lazyLoading: true, ...options }),
  };
  const event = { ...JSON.parse(process.env.FUNCTION_EVENT || '{}'), request: { headers: {}, cookies: {} } };
  // The platform stops a function after 10 s.
  setTimeout(() => report({ kind: 'timeout' }), 9000).unref();

  const callback = (err, payload) => {
    if (err) return report({ kind: 'callback-error', message: describe(err) });
    if (payload instanceof Response) {
      return report({ kind: 'response', statusCode: payload.statusCode, headers: payload.headers, body: payload.body });
    }
    return report({ kind: 'value', type: typeof payload, value: payload });
  };
  try {
    const returned = fn.handler(context, event, callback);
    if (returned && typeof returned.then === 'function') {
      returned.catch((err) => report({ kind: 'threw', message: describe(err) }));
    }
  } catch (err) {
    report({ kind: 'threw', message: describe(err) });
  }
}
