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

const [functionFile, preload, responseModule] = process.argv.slice(2);
const bootMs = performance.now();
const fromFunction = createRequire(functionFile);
const { Response } = require(responseModule);
let preloadMs = 0;
if (preload === 'runtime') {
  const began = performance.now();
  const twilio = fromFunction('twilio');
  global.Twilio = Object.assign({}, twilio, { Response });
  preloadMs = performance.now() - began;
} else {
  global.Twilio = { Response };
}
global.Runtime = { getAssets: () => ({}), getFunctions: () => ({}) };

const loadStart = performance.now();
const fn = require(functionFile);
const loadMs = performance.now() - loadStart;

const env = { ...process.env };
const context = { ...env, DOMAIN_NAME: 'localhost:3000', PATH: '/' };
const event = { ...JSON.parse(process.env.FUNCTION_EVENT || '{}'), request: { headers: {}, cookies: {} } };
const callStart = performance.now();
const timer = setTimeout(() => finish('timeout'), 15000);
function finish(outcome, statusCode) {
  clearTimeout(timer);
  const firstCallMs = performance.now() - callStart;
  process.stdout.write(JSON.stringify({ bootMs, preloadMs, loadMs, firstCallMs, outcome, statusCode }) + '\n', () =>
    process.exit(0),
  );
}
Promise.resolve(
  fn.handler(context, event, (err, payload) => finish(err ? 'error' : 'ok', payload && payload.statusCode)),
).catch(() => finish('threw'));
