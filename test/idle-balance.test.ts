import { expect } from 'chai';
import { KERNEL } from '../src/hw/cache-array.js';
import type { FootprintSpec } from '../src/model/footprint.js';
import { Kernel, type Process, type Task } from '../src/model/kernel.js';
import type { Action } from '../src/model/program.js';
import { FlexscThreads } from '../src/model/flexsc-threads.js';
import { NptlThread } from '../src/model/sync-path.js';
import { WaitChannel } from '../src/model/wait-channel.js';
import { buildRunConfig } from '../src/run-config.js';
import { InputError } from '../src/errors.js';

const APP: FootprintSpec = {
  name: 'app',
  mode: 'user',
  baseCpi: 1,
  mispredictsPerKilo: 0,
  regions: [{ name: 'code', side: 'code', scope: 'shared', lines: 8, pattern: 'uniform', refsPerKilo: 20 }],
};

const DEEP = 'os.idle.deeper=[{"afterUs":80,"exitCycles":46000},{"afterUs":800,"exitCycles":460000}]';

/** A program that computes `n` instructions and exits. */
function* compute(n: number): Generator<Action> {
  yield { kind: 'compute', instructions: n };
}

/** Starts a thread running `program`, pinned to `cpu`. */
function startPinned(k: Kernel, name: string, proc: Process, program: Generator<Action>, cpu: number): NptlThread {
  const t = new NptlThread(k, name, proc, program, cpu);
  t.pinned = cpu;
  k.start(t);
  return t;
}

/** Cycles from a post to the woken thread running again, on one core idle for `idleCycles`. */
function wakeLatency(overrides: string[], idleCycles: number): number {
  const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=1', ...overrides]), seed: 1 });
  const ch = new WaitChannel<Task>('socket');
  let resumedAt = -1;
  function* prog(): Generator<Action> {
    yield { kind: 'syscall', call: { name: 'read', wait: ch } };
    resumedAt = k.now;
  }
  const proc = k.createProcess('app', APP);
  k.start(new NptlThread(k, 't', proc, prog(), 0));
  k.at(idleCycles, () => k.post(ch));
  k.run();
  k.checkCycleStacks();
  return resumedAt - idleCycles;
}

describe('OS model: idle states (os.idle.deeper, os.idle.governor)', () => {
  it('by default every idle CPU wakes after the calibrated exit latency, however long it idled', () => {
    const short = wakeLatency([], 20_000);
    const long = wakeLatency([], 5_000_000);
    expect(short).to.be.at.least(285);
    expect(Math.abs(long - short)).to.be.lessThan(100);
  });

  it('a CPU idle past a deeper state\'s residency pays that state\'s exit latency, and only then', () => {
    const base = wakeLatency([], 20_000);
    // 20,000 cycles = 8.7 µs at 2.3 GHz: still the shallow state.
    expect(wakeLatency([DEEP], 20_000)).to.be.closeTo(base, 100);
    // 400,000 cycles = 174 µs: past 80 µs, not 800 µs.
    expect(wakeLatency([DEEP], 400_000)).to.be.closeTo(base - 285 + 46_000, 100);
    // 5,000,000 cycles = 2.2 ms: the deepest.
    expect(wakeLatency([DEEP], 5_000_000)).to.be.closeTo(base - 285 + 460_000, 100);
  });

  /** Wake latencies on one core whose thread waits, after each wake, `gaps[i]` cycles for a post. */
  function wakeLatencies(overrides: string[], gaps: number[]): number[] {
    const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=1', ...overrides]), seed: 1 });
    const ch = new WaitChannel<Task>('socket');
    const latencies: number[] = [];
    let postedAt = -1;
    const postAfter = (gap: number): void => {
      postedAt = k.now + gap;
      k.at(postedAt, () => k.post(ch));
    };
    function* prog(): Generator<Action> {
      for (const gap of gaps) {
        postAfter(gap);
        yield { kind: 'syscall', call: { name: 'read', wait: ch } };
        latencies.push(k.now - postedAt);
      }
    }
    const proc = k.createProcess('app', APP);
    k.start(new NptlThread(k, 't', proc, prog(), 0));
    k.run();
    k.checkCycleStacks();
    return latencies;
  }

  it("'menu' picks the state from the CPU's recent idle periods and pays its exit even when woken early", () => {
    // One idle period of 1 M cycles (435 µs: past C3's 80 µs residency, short of C6's
    // 800 µs), then twenty of 20,000 cycles (8.7 µs).
    const gaps = [1_000_000, ...Array<number>(20).fill(20_000)];
    const ladder = wakeLatencies([DEEP], gaps);
    const menu = wakeLatencies([DEEP, 'os.idle.governor=menu'], gaps);
    // The ladder: the long period reached C3, every short one stays shallow.
    expect(ladder[0]).to.be.at.least(46_000).and.lessThan(460_000);
    for (const l of ladder.slice(1)) expect(l).to.be.lessThan(10_000);
    // The menu: the first period follows the boot (no history: the deepest state)...
    expect(menu[0]).to.be.at.least(460_000);
    // ...then the 1 M-cycle period makes it expect a long idle, so it enters C3 and pays its
    // exit on the short periods too, until the running average (decaying by 1/8) falls
    // below C3's residency (184,000 cycles) after about 13 of them.
    expect(menu[1]).to.be.at.least(46_000).and.lessThan(460_000);
    expect(menu[12]).to.be.at.least(46_000);
    expect(menu[20]).to.be.lessThan(10_000);
    // Without deeper states the governor changes nothing.
    expect(wakeLatencies(['os.idle.governor=menu'], gaps)).to.deep.equal(wakeLatencies([], gaps));
  });

  it('--set takes a JSON array for a list and rejects anything else, naming the key', () => {
    expect(buildRunConfig('nehalem-2010', [DEEP]).os.idle.deeper).to.deep.equal([
      { afterUs: 80, exitCycles: 46_000 },
      { afterUs: 800, exitCycles: 460_000 },
    ]);
    expect(() => buildRunConfig('nehalem-2010', ['os.idle.deeper=80:46000'])).to.throw(InputError, /os\.idle\.deeper=80:46000: expected a JSON array/);
    expect(() => buildRunConfig('nehalem-2010', ['os.idle.deeper=[{"afterUs":80}]'])).to.throw(InputError, /os\.idle\.deeper\.0\.exitCycles/);
  });
});

/** Lock-wait cycles of a munmap on core 0 while core 1, which ran the process, idles. */
function shootdownWait(overrides: string[]): { wait: number; ipis: number } {
  const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=2', ...overrides]), seed: 3 });
  const proc = k.createProcess('app', APP);
  function* unmapper(): Generator<Action> {
    // Long enough for core 1 to idle past 80 µs before the munmap.
    yield { kind: 'compute', instructions: 400_000 };
    yield { kind: 'syscall', call: { name: 'munmap' } };
  }
  startPinned(k, 'a', proc, unmapper(), 0);
  startPinned(k, 'b', proc, compute(1000), 1);
  k.run();
  k.checkCycleStacks();
  return { wait: k.cpus[0].core.stack.get(KERNEL, 'lock_wait'), ipis: k.ipisSent };
}

describe('OS model: TLB shootdown acknowledgements (os.ipi.shootdownAcks)', () => {
  it("'fixed' charges one IPI flight and handler; 'targets' waits for the idle target to wake and run it", () => {
    const fixed = shootdownWait([]);
    const fixedDeep = shootdownWait([DEEP]);
    const targets = shootdownWait(['os.ipi.shootdownAcks=targets']);
    const targetsDeep = shootdownWait(['os.ipi.shootdownAcks=targets', DEEP]);
    expect(fixed.ipis).to.equal(1);
    expect(targetsDeep.ipis).to.equal(1);
    // The fixed charge: send 150 + flight 500 + 100 handler instructions at CPI 0.6.
    expect(fixed.wait).to.equal(150 + 500 + 60);
    expect(fixedDeep.wait).to.equal(fixed.wait);
    // Waiting for the ack: the flight, the target's wake from the shallow state, its handler.
    expect(targets.wait).to.be.at.least(150 + 500 + 285);
    expect(targets.wait).to.be.lessThan(10_000);
    // Core 1 idled for ~170 µs, past the 80 µs state: its exit lies on the sender's wait.
    expect(targetsDeep.wait).to.be.at.least(150 + 500 + 46_000);
    expect(targetsDeep.wait).to.be.lessThan(460_000);
  });
});

/** The work-conserving scheduler (a model option; the default is Linux 2.6.33's balancer). */
const EAGER = ['os.scheduler.balancer=eager'];

describe('OS model: idle balance and cache-hot tasks (os.scheduler.migrationCostUs)', () => {
  /** Three CPU-bound threads on two cores; when each ended, and the idle-balance retries. */
  function run(overrides: string[]): { ends: Record<string, number>; rebalances: number } {
    const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=2', ...overrides]), seed: 4 });
    const proc = k.createProcess('app', APP);
    const ends: Record<string, number> = {};
    function* work(name: string, n: number): Generator<Action> {
      yield { kind: 'compute', instructions: n };
      ends[name] = k.now;
    }
    // t0 and t2 share core 0: at the end of t0's 3 ms slice (6.9 M cycles) t2 runs and t0
    // waits, hot, in core 0's queue; t1 ends on core 1 at about 9 M cycles.
    k.start(new NptlThread(k, 't0', proc, work('t0', 20_000_000), 0));
    k.start(new NptlThread(k, 't1', proc, work('t1', 9_000_000), 1));
    k.start(new NptlThread(k, 't2', proc, work('t2', 20_000_000), 0));
    k.run();
    k.checkCycleStacks();
    return { ends, rebalances: k.rebalances };
  }

  it("under 'eager', with no migration cost an idle CPU pulls a queued task at once; with one it waits until the task is cold", () => {
    const free = run([...EAGER, 'os.scheduler.migrationCostUs=0']);
    const hot = run([...EAGER, 'os.scheduler.migrationCostUs=2000']);
    expect(free.rebalances).to.equal(0);
    expect(hot.rebalances).to.equal(1);
    // Without the cost core 1 takes t0 when t1 ends; with it, only once t0 has been off a
    // CPU for 2 ms (4.6 M cycles after ~6.9 M): about 2.5 M cycles later, plus a wake-up.
    const delay = hot.ends.t0 - free.ends.t0;
    expect(delay).to.be.greaterThan(2_000_000);
    expect(delay).to.be.lessThan(3_000_000);
    expect(hot.ends.t1).to.equal(free.ends.t1);
  });
});

describe('OS model: Linux 2.6.33 wake placement and idle balance (os.scheduler.balancer)', () => {
  const LINUX = ['os.scheduler.balancer=2.6.33', 'os.scheduler.migrationCostUs=500'];

  /**
   * Three cores: a waker busy on core 0 wakes a task that last ran on core 1, where another
   * task is busy; core 2 is idle. Returns the core the woken task ran on.
   */
  function wokenOn(overrides: string[]): number {
    const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=3', ...overrides]), seed: 5 });
    const proc = k.createProcess('app', APP);
    const ch = new WaitChannel<Task>('socket');
    let ranOn = -1;
    function* sleeper(): Generator<Action> {
      yield { kind: 'compute', instructions: 1000 };
      t.pinned = -1;
      yield { kind: 'syscall', call: { name: 'read', wait: ch } };
      ranOn = t.cpu!.id;
    }
    function* waker(): Generator<Action> {
      yield { kind: 'compute', instructions: 200_000 };
      k.post(ch);
      yield { kind: 'compute', instructions: 200_000 };
    }
    const t = startPinned(k, 't', proc, sleeper(), 1);
    startPinned(k, 'b', proc, compute(2_000_000), 1);
    startPinned(k, 'w', proc, waker(), 0);
    k.run();
    k.checkCycleStacks();
    return ranOn;
  }

  it("'eager' wakes a task on the idle core; '2.6.33' sends it back to its busy previous core (wake_affine)", () => {
    expect(wokenOn(EAGER)).to.equal(2);
    expect(wokenOn(LINUX)).to.equal(1);
    // Linux 2.6.33's balancer is the default.
    expect(wokenOn([])).to.equal(1);
  });

  /**
   * Two cores. Core 1 runs a thread that sleeps briefly many times (short idle periods) and,
   * before it exits, starts a task that last ran on core 0, where another thread is busy.
   * Returns how long after core 1 ran out of work that task first ran, in cycles.
   */
  function pullDelay(overrides: string[]): number {
    const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=2', ...overrides]), seed: 6 });
    const proc = k.createProcess('app', APP);
    const ch = new WaitChannel<Task>('socket');
    let zDone = -1;
    let yStart = -1;
    function* late(): Generator<Action> {
      yStart = k.now;
      yield { kind: 'compute', instructions: 1000 };
    }
    const y = new NptlThread(k, 'y', proc, late(), 0);
    function* napper(): Generator<Action> {
      for (let i = 0; i < 40; i++) {
        k.at(k.now + 20_000, () => k.post(ch));
        yield { kind: 'syscall', call: { name: 'read', wait: ch } };
      }
      // Core 0 is busy and core 1 runs this thread: y queues on core 0 under both rules.
      k.start(y);
      zDone = k.now;
    }
    startPinned(k, 'z', proc, napper(), 1);
    startPinned(k, 'x', proc, compute(20_000_000), 0);
    k.run();
    k.checkCycleStacks();
    expect(zDone).to.be.greaterThan(0);
    return yStart - zDone;
  }

  /**
   * Two cores: two CPU-bound threads share core 0; core 1 idles. Returns how long the second
   * waited after its first time slice before it ran again, and on which core.
   */
  function afterSlice(overrides: string[]): { waited: number; core: number } {
    const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=2', ...overrides]), seed: 7 });
    const proc = k.createProcess('app', APP);
    const log: { at: number; core: number }[] = [];
    function* chunks(): Generator<Action> {
      y.pinned = -1;
      for (let i = 0; i < 400; i++) {
        log.push({ at: k.now, core: y.cpu!.id });
        yield { kind: 'compute', instructions: 50_000 };
      }
    }
    startPinned(k, 'x', proc, compute(40_000_000), 0);
    const y = startPinned(k, 'y', proc, chunks(), 0);
    k.run();
    k.checkCycleStacks();
    // The largest gap between two chunks is the wait after the first slice.
    let best = { waited: 0, core: -1 };
    for (let i = 1; i < log.length; i++) {
      const gap = log[i].at - log[i - 1].at;
      if (gap > best.waited) best = { waited: gap, core: log[i].core };
    }
    return best;
  }

  it("the periodic balancer moves a cache-hot task after two failed attempts (cache_nice_tries)", () => {
    // Migration cost 5 ms, balance every 0.5 ms: the task preempted at the end of its slice
    // is hot for 5 ms, so the idle core's first two attempts fail and the third (about
    // 1.5 ms, 3.45 M cycles, after the preemption) takes it — before core 0's other thread
    // ends its own 3 ms slice.
    const linux = afterSlice(['os.scheduler.balancer=2.6.33', 'os.scheduler.migrationCostUs=5000', 'os.scheduler.idleBalanceUs=500']);
    expect(linux.core).to.equal(1);
    expect(linux.waited).to.be.within(3_300_000, 3_700_000);
    // 'eager' never looks at an idle core again: the task waits for core 0's next slice.
    const eager = afterSlice([...EAGER, 'os.scheduler.migrationCostUs=5000']);
    expect(eager.core).to.equal(0);
    expect(eager.waited).to.be.greaterThan(6_500_000);
  });

  it('pinned tasks (FlexSC carriers and syscall threads) run the same under both balancers, to the last cycle', () => {
    // Two cores, one busy carrier and one idle: nothing can move, so the 2.6.33 balancer
    // must not schedule balances either (a no-op one would run the clock past the work).
    function flexsc(overrides: string[]) {
      const k = new Kernel({ config: buildRunConfig('nehalem-2010', ['hw.cores=2', ...overrides]), seed: 3 });
      function* work(): Generator<Action> {
        for (let i = 0; i < 40; i++) {
          yield { kind: 'compute', instructions: 20_000 };
          yield { kind: 'syscall', call: { name: 'getppid' } };
        }
      }
      const rt = new FlexscThreads(k, k.createProcess('app', APP));
      rt.spawn('u0', work());
      rt.spawn('u1', compute(0));
      rt.spawn('u2', work());
      k.run();
      k.checkCycleStacks();
      return { now: k.now, stacks: k.cpus.map((c) => c.core.stack.toRecord()), rebalances: k.rebalances };
    }
    const eager = flexsc(EAGER);
    const linux = flexsc(LINUX);
    expect(linux.rebalances).to.equal(0);
    expect(linux.now).to.equal(eager.now);
    expect(linux.stacks).to.deep.equal(eager.stacks);
  });

  it("a core with short idle periods does not pull when it runs out of work under '2.6.33'; the periodic balancer does", () => {
    // Eager: core 1 pulls the waiting task as soon as its own thread is gone.
    expect(pullDelay([...EAGER, 'os.scheduler.migrationCostUs=0'])).to.be.lessThan(20_000);
    // 2.6.33: 20,000-cycle naps bring avg_idle far below the 500 µs migration cost, so no
    // new-idle pull; the idle core is balanced 1 ms (2.3 M cycles) later.
    const linux = pullDelay(LINUX);
    expect(linux).to.be.at.least(2_300_000);
    expect(linux).to.be.lessThan(2_400_000);
    // With a 4 ms balance interval (HZ=250) it is not pulled at 1 ms (here core 0's time
    // slice ends first, and the task runs there).
    expect(pullDelay([...LINUX, 'os.scheduler.idleBalanceUs=4000'])).to.be.greaterThan(2_400_000);
  });
});
