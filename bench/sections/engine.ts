/**
 * Section "engine": throughput of the discrete-event engine (simjs, reached only through
 * src/model/engine.ts) on an M/M/1 queue, in customers per second, against the same model in
 * SimPy (bench/mm1_simpy.py, run with a python3 that has SimPy; installed from Debian's
 * python3-simpy3 if missing).
 *
 * Same arrival rate, service rate and number of customers on both sides. Each side builds its
 * model in its own idiom: here one entity with two kinds of timer (arrival, departure) and a
 * FIFO of waiting customers; in SimPy a source process, a process per customer and a Resource.
 * The run goes to completion (`simulate(Infinity)`: simjs's `simulate(endTime)` silently drops
 * the first event past endTime), i.e. until the last customer has left.
 *
 * The sides take turns (TURNS runs each, alternating, so a busy machine slows both alike) and
 * each keeps its fastest run, timed in process CPU time around the simulation only (for Node
 * that includes V8's background threads, e.g. concurrent GC: if anything it counts against
 * simjs).
 *
 * Sanity check (printed, not asserted): both mean response times agree with each other and
 * with the M/M/1 value 1/(mu - lambda), within a few standard errors from batch means.
 */
import { join } from 'node:path';
import { Entity, createRandom, createSim, type SimRandom } from '../../src/model/engine.js';
import { batchMeans, cpuSeconds, formatRate } from '../lib/measure.js';
import { ensureSimpy, run } from '../lib/tools.js';
import { BenchError, type BenchContext, type BenchSection } from '../section.js';

const LAMBDA = 0.8;
const MU = 1.0;
const CUSTOMERS = 200_000;
const TURNS = 3;
const BATCHES = 20;
const SEED = 1;

/** One server with a FIFO queue; records each customer's response time in departure order. */
class Mm1Queue extends Entity {
  private rng!: SimRandom;
  private lambda = 0;
  private mu = 0;
  private customers = 0;
  private arrived = 0;
  private departed = 0;
  /** Arrival times of waiting customers (each customer enters once, so N slots suffice). */
  private waiting!: Float64Array;
  private head = 0;
  private tail = 0;
  private busy = false;
  private inServiceSince = 0;
  responses!: Float64Array;
  private readonly onArrival = (): void => this.arrive();
  private readonly onDeparture = (): void => this.depart();

  start(lambda: number, mu: number, customers: number, seed: number): void {
    this.rng = createRandom(seed);
    this.lambda = lambda;
    this.mu = mu;
    this.customers = customers;
    this.waiting = new Float64Array(customers);
    this.responses = new Float64Array(customers);
    this.setTimer(this.rng.exponential(this.lambda)).done(this.onArrival);
  }

  get departures(): number {
    return this.departed;
  }

  private arrive(): void {
    const now = this.time();
    this.arrived++;
    if (this.busy) this.waiting[this.tail++] = now;
    else this.serve(now);
    if (this.arrived < this.customers) this.setTimer(this.rng.exponential(this.lambda)).done(this.onArrival);
  }

  private serve(arrival: number): void {
    this.busy = true;
    this.inServiceSince = arrival;
    this.setTimer(this.rng.exponential(this.mu)).done(this.onDeparture);
  }

  private depart(): void {
    this.responses[this.departed++] = this.time() - this.inServiceSince;
    if (this.head < this.tail) this.serve(this.waiting[this.head++]);
    else this.busy = false;
  }
}

interface SideResult {
  bestSeconds: number;
  meanResponse: number;
  batchMeans: number[];
}

/** One run of the simjs model (seed SEED + turn, as SimPy's repetition r uses SEED + r). */
function runJsOnce(turn: number): { seconds: number; responses: Float64Array } {
  const t0 = cpuSeconds();
  const sim = createSim();
  const q = sim.addEntity(Mm1Queue, 'mm1', LAMBDA, MU, CUSTOMERS, SEED + turn);
  sim.simulate(Infinity);
  const seconds = cpuSeconds() - t0;
  if (q.departures !== CUSTOMERS) throw new BenchError(`engine: ${q.departures} customers left the simjs M/M/1, expected ${CUSTOMERS}`);
  return { seconds, responses: q.responses };
}

function summarize(bestSeconds: number, responses: Float64Array): SideResult {
  const size = Math.floor(CUSTOMERS / BATCHES);
  const means: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += responses[i];
    means.push(s / size);
  }
  const total = responses.reduce((s, x) => s + x, 0);
  return { bestSeconds, meanResponse: total / CUSTOMERS, batchMeans: means };
}

/** One run of the SimPy model (seed SEED + turn). */
function runSimpyOnce(python: string, script: string, turn: number): SideResult & { version: string } {
  const r = run(python, [script, String(LAMBDA), String(MU), String(CUSTOMERS), String(SEED + turn), '1', String(BATCHES)]);
  if (r.status !== 0) throw new BenchError(`${python} ${script} failed (exit ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { best_seconds: number; mean_response: number; batch_means: number[]; simpy_version: string };
  return { bestSeconds: out.best_seconds, meanResponse: out.mean_response, batchMeans: out.batch_means, version: out.simpy_version };
}

export const engineSection: BenchSection = {
  name: 'engine',
  title: 'simjs engine (src/model/engine.ts) M/M/1 customers/s vs SimPy, same model and size',
  async run(ctx: BenchContext) {
    ctx.log(`M/M/1, lambda ${LAMBDA}, mu ${MU}, ${CUSTOMERS} customers, fastest of ${TURNS} runs per side (alternating)`);
    const python = ensureSimpy(ctx.log);
    const script = join(ctx.root, 'bench/mm1_simpy.py');
    let pyBest = Infinity;
    let pyLast: (SideResult & { version: string }) | null = null;
    let jsBest = Infinity;
    let jsResponses: Float64Array = new Float64Array(0);
    for (let turn = 0; turn < TURNS; turn++) {
      pyLast = runSimpyOnce(python, script, turn);
      pyBest = Math.min(pyBest, pyLast.bestSeconds);
      const run = runJsOnce(turn);
      jsBest = Math.min(jsBest, run.seconds);
      jsResponses = run.responses;
    }
    // the sanity statistics compare both sides' last turn (same seed number, different generators)
    const simpy = { ...pyLast!, bestSeconds: pyBest };
    const js = summarize(jsBest, jsResponses);
    const jsRate = CUSTOMERS / js.bestSeconds;
    const pyRate = CUSTOMERS / simpy.bestSeconds;
    ctx.log(`customers per CPU second: simjs ${formatRate(jsRate)}, SimPy ${simpy.version} ${formatRate(pyRate)}`);

    const theory = 1 / (MU - LAMBDA);
    const a = batchMeans(js.batchMeans);
    const b = batchMeans(simpy.batchMeans);
    const se = Math.sqrt(a.stderr ** 2 + b.stderr ** 2);
    const z = Math.abs(a.mean - b.mean) / se;
    const agree = z < 4 && Math.abs(a.mean - theory) < 4 * a.stderr + 0.02 * theory && Math.abs(b.mean - theory) < 4 * b.stderr + 0.02 * theory;
    ctx.log(
      `mean response time: simjs ${a.mean.toFixed(3)} ± ${a.stderr.toFixed(3)}, SimPy ${b.mean.toFixed(3)} ± ${b.stderr.toFixed(3)}, ` +
        `M/M/1 theory ${theory.toFixed(3)} (difference ${z.toFixed(1)} standard errors): ${agree ? 'consistent' : 'NOT CONSISTENT — check the models'}`,
    );
    return {
      engine_customers: CUSTOMERS,
      engine_js_customers_per_s: Math.round(jsRate),
      engine_simpy_customers_per_s: Math.round(pyRate),
      engine_ratio_vs_simpy: jsRate / pyRate,
      engine_js_mean_response: js.meanResponse,
      engine_simpy_mean_response: simpy.meanResponse,
      engine_theory_mean_response: theory,
      engine_means_consistent: agree ? 1 : 0,
    };
  },
};
