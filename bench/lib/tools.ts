/**
 * External tools the benchmarks compare against (a C compiler, Python with SimPy), found or
 * installed at run time so `npm run bench` works from a clean clone. Installs use Debian's
 * packages through apt-get (the machines this project runs on are Debian, as root); where
 * that is impossible the error says what to install by hand.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BenchError } from '../section.js';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, capturing its output (never through a shell). */
export function run(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ENOENT') throw r.error;
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated = false;

/**
 * Installs Debian packages with apt-get (running `apt-get update` once first). Output goes to
 * this process's stderr so the user sees what happens. Returns false if apt-get is missing,
 * we are not root, or the install failed.
 */
export function aptInstall(packages: readonly string[], log: (line: string) => void): boolean {
  if (!existsSync('/usr/bin/apt-get')) {
    log(`apt-get not found: cannot install ${packages.join(' ')}`);
    return false;
  }
  if (!isRoot()) {
    log(`not root: cannot run apt-get install ${packages.join(' ')}`);
    return false;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('running apt-get update');
    const u = spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (u.status !== 0) {
      log('apt-get update failed');
      return false;
    }
    aptUpdated = true;
  }
  log(`running apt-get install -y ${packages.join(' ')}`);
  const i = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return i.status === 0;
}

/** A C compiler able to build the reference programs: gcc, installed from Debian if missing. */
export function ensureGcc(log: (line: string) => void): string {
  if (run('gcc', ['--version']).status === 0) return 'gcc';
  log('gcc not found; installing Debian package gcc');
  if (aptInstall(['gcc', 'libc6-dev'], log) && run('gcc', ['--version']).status === 0) return 'gcc';
  throw new BenchError('gcc is needed to compile the C reference (bench/cache-ref.c) and could not be installed; install it (Debian: apt-get install gcc) and run again');
}

/**
 * Compiles `source` with `gcc -O2` into `output` unless `output` is newer than the source.
 */
export function compileC(source: string, output: string, log: (line: string) => void): void {
  const gcc = ensureGcc(log);
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(dirname(output), { recursive: true });
  const r = run(gcc, ['-O2', '-std=c11', '-Wall', '-o', output, source]);
  if (r.status !== 0) throw new BenchError(`gcc -O2 ${source} failed:\n${r.stderr}`);
  log(`compiled ${source} with gcc -O2`);
}

/** Does `python` run and import `module`? */
function pythonHas(python: string, module: string): boolean {
  return run(python, ['-c', `import ${module}`]).status === 0;
}

/**
 * A Python 3 interpreter that can import SimPy. Tries $PYTHON, `python3` and Debian's
 * `/usr/bin/python3` (a pyenv or venv `python3` first on PATH does not see Debian's packages);
 * if none has SimPy, installs Debian's python3-simpy3 and tries again.
 */
export function ensureSimpy(log: (line: string) => void): string {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const found = () => candidates.find((p) => pythonHas(p, 'simpy'));
  let python = found();
  if (python) return python;
  log(`SimPy not importable by ${candidates.join(', ')}; installing Debian package python3-simpy3`);
  if (aptInstall(['python3-simpy3'], log)) python = found();
  if (python) return python;
  throw new BenchError(
    'SimPy is needed for the engine section and could not be installed. Install it (Debian: apt-get install python3-simpy3, ' +
      'which serves /usr/bin/python3; or pip install simpy) and run again, or set PYTHON to an interpreter that has it; ' +
      'or skip the section with --only.',
  );
}
