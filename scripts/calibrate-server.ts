/**
 * Calibrates a server workload on the paper's SYNCHRONOUS baseline only (the FlexSC results
 * are predictions: nothing here runs FlexSC).
 *
 *   node dist/scripts/calibrate-server.js apache [seed] [iterations] [--write]
 *   node dist/scripts/calibrate-server.js mysql  [seed] [iterations] [--write]
 *
 * apache: the Apache-like program's footprint and work per request, the per-request pool
 * maps, and the kernel's network-path densities (`src/model/net-paths.json`), against
 * Fig. 11's sync throughput at 1 and 4 cores, Table 4's sync IPC and MPKI (user and
 * kernel, 1 and 4 cores) and Fig. 12a's 4-core sync time breakdown.
 * mysql: the MySQL-like program's footprint, work per transaction and hot-mutex share, with
 * the network paths as Apache set them, against Fig. 14's sync throughput (1 and 4 cores,
 * the peak and the fall at 256), Table 5's sync rows, Fig. 12b and the 25 % kernel share.
 *
 * A (1+1) evolution strategy with the one-fifth rule over deterministic evaluations; it
 * prints each improvement as JSON. With --write, the best point's network densities (apache)
 * are written to net-paths.json; the workload parameters are printed to be copied into
 * `src/workloads/server/{apache,mysql}.ts` with their sources.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRandom } from '../src/model/engine.js';
import type { FootprintSpec } from '../src/model/footprint.js';
import { NET_PATHS_FILE, SYSCALLS, netShapes, readNetPaths, specsOf, type NetKnobs } from '../src/model/syscalls.js';
import { loadReference } from '../src/report/reference.js';
import { buildRunConfig } from '../src/run-config.js';
import { APACHE, apacheWorkload, type ApacheParams } from '../src/workloads/server/apache.js';
import { MYSQL, mysqlWorkload, type MysqlParams } from '../src/workloads/server/mysql.js';
import { runServer, type ServerResult, type ServerWorkload } from '../src/workloads/server/server.js';

const which = process.argv[2] === 'mysql' ? 'mysql' : 'apache';
const write = process.argv.includes('--write');
const args = process.argv.slice(3).filter((a) => !a.startsWith('--'));
const rng = createRandom(Number(args[0] ?? 7));
const iterations = Number(args[1] ?? 150);
const config = buildRunConfig('nehalem-2010');

type Params = Record<string, number>;

function footprintParams(f: FootprintSpec, prefix: string, out: Params): void {
  out[`${prefix}baseCpi`] = f.baseCpi;
  out[`${prefix}missOverlap`] = f.missOverlap ?? 0.5;
  out[`${prefix}codeMissOverlap`] = f.codeMissOverlap ?? 0.3;
  out[`${prefix}mispredicts`] = f.mispredictsPerKilo;
  out[`${prefix}linesPerTakenBranch`] = f.linesPerTakenBranch ?? 1;
  for (const r of f.regions) {
    if (r.scope !== 'thread' && r.scope !== 'request') out[`${prefix}${r.name}.lines`] = r.lines;
    out[`${prefix}${r.name}.rate`] = r.refsPerKilo ?? 0;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function footprintOf(f: FootprintSpec, q: Params, prefix: string): FootprintSpec {
  return {
    ...f,
    baseCpi: clamp(q[`${prefix}baseCpi`], 0.25, 4),
    missOverlap: clamp(q[`${prefix}missOverlap`], 0, 0.95),
    codeMissOverlap: clamp(q[`${prefix}codeMissOverlap`], 0, 0.95),
    mispredictsPerKilo: q[`${prefix}mispredicts`],
    linesPerTakenBranch: Math.max(1, q[`${prefix}linesPerTakenBranch`]),
    regions: f.regions.map((r) => ({
      ...r,
      lines: q[`${prefix}${r.name}.lines`] !== undefined ? Math.max(1, Math.round(q[`${prefix}${r.name}.lines`])) : r.lines,
      refsPerKilo: q[`${prefix}${r.name}.rate`],
    })),
  };
}

const net0 = readNetPaths().knobs;
function netKnobs(q: Params): NetKnobs {
  return {
    scale: q['net.scale'],
    baseCpi: clamp(q['net.baseCpi'], 0.25, 4),
    codeLinesPerKilo: q['net.codeLinesPerKilo'],
    codeMissOverlap: clamp(q['net.codeMissOverlap'], 0, 0.95),
    linesPerTakenBranch: Math.max(1, q['net.linesPerTakenBranch']),
    mispredictsPerKilo: q['net.mispredictsPerKilo'],
    objectLinesPerKilo: q['net.objectLinesPerKilo'],
    dataLinesPerKilo: q['net.dataLinesPerKilo'],
    bufferLinesPerKilo: q['net.bufferLinesPerKilo'],
  };
}

function initial(): Params {
  const p: Params = {};
  if (which === 'apache') {
    footprintParams(APACHE.footprint, 'u.', p);
    p.U = APACHE.userInstructionsPerRequest;
    p.poolMaps = APACHE.poolMaps;
    p.poolFaults = APACHE.poolFaults;
    for (const [k, v] of Object.entries(net0)) p[`net.${k}`] = v;
  } else {
    footprintParams(MYSQL.footprint, 'u.', p);
    p.U = MYSQL.userInstructionsPerTransaction;
    p.lockedShare = MYSQL.lockedShare;
  }
  return p;
}

function workloadOf(q: Params): ServerWorkload {
  if (which === 'apache') {
    const a: ApacheParams = { ...APACHE, footprint: footprintOf(APACHE.footprint, q, 'u.'), userInstructionsPerRequest: q.U, poolMaps: Math.max(0, q.poolMaps), poolFaults: Math.max(0, Math.round(q.poolFaults)) };
    return apacheWorkload(a);
  }
  const m: MysqlParams = { ...MYSQL, footprint: footprintOf(MYSQL.footprint, q, 'u.'), userInstructionsPerTransaction: q.U, lockedShare: Math.min(0.95, Math.max(0, q.lockedShare)) };
  return mysqlWorkload(m);
}

/** Paper values: Table 4/5 rows keyed `${cores}/${mode}`. */
const micro = new Map(
  loadReference('table4-table5-sync-microarchitecture.csv')
    .filter((r) => r.workload === which)
    .map((r) => [`${r.cores}/${r.mode}`, r]),
);
const misc = new Map(loadReference('sync-baselines-misc.csv').map((r) => [String(r.quantity), Number(r.value)]));
const tput = new Map(
  loadReference(which === 'apache' ? 'fig11-apache-sync-throughput.csv' : 'fig14-mysql-sync-throughput.csv').map((r) => [`${r.cores}/${r.concurrency}`, Number(r.sync_requests_per_s)]),
);

const logErr = (model: number, paper: number) => Math.abs(Math.log(Math.max(1e-9, model) / paper));

function microCost(r: ServerResult, cores: number, cells: string[]): number {
  let cost = 0;
  for (const mode of ['user', 'kernel'] as const) {
    const p = micro.get(`${cores}/${mode}`);
    if (!p) continue;
    const m = r[mode];
    cost += 3 * logErr(m.ipc, Number(p.ipc));
    const pairs: [number, number][] = [
      [m.l3_mpki, Number(p.l3_mpki)],
      [m.l2_mpki, Number(p.l2_mpki)],
      [m.l1d_mpki, Number(p.dcache_mpki)],
      [m.l1i_mpki, Number(p.icache_mpki)],
      [m.tlb_mpki, Number(p.tlb_mpki)],
      [m.branch_mpki, Number(p.branch_mpki)],
    ];
    for (const [a, b] of pairs) cost += logErr(a, b);
    cells.push(`${cores}c ${mode} ipc ${m.ipc.toFixed(2)}/${p.ipc} mpki ${pairs.map(([a, b]) => `${a.toFixed(1)}/${b}`).join(' ')}`);
  }
  return cost;
}

function evaluate(q: Params): { cost: number; text: string } {
  const syscalls = which === 'apache' ? { ...SYSCALLS, ...specsOf(netShapes(netKnobs(q))) } : SYSCALLS;
  const w = workloadOf(q);
  const cells: string[] = [];
  let cost = 0;
  const points = which === 'apache' ? [{ cores: 1, c: 256 }, { cores: 4, c: 256 }] : [{ cores: 1, c: 64 }, { cores: 4, c: 64 }, { cores: 1, c: 256 }];
  for (const pt of points) {
    const n = which === 'apache' ? 500 : 40;
    const r = runServer(config, w, { cores: pt.cores, concurrency: pt.c, mechanism: 'sync', seed: 1, warmup: which === 'apache' ? 600 : 2 * pt.c / 8, measured: n, syscalls });
    const target = tput.get(`${pt.cores}/${pt.c}`)!;
    cost += 4 * logErr(r.throughputRps, target);
    cells.push(`${pt.cores}c/${pt.c} ${r.throughputRps.toFixed(0)}/${target}`);
    if (pt.c !== 256 || which === 'apache') cost += microCost(r, pt.cores, cells);
    if (pt.cores === 4) {
      const key = which === 'apache' ? 'apache_4core_sync_time_' : 'mysql_4core_sync_time_';
      const [u, k, i] = [misc.get(`${key}user`)!, misc.get(`${key}kernel`)!, misc.get(`${key}idle`)!];
      cost += (Math.abs(r.userPct - u) + Math.abs(r.kernelPct - k) + Math.abs(r.idlePct - i)) / 8;
      cells.push(`4c u/k/i ${r.userPct.toFixed(0)}/${r.kernelPct.toFixed(0)}/${r.idlePct.toFixed(0)} vs ${u}/${k}/${i}`);
    }
    if (which === 'mysql' && pt.cores === 1 && pt.c === 64) {
      const share = misc.get('mysql_kernel_share_of_execution')!;
      cost += Math.abs(r.kernelPct - share) / 8;
    }
  }
  return { cost, text: cells.join(' | ') };
}

const gauss = () => {
  let u = 0;
  for (let i = 0; i < 12; i++) u += rng.random();
  return u - 6;
};
let p = initial();
let cur = evaluate(p);
console.log(`start cost ${cur.cost.toFixed(3)} ${cur.text}`);
let sigma = 0.2;
let successes = 0;
for (let it = 1; it <= iterations; it++) {
  const q: Params = {};
  for (const key of Object.keys(p)) q[key] = rng.random() < 0.3 ? p[key] * Math.exp(sigma * gauss()) : p[key];
  const r = evaluate(q);
  if (r.cost < cur.cost) {
    p = q;
    cur = r;
    successes++;
    console.log(`${it} cost ${cur.cost.toFixed(3)} ${cur.text}\n  ${JSON.stringify(p)}`);
  }
  if (it % 10 === 0) {
    sigma *= successes >= 2 ? 1.2 : 0.8;
    successes = 0;
  }
}
console.log(`best cost ${cur.cost.toFixed(3)}\n${JSON.stringify(p, null, 1)}`);
if (write && which === 'apache') {
  const file = JSON.parse(readFileSync(NET_PATHS_FILE, 'utf8')) as { knobs: NetKnobs };
  file.knobs = netKnobs(p);
  writeFileSync(NET_PATHS_FILE, JSON.stringify(file, null, 2) + '\n');
  console.log(`wrote ${NET_PATHS_FILE}`);
}
