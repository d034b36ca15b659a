// A guard at the socket layer for tests of the private-network rule: every TCP connect to an
// address outside 127.0.0.0/8 and ::1 is refused before any packet is sent (ECONNREFUSED from
// the handle, as the kernel would) and recorded. Tests point names at 10.x or 169.254.x through
// a resolver that never asks DNS, so even with the gateway's protection switched off nothing
// leaves this machine; the test then fails on the recorded attempt.
//
// In the test process: `const guard = installLoopbackGuard()`; `guard.attempts`.
// In a child (node --import this file): GATEWAY_TEST_CONNECT_LOG names a file each attempt is
// appended to; GATEWAY_TEST_HOSTS ({"name": "10.0.0.1"}) is what dns.lookup answers for names,
// every other name except localhost (and addresses, returned as they are) fails with ENOTFOUND (no DNS query leaves the machine).
import { appendFileSync } from 'node:fs';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { syncBuiltinESMExports } from 'node:module';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4})$/i;

let installed;

export function installLoopbackGuard() {
  if (installed) return installed;
  const attempts = [];
  const { TCP } = process.binding('tcp_wrap');
  for (const method of ['connect', 'connect6']) {
    const original = TCP.prototype[method];
    TCP.prototype[method] = function guarded(req, address, port, ...rest) {
      if (LOOPBACK.test(address)) return original.call(this, req, address, port, ...rest);
      attempts.push(`${address}:${port}`);
      if (process.env.GATEWAY_TEST_CONNECT_LOG) appendFileSync(process.env.GATEWAY_TEST_CONNECT_LOG, `${address}:${port}\n`);
      return -constants.errno.ECONNREFUSED;
    };
  }
  installed = { attempts };
  return installed;
}

/** dns.lookup answering from `hosts` (name → address) and localhost only; never a DNS query. */
export function fakeLookup(hosts) {
  return (hostname, options, callback) => {
    if (typeof options === 'function') [callback, options] = [options, {}];
    const opts = typeof options === 'number' ? { family: options } : (options ?? {});
    const address = hosts[hostname] ?? (isIP(hostname) ? hostname : hostname === 'localhost' ? '127.0.0.1' : undefined);
    const family = address?.includes(':') ? 6 : 4;
    process.nextTick(() => {
      if (!address)
        return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (test resolver)`), { code: 'ENOTFOUND', hostname }));
      if (opts.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    });
  };
}

if (process.env.GATEWAY_TEST_CONNECT_LOG) {
  installLoopbackGuard();
  dns.lookup = fakeLookup(JSON.parse(process.env.GATEWAY_TEST_HOSTS ?? '{}'));
  syncBuiltinESMExports();
}
