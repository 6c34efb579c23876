'use strict';
/**
 * One cold start, in a fresh node process: node cold-start-runner.cjs <function.js> <bare|runtime> <response module>
 *   bare:    nothing loaded before the function (what `node -e "require(fn)"` pays);
 *   runtime: first what Twilio's runtime loads before any function (the helper library for the
 *            global `Twilio`, as twilio-run's runtime does in constructGlobalScope), untimed
 *            in loadMs.
 * Then the function is required (loadMs) and called once with FUNCTION_EVENT (firstCallMs, until
 * its callback). Prints one JSON line.
 */
const { performance } = require('node:perf_hooks');
const { createRequire } = require('node:module');
const path = require('node:path');

const [functionFile, preload, responseModule] = process.argv.slice(2);
const bootMs = performance.now();
const runtime = require(path.join(__dirname, '..', '..', 'dev', 'function-runtime.cjs'));
const fromFunction = createRequire(functionFile);
const Response = runtime.loadResponse(responseModule);
let preloadMs = 0;
if (preload === 'runtime') {
  const began = performance.now();
  runtime.installGlobals({ Response, twilio: fromFunction('twilio') });
  preloadMs = performance.now() - began;
} else {
  runtime.installGlobals({ Response });
}

const loadStart = performance.now();
const fn = require(functionFile);
const loadMs = performance.now() - loadStart;

const { PATH: _shellPath, ...env } = process.env;
const context = runtime.functionContext({
  env,
  path: '/',
  domainName: 'localhost:3000',
  twilio: () => fromFunction('twilio'),
});
const event = runtime.functionEvent({}, JSON.parse(process.env.FUNCTION_EVENT || '{}'));
const callStart = performance.now();
function finish(outcome, statusCode) {
  const firstCallMs = performance.now() - callStart;
  process.stdout.write(JSON.stringify({ bootMs, preloadMs, loadMs, firstCallMs, outcome, statusCode }) + '\n', () =>
    process.exit(0),
  );
}
void runtime.invoke(fn.handler, context, event, { Response, timeoutMs: 15000 }).then((called) => {
  if (called.kind === 'response') finish('ok', called.statusCode);
  else if (called.kind === 'value') finish('ok', called.value && called.value.statusCode);
  else finish({ 'callback-error': 'error', threw: 'threw', timeout: 'timeout' }[called.kind]);
});
