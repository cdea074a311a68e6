/**
 * The server syscall mixes (src/workloads/server/): mixes.json and the tables of MIXES.md
 * are exactly what the extractor makes of the strace fixtures; each script adds up to its
 * recording; and the facts a reader of the recordings can check by hand hold (one accept
 * and one close per Apache request, one receive and one send per DNS query, a MariaDB
 * connection thread reading as many query packets per transaction as sysbench sent).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStraceText, summarizeStrace, type SyscallEvent } from '../src/workloads/trace/strace.js';
import { TOLERANCE, extractMixes, stableJSON } from '../src/workloads/server/extract.js';
import { generatedBlock, renderServer } from '../src/workloads/server/markdown.js';
import {
  MIXES_FILE,
  SERVER_IDS,
  loadMixes,
  serverMix,
  serverScript,
  type Mixes,
  type ScriptStep,
  type ServerMix,
} from '../src/workloads/server/mixes.js';
import { argsOf, decodeCString, fdKindOfArg, splitArgs } from '../src/workloads/server/strace-args.js';

/** Compiled tests run from dist/test; sources and fixtures stay in the tree. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/strace');
const MARKDOWN = join(ROOT, 'src/workloads/server/MIXES.md');

function fixtureNumber(file: string, re: RegExp): number {
  const m = re.exec(readFileSync(join(FIXTURES, file), 'utf8'));
  if (!m) throw new Error(`${file}: ${re} not found`);
  return Number(m[1]);
}

/** Sum of perRequest over the steps that satisfy `pred`. */
function per(steps: readonly ScriptStep[], pred: (s: ScriptStep) => boolean): number {
  return steps.filter(pred).reduce((n, s) => n + s.perRequest, 0);
}

/** Steps' perRequest are rounded to 4 decimals: a sum of n of them is off by at most n × 5e-5. */
function roundingSlack(n: number): number {
  return n * 5e-5 + 1e-9;
}

describe('server mixes: strace argument helpers', () => {
  it('splits arguments at top-level commas only (strings, brackets, -yy decorations)', () => {
    expect(splitArgs('43<TCP:[127.0.0.1:3307->127.0.0.1:51542]>, "a, \\"b\\"", 4, [{fd=3, events=POLLIN}], NULL')).to.deep.equal([
      '43<TCP:[127.0.0.1:3307->127.0.0.1:51542]>',
      '"a, \\"b\\""',
      '4',
      '[{fd=3, events=POLLIN}]',
      'NULL',
    ]);
    expect(splitArgs('5<UNIX-STREAM:[1->2,"/run/x, y.sock"]>, 0')).to.deep.equal(['5<UNIX-STREAM:[1->2,"/run/x, y.sock"]>', '0']);
    expect(splitArgs('')).to.deep.equal([]);
  });

  it('names fd kinds from -yy decorations', () => {
    expect(fdKindOfArg('11<TCP:[127.0.0.1:8080->127.0.0.1:52500]>')).to.equal('TCP');
    expect(fdKindOfArg('3<TCP:[127.0.0.1:8080]>')).to.equal('TCP listen');
    expect(fdKindOfArg('25<UDP:[127.0.0.1:5353]>')).to.equal('UDP');
    expect(fdKindOfArg('7<anon_inode:[eventpoll]>')).to.equal('eventpoll');
    expect(fdKindOfArg('4<pipe:[40402]>')).to.equal('pipe');
    expect(fdKindOfArg('12</tmp/x/ib_logfile0>')).to.equal('file');
    expect(fdKindOfArg('0</dev/null<char 1:3>>')).to.equal('char');
    expect(fdKindOfArg('AT_FDCWD</>')).to.equal('cwd');
    expect(fdKindOfArg('0x7f9d')).to.equal('none');
  });

  it('decodes C string literals with octal, hex and named escapes, and -s truncation', () => {
    expect(decodeCString('"\\26BEGIN"')).to.deep.equal({ bytes: [22, 66, 69, 71, 73, 78], truncated: false });
    expect(decodeCString('"\\f\\0\\0\\1\\0\\10\\0\\0\\0"')!.bytes).to.deep.equal([12, 0, 0, 1, 0, 8, 0, 0, 0]);
    expect(decodeCString('"\\x41\\\\\\""...')).to.deep.equal({ bytes: [65, 92, 34], truncated: true });
    expect(decodeCString('0x77f31c008748')).to.equal(undefined);
  });

  it('gives the arguments of a call whose result has a parenthesised part without that part', () => {
    const text = [
      '1 10:00:00.000001 recvfrom(43<TCP:[1.2.3.4:1->5.6.7.8:2]>, 0x7f, 4, MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable) <0.000009>',
      '1 10:00:00.000002 fcntl(11<TCP:[1.2.3.4:1->5.6.7.8:2]>, F_GETFL <unfinished ...>',
      '1 10:00:00.000003 <... fcntl resumed>) = 0x2 (flags O_RDWR) <0.000028>',
      '1 10:00:00.000004 poll([{fd=43<TCP:[1.2.3.4:1->5.6.7.8:2]>, events=POLLIN}], 1, 100) = 1 ([{fd=43, revents=POLLIN}]) <0.000009>',
      '1 10:00:00.000005 getpid() = 1 <0.000001>',
    ].join('\n');
    const calls = parseStraceText(text).events.filter((e): e is SyscallEvent => e.type === 'syscall');
    expect(calls.map((c) => argsOf(c))).to.deep.equal([
      '43<TCP:[1.2.3.4:1->5.6.7.8:2]>, 0x7f, 4, MSG_DONTWAIT, NULL, NULL',
      '11<TCP:[1.2.3.4:1->5.6.7.8:2]>, F_GETFL',
      '[{fd=43<TCP:[1.2.3.4:1->5.6.7.8:2]>, events=POLLIN}], 1, 100',
      '',
    ]);
  });
});

describe('server mixes: mixes.json and MIXES.md are what the fixtures give', function () {
  this.timeout(60000);
  let fresh: Mixes;

  before(async () => {
    fresh = await extractMixes(FIXTURES);
  });

  it('mixes.json equals a fresh extraction, byte for byte', () => {
    const stored = readFileSync(MIXES_FILE, 'utf8');
    expect(JSON.parse(stored)).to.deep.equal(JSON.parse(stableJSON(fresh)));
    expect(stored).to.equal(stableJSON(fresh));
  });

  it('the generated tables of MIXES.md are current', () => {
    const md = readFileSync(MARKDOWN, 'utf8');
    for (const id of SERVER_IDS) expect(generatedBlock(md, id), id).to.equal(renderServer(id, fresh.servers[id]));
  });

  it('the recording totals are the parser summary of each trace, per syscall name', async () => {
    for (const id of SERVER_IDS) {
      const m = fresh.servers[id];
      const s = await summarizeStrace(join(ROOT, m.source.trace));
      expect(m.recording.calls, id).to.equal(s.calls);
      expect(m.recording.pending, id).to.equal(s.pending);
      expect(m.recording.threads, id).to.equal(s.tids);
      expect(Object.keys(m.recording.syscalls).sort(), id).to.deep.equal([...s.syscalls.keys()].sort());
      for (const [name, t] of s.syscalls) {
        const r = m.recording.syscalls[name]!;
        expect(r.calls, `${id} ${name}`).to.equal(t.calls);
        expect(r.perRequest, `${id} ${name}`).to.be.closeTo(t.calls / m.source.requests, 5e-5);
        expect(r.errorShare, `${id} ${name}`).to.be.closeTo(t.errors / t.calls, 5e-5);
        expect(r.waits + r.work, `${id} ${name}`).to.equal(r.calls);
        expect(r.blocked + r.probes, `${id} ${name}`).to.equal(r.waits);
      }
    }
  });
});

describe('server mixes: the scripts add up to the recordings', () => {
  const mixes = loadMixes();

  it('loads through the schema, with every server and a non-empty script', () => {
    for (const id of SERVER_IDS) {
      expect(serverScript(id).length, id).to.be.greaterThan(0);
      expect(serverMix(id).source.requests, id).to.be.greaterThan(0);
    }
    expect(mixes.tolerance.relative).to.equal(TOLERANCE.relative);
    expect(mixes.tolerance.absolute).to.equal(TOLERANCE.absolute);
  });

  for (const id of SERVER_IDS) {
    describe(id, () => {
      const m: ServerMix = mixes.servers[id];
      const steps = m.script.steps;

      it('per syscall name, the steps sum to the match table and every call is in a step or unattributed', () => {
        const names = Object.keys(m.recording.syscalls);
        expect(Object.keys(m.match.perSyscall).sort()).to.deep.equal([...names].sort());
        for (const s of steps) expect(names, s.name).to.include(s.name);
        for (const name of names) {
          const own = steps.filter((s) => s.name === name);
          const row = m.match.perSyscall[name]!;
          expect(per(own, () => true), name).to.be.closeTo(row.script, roundingSlack(own.length + 1));
          expect(per(own, (s) => s.role === 'background'), name).to.be.closeTo(row.background, roundingSlack(own.length + 1));
          // calls: in cycles (worker and listener steps × requests), background steps, unattributed
          const inSteps = per(own, () => true) * m.script.requests;
          const unattributed = m.unattributed.bySyscall[name] ?? 0;
          expect(inSteps + unattributed, name).to.be.closeTo(m.recording.syscalls[name]!.calls, roundingSlack(own.length) * m.script.requests + 1e-6);
        }
        expect(m.unattributed.calls).to.equal(Object.values(m.unattributed.bySyscall).reduce((a, b) => a + b, 0));
        expect(m.unattributed.calls).to.equal(Object.values(m.unattributed.byReason).reduce((a, b) => a + b, 0));
      });

      it('script and recording agree per syscall name and in total within the stated tolerance', () => {
        const { relative, absolute } = mixes.tolerance;
        const rows = [...Object.entries(m.match.perSyscall), ['all', m.match.total] as const];
        for (const [name, r] of rows) {
          const scriptSum = name === 'all' ? per(steps, () => true) : per(steps, (s) => s.name === name);
          const recording = name === 'all' ? m.recording.callsPerRequest : m.recording.syscalls[name]!.perRequest;
          expect(r.recording, name).to.be.closeTo(recording, 5e-5);
          expect(Math.abs(scriptSum - recording), name).to.be.at.most(Math.max(relative * recording, absolute) + roundingSlack(steps.length));
          expect(r.ok, name).to.equal(true);
        }
        expect(m.script.callsPerRequest).to.be.closeTo(per(steps, () => true), roundingSlack(steps.length));
      });

      it('steps come listener, worker, background; typical steps of a role are most of its calls; numbers are sane', () => {
        const order = { listener: 0, worker: 1, background: 2 } as const;
        for (let k = 1; k < steps.length; k++) expect(order[steps[k]!.role]).to.be.at.least(order[steps[k - 1]!.role]);
        for (const s of steps) {
          expect(s.perRequest, s.name).to.be.greaterThan(0);
          if (s.role === 'background') expect(s.typical).to.equal(false);
          if (s.waitFor === null) expect(s.blockedShare, `${s.name} ${s.detail}`).to.equal(0);
        }
        for (const [role, r] of Object.entries(m.script.roles)) {
          // (apache's listener makes 30 % of its calls off the typical path: throttling when every worker is busy)
          const own = steps.filter((s) => s.role === role);
          expect(per(own, (s) => s.typical), role).to.be.greaterThan(0.6 * per(own, () => true));
          expect(r.typicalShare, role).to.be.greaterThan(0.5);
        }
        // the requests the trace shows are the load generator's
        expect(m.script.requests).to.equal(m.source.requests);
      });
    });
  }
});

describe('server mixes: facts of each recording', () => {
  const isTcp = (s: ScriptStep) => s.fd === 'TCP';

  it('apache: one accept, one request read, one response, one close of the connection per request', () => {
    const m = serverMix('apache');
    const steps = m.script.steps;
    const requests = fixtureNumber('apache-ab.ab.txt', /Complete requests:\s+(\d+)/);
    expect(m.source.requests).to.equal(requests);
    expect(per(steps, (s) => s.name === 'accept4')).to.be.closeTo(1, 1e-9);
    expect(steps.filter((s) => s.name === 'accept4').every((s) => s.role === 'listener')).to.equal(true);
    expect(per(steps, (s) => s.name === 'read' && s.detail === 'HTTP request')).to.be.closeTo(1, 1e-9);
    expect(per(steps, (s) => s.name === 'close' && isTcp(s))).to.be.closeTo(1, roundingSlack(4));
    expect(per(steps, (s) => s.name === 'close' && s.fd === 'file')).to.be.closeTo(1, roundingSlack(4));
    expect(per(steps, (s) => s.name === 'shutdown')).to.be.closeTo(1, 1e-9);
    // the response: headers by writev, the page by sendfile, as many bytes as ab received
    const docLength = fixtureNumber('apache-ab.ab.txt', /Document Length:\s+(\d+)/);
    const transferred = fixtureNumber('apache-ab.ab.txt', /Total transferred:\s+(\d+)/);
    const sendfile = steps.find((s) => s.name === 'sendfile')!;
    const writev = steps.find((s) => s.name === 'writev')!;
    expect(sendfile.bytes).to.equal(docLength);
    expect(writev.bytes! + sendfile.bytes!).to.be.closeTo(transferred / requests, 1);
    // event MPM: one listener thread hands connections to 4 worker threads
    const roles = m.threads.map((t) => t.role);
    expect(roles.filter((r) => r === 'worker')).to.have.length(4);
    expect(roles.filter((r) => r === 'listener')).to.have.length(1);
    // a worker idles in FUTEX_WAIT for the next connection; the listener waits in epoll_wait
    const idle = steps.find((s) => s.role === 'worker' && s.typical && s.name === 'futex' && s.detail === 'FUTEX_WAIT')!;
    expect(idle.waitFor).to.equal('thread');
    expect(idle.blockedShare).to.be.greaterThan(0.9);
    const poll = steps.find((s) => s.role === 'listener' && s.typical && s.name === 'epoll_wait')!;
    expect(poll.waitFor).to.equal('connection');
  });

  for (const kind of ['rw', 'ro'] as const) {
    it(`mysql-${kind}: query packets read per transaction match sysbench's queries per transaction`, () => {
      const m = serverMix(`mysql-${kind}`);
      const steps = m.script.steps.filter((s) => s.role === 'worker');
      const tx = fixtureNumber(`mariadb-oltp-${kind}.sysbench.txt`, /transactions:\s+(\d+)/);
      const queries = fixtureNumber(`mariadb-oltp-${kind}.sysbench.txt`, /queries:\s+(\d+)/);
      expect(m.source.requests).to.equal(tx);
      const bodies = per(steps, (s) => s.name === 'recvfrom' && s.errno === null && /^(execute|query) /.test(s.detail));
      const headers = per(steps, (s) => s.name === 'recvfrom' && s.errno === null && s.detail === 'packet header');
      const replies = per(steps, (s) => s.name === 'sendto');
      expect(bodies).to.be.closeTo(queries / tx, 0.01 * (queries / tx));
      expect(headers).to.be.closeTo(bodies, roundingSlack(steps.length));
      expect(replies).to.be.closeTo(bodies, roundingSlack(steps.length));
      // a transaction is BEGIN … COMMIT
      const bodySteps = steps.filter((s) => /^(execute|query) /.test(s.detail));
      expect(bodySteps[0]!.detail).to.match(/ BEGIN$/);
      expect(bodySteps[bodySteps.length - 1]!.detail).to.match(/ COMMIT$/);
      // one connection thread per sysbench thread
      const threads = fixtureNumber(`mariadb-oltp-${kind}.sysbench.txt`, /Number of threads:\s+(\d+)/);
      expect(m.threads.filter((t) => t.role === 'worker')).to.have.length(threads);
      // an empty socket: an EAGAIN probe, then poll for the client
      expect(per(steps, (s) => s.name === 'recvfrom' && s.errno === 'EAGAIN')).to.be.closeTo(per(steps, (s) => s.name === 'poll'), 0.01);
      for (const s of steps.filter((x) => x.name === 'poll')) expect(s.waitFor).to.equal('client');
      // the redo log: written and flushed at each read-write commit, not at all read-only
      const log = (name: string) => per(steps, (s) => s.name === name && s.detail === 'ib_logfile0');
      if (kind === 'rw') {
        expect(log('pwrite64')).to.be.closeTo(1, 0.02);
        expect(log('fdatasync')).to.be.closeTo(1, 0.02);
        expect(steps.find((s) => s.name === 'fdatasync' && s.typical)!.waitFor).to.equal('disk');
      } else {
        expect(log('pwrite64') + log('fdatasync')).to.equal(0);
      }
    });
  }

  it('bind: one datagram received and one answer sent per query, by one thread', () => {
    const m = serverMix('bind');
    const steps = m.script.steps.filter((s) => s.role === 'worker');
    const queries = fixtureNumber('bind-dnsperf.dnsperf.txt', /Queries completed:\s+(\d+)/);
    expect(m.source.requests).to.equal(queries);
    // every datagram recvmmsg returned is a request (script.requests counts them)
    expect(m.script.requests).to.equal(queries);
    const receives = per(steps, (s) => s.name === 'recvmmsg' && s.errno === null);
    const sends = per(steps, (s) => s.name === 'sendmmsg');
    expect(receives).to.be.within(0.99, 1 + roundingSlack(steps.length));
    expect(sends).to.be.within(0.99, 1 + roundingSlack(steps.length));
    // the socket is drained until EAGAIN, re-armed, and the thread sleeps in epoll_wait for the next query
    expect(per(steps, (s) => s.name === 'recvmmsg' && s.errno === 'EAGAIN')).to.be.closeTo(1, 0.01);
    const wait = steps.find((s) => s.name === 'epoll_wait' && s.typical)!;
    expect(wait.waitFor).to.equal('client');
    expect(wait.detail).to.equal('ready: UDP');
    expect(m.threads.filter((t) => t.role === 'worker')).to.have.length(1);
    // a query is about 28 bytes and its answer about 58 (dnsperf's averages)
    const q = steps.find((s) => s.name === 'recvmmsg' && s.typical && s.errno === null)!;
    const a = steps.find((s) => s.name === 'sendmmsg' && s.typical)!;
    expect(q.bytes).to.be.within(20, 40);
    expect(a.bytes).to.be.within(40, 80);
  });
});
