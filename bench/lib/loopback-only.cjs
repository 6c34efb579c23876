'use strict';
/**
 * Preloaded (NODE_OPTIONS=--require) into the twilio-run servers the benchmarks start: twilio-run
 * has no host option and listens on every interface; this makes a listen() without a host bind
 * 127.0.0.1 only.
 */
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && first.path === undefined && first.host === undefined) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
