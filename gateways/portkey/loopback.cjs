// Loaded with node -r: the gateway listens on 127.0.0.1 only (it has no host flag and would bind every
// interface): every net.Server.listen(port) without a host gets 127.0.0.1.
const net = require('net');
const orig = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args[1] === undefined || typeof args[1] === 'function') {
      if (args[1] === undefined) args[1] = '127.0.0.1'; else args.splice(1, 0, '127.0.0.1');
    }
  } else if (args[0] && typeof args[0] === 'object' && !args[0].host && args[0].port !== undefined) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return orig.apply(this, args);
};
