/**
 * Sections `jobs2` and `reproduce`: wall time of the command users run most. `jobs2` times
 * `reproduce --quick` with `--jobs 1` and `--jobs 2` (best of two each, alternating) and
 * checks both wrote the same CSVs; `reproduce` times the full `reproduce --jobs 2` once
 * (long: about an hour on a 2-core machine) and keeps what it wrote in bench/build/reproduce/
 * (gitignored), so the hour also yields the figures and summary.md. Wall time is what a user
 * waits for, so it is measured here, on a machine otherwise as idle as possible.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchError, type BenchContext, type BenchSection } from '../section.js';

/** Runs `reproduce ARGS` into `dir` (a new temporary folder if not given), timing its wall clock. */
function reproduce(ctx: BenchContext, args: string[], dir = mkdtempSync(join(tmpdir(), 'flexsc-bench-'))): { seconds: number; dir: string } {
  const cli = join(ctx.root, 'dist', 'src', 'cli.js');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'reproduce', ...args, '--out', dir], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new BenchError(`reproduce ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  return { seconds, dir };
}

function csvs(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).filter((f) => f.endsWith('.csv')).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

export const jobs2Section: BenchSection = {
  name: 'jobs2',
  title: 'reproduce --quick with --jobs 1 vs --jobs 2 (wall time, identical CSVs)',
  async run(ctx: BenchContext) {
    const best = { j1: Infinity, j2: Infinity };
    for (let turn = 0; turn < 2; turn++) {
      for (const jobs of ['1', '2'] as const) {
        const r = reproduce(ctx, ['--quick', '--jobs', jobs]);
        ctx.log(`--jobs ${jobs}: ${r.seconds.toFixed(1)} s`);
        if (turn === 1 && jobs === '2') {
          const j1 = reproduce(ctx, ['--quick', '--jobs', '1']);
          const a = csvs(j1.dir);
          const b = csvs(r.dir);
          for (const [f, text] of a) if (b.get(f) !== text) throw new BenchError(`${f} differs between --jobs 1 and --jobs 2`);
          rmSync(j1.dir, { recursive: true, force: true });
        }
        rmSync(r.dir, { recursive: true, force: true });
        if (jobs === '1') best.j1 = Math.min(best.j1, r.seconds);
        else best.j2 = Math.min(best.j2, r.seconds);
      }
    }
    return { jobs2_quick_wall_s_jobs1: best.j1, jobs2_quick_wall_s_jobs2: best.j2, jobs2_speedup: best.j1 / best.j2 };
  },
};

export const reproduceSection: BenchSection = {
  name: 'reproduce',
  title: 'wall time of the full reproduce with --jobs 2 (long)',
  async run(ctx: BenchContext) {
    const kept = join(ctx.buildDir, 'reproduce');
    rmSync(kept, { recursive: true, force: true });
    const r = reproduce(ctx, ['--jobs', '2'], kept);
    ctx.log(`reproduce --jobs 2: ${(r.seconds / 60).toFixed(1)} min`);
    ctx.log(`its outputs (CSVs, plots, summary.md): ${kept}`);
    return { reproduce_wall_s: r.seconds };
  },
};
