/**
 * BIND-like: an authoritative DNS server under dnsperf (paper §5.4 reports only a
 * headline range for BIND, so nothing here is calibrated on BIND data).
 *
 * One named worker thread per core wait on the server's UDP socket; per query they make
 * the recorded calls (`bind` in `mixes.json`): `epoll_wait` (sleeps until a query
 * arrives), `recvmmsg` (one datagram), the answer with `sendmmsg`, then a `recvmmsg` that
 * finds the socket empty (EAGAIN) and an `epoll_ctl` re-arming it. User instructions: the
 * paper's Table 2, 2,445 per call. The footprint and the network delay are the
 * Apache-like workload's (the same machines and network; BIND's own are not published).
 */
import type { Action } from '../../model/program.js';
import { APACHE } from './apache.js';
import type { ServerContext, ServerWorkload } from './server.js';

/** Table 2: BIND's user instructions per syscall. */
export const BIND_INSTRUCTIONS_PER_SYSCALL = 2445;

export function bindWorkload(): ServerWorkload {
  const perCall = BIND_INSTRUCTIONS_PER_SYSCALL;
  return {
    id: 'bind',
    footprint: { ...APACHE.footprint, name: 'bind' },
    roundTrips: 1,
    connections: 'per-request',
    clientDelayUs: APACHE.clientDelayUs,
    serviceEstimateUs: 20,
    start(ctx: ServerContext): void {
      const { loop, k } = ctx;
      for (let w = 0; w < k.cpus.length; w++) {
        ctx.spawn(
          `named${w}`,
          (function* (): Generator<Action, void, undefined> {
            for (;;) {
              yield { kind: 'compute', instructions: perCall };
              yield { kind: 'syscall', call: { name: 'epoll_wait', wait: loop.listen } };
              const query = loop.accept();
              yield { kind: 'request' };
              yield { kind: 'compute', instructions: perCall };
              yield { kind: 'syscall', call: { name: 'recvmmsg' } };
              yield { kind: 'compute', instructions: perCall };
              yield { kind: 'syscall', call: { name: 'sendmmsg', onDone: (now) => loop.reply(query, now) } };
              yield { kind: 'compute', instructions: perCall };
              yield { kind: 'syscall', call: { name: 'recvmmsg' } };
              yield { kind: 'compute', instructions: perCall };
              yield { kind: 'syscall', call: { name: 'epoll_ctl' } };
            }
          })(),
        );
      }
    },
  };
}
