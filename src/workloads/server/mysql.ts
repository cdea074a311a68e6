/**
 * MySQL-like: an OLTP database under sysbench (paper §5.3; DESIGN.md §7).
 *
 * One thread per client connection (MySQL's one-thread-per-connection; no cap). A
 * transaction is the recorded sysbench OLTP read-write transaction (`mysql-rw` in
 * `mixes.json`): 20 statements (BEGIN, 10 point selects, 4 range queries, 2 updates, a
 * delete, an insert, COMMIT), each a round trip: the client sends it, the server reads the
 * packet header and body (`recvfrom` ×2; the first sleeps until the statement arrives),
 * executes it and answers (`sendto`). The recording's commit-time `pwrite64` + `fdatasync`
 * of the redo log are left out: the paper ran with synchronous commits off.
 *
 * MySQL's coarse internal locks (the paper: its synchronisation makes throughput peak at
 * 32–128 clients and then fall) are one application mutex taken `locksPerStatement` times
 * per statement for `lockHoldInstructions` of its work: a contended acquisition sleeps in a
 * futex wait under NPTL and blocks at user level under FlexSC-Threads. Calibrated, with the
 * user instructions per transaction and the footprint, on the synchronous baseline only.
 */
import type { FootprintSpec } from '../../model/footprint.js';
import { UserMutex } from '../../model/locks.js';
import type { Action } from '../../model/program.js';
import { serverScript } from './mixes.js';
import type { ServerContext, ServerWorkload } from './server.js';

export interface MysqlParams {
  userInstructionsPerTransaction: number;
  locksPerStatement: number;
  lockHoldInstructions: number;
  clientDelayUs: number;
  footprint: FootprintSpec;
}

/** Statements per transaction in the recording (BEGIN … COMMIT). */
export function mysqlStatements(): number {
  return serverScript('mysql-rw').filter((s) => s.typical && s.name === 'sendto').length;
}

export function mysqlWorkload(p: MysqlParams): ServerWorkload {
  const statements = mysqlStatements();
  // Three calls per statement; the user work is spread over them.
  const perCall = p.userInstructionsPerTransaction / statements / 3;
  const locks = Math.round(p.locksPerStatement);
  const hold = Math.min(p.lockHoldInstructions, perCall / Math.max(1, locks));
  return {
    id: 'mysql',
    footprint: p.footprint,
    roundTrips: statements,
    connections: 'persistent',
    clientDelayUs: p.clientDelayUs,
    start(ctx: ServerContext): void {
      const { loop } = ctx;
      const big = new UserMutex<unknown>('mysql-global');
      for (const conn of loop.persistent) {
        ctx.spawn(
          `connection${conn.id}`,
          (function* (): Generator<Action, void, undefined> {
            for (;;) {
              yield { kind: 'request' };
              for (let s = 0; s < statements; s++) {
                yield { kind: 'compute', instructions: perCall };
                yield { kind: 'syscall', call: { name: 'recv', wait: conn.data } };
                yield { kind: 'compute', instructions: perCall };
                yield { kind: 'syscall', call: { name: 'recv' } };
                yield { kind: 'compute', instructions: perCall - locks * hold };
                for (let l = 0; l < locks; l++) {
                  yield { kind: 'lock', mutex: big };
                  yield { kind: 'compute', instructions: hold };
                  yield { kind: 'unlock', mutex: big };
                }
                yield { kind: 'syscall', call: { name: 'send', onDone: (now) => loop.reply(conn, now) } };
              }
            }
          })(),
        );
      }
    },
  };
}

/** The MySQL-like program's user footprint (calibrated on Table 5's synchronous rows). */
export const MYSQL_FOOTPRINT: FootprintSpec = {
  name: 'mysql',
  mode: 'user',
  baseCpi: 0.4,
  missOverlap: 0.5,
  codeMissOverlap: 0.5,
  mispredictsPerKilo: 6,
  regions: [
    { name: 'code-hot', side: 'code', scope: 'shared', lines: 800, pattern: 'uniform', refsPerKilo: 60 },
    { name: 'code-warm', side: 'code', scope: 'shared', lines: 4000, pattern: 'uniform', refsPerKilo: 6 },
    { name: 'data-hot', side: 'data', scope: 'process', lines: 500, pattern: 'uniform', refsPerKilo: 100 },
    { name: 'data-warm', side: 'data', scope: 'process', lines: 6000, pattern: 'uniform', refsPerKilo: 20 },
    { name: 'data-tail', side: 'data', scope: 'process', lines: 2_000_000, pattern: 'uniform', refsPerKilo: 0.6 },
    { name: 'stack', side: 'data', scope: 'thread', lines: 64, pattern: 'uniform', refsPerKilo: 30 },
  ],
};

export const MYSQL: MysqlParams = {
  userInstructionsPerTransaction: 4_500_000,
  locksPerStatement: 2,
  lockHoldInstructions: 4000,
  clientDelayUs: 150,
  footprint: MYSQL_FOOTPRINT,
};
