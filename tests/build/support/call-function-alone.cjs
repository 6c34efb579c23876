'use strict';
/**
 * Loads ONE built function file the way Twilio's runtime does and calls its handler once.
 * Runs in a fresh node process: node call-function-alone.cjs <function.js> <Response module> <path>
 * The event comes from FUNCTION_EVENT (JSON); the context's environment is this process's env.
 * Prints one line "@@OUTCOME@@<json>" and exits.
 */
const { createRequire } = require('node:module');
const path = require('node:path');
const runtime = require(path.join(__dirname, '..', '..', '..', 'dev', 'function-runtime.cjs'));

const [functionFile, responseModule, functionPath] = process.argv.slice(2);

let reported = false;
function report(outcome) {
  if (reported) return;
  reported = true;
  process.stdout.write(`\n@@OUTCOME@@${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
const describe = runtime.describeError;
process.on('uncaughtException', (err) => report({ kind: 'threw', message: describe(err) }));
process.on('unhandledRejection', (err) => report({ kind: 'threw', message: describe(err) }));

// `twilio` is resolved from the function's own folder, as the platform installs it.
const twilio = createRequire(functionFile)('twilio');
const Response = runtime.loadResponse(responseModule);
runtime.installGlobals({ Response, twilio });

let fn;
try {
  fn = require(functionFile);
} catch (err) {
  report({ kind: 'load-failed', message: describe(err) });
}

if (!reported && typeof (fn && fn.handler) !== 'function') {
  report({ kind: 'no-handler', exports: fn ? Object.keys(fn) : [] });
}

/** The outcome line for what the handler did (runtime.invoke). */
function outcomeOf(called) {
  switch (called.kind) {
    case 'response':
      return { kind: 'response', statusCode: called.statusCode, headers: called.headers, body: called.body };
    case 'value':
      return { kind: 'value', type: typeof called.value, value: called.value };
    case 'callback-error':
    case 'threw':
      return { kind: called.kind, message: describe(called.error) };
    default:
      return { kind: 'timeout' };
  }
}

if (!reported) {
  // The shell's PATH is not the function's: the context's PATH is the function's path.
  const { PATH: _shellPath, ...env } = process.env;
  const context = runtime.functionContext({
    env,
    path: functionPath,
    domainName: 'studio-async-1234-dev.twil.io',
    serviceSid: 'ZS' + '1'.repeat(32),
    environmentSid: 'ZE' + '1'.repeat(32),
    twilio: () => twilio,
  });
  const event = runtime.functionEvent({}, JSON.parse(process.env.FUNCTION_EVENT || '{}'));
  // The platform stops a function after 10 s.
  void runtime
    .invoke(fn.handler, context, event, { Response, timeoutMs: 9000, unref: true })
    .then((called) => report(outcomeOf(called)));
}
