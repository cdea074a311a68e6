/**
 * A fingerprint of the simulator that is running: a hash of its modules (the compiled
 * `dist/src` and `dist/experiments` when running compiled, `src` and `experiments` when
 * running from source) and of the data files the model reads at run time (`src/**.json` —
 * presets, syscall shapes, OS defaults, server mixes — and `reference/`, the paper's
 * numbers printed beside the model's).
 *
 * The tool version alone does not change when someone edits the model, so partial results
 * (`--resume`) and shards (`merge`) carry this fingerprint too: results of different code
 * are never combined into one CSV. Line endings are normalised, so a checkout with CRLF
 * line endings fingerprints like one with LF. Source maps are left out (they name paths).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../paths.js';
import { sha256 } from './identity.js';

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, keep));
    else if (keep(name)) out.push(path);
  }
  return out;
}

let cached: string | undefined;

export function codeFingerprint(): string {
  if (cached !== undefined) return cached;
  const compiled = fileURLToPath(import.meta.url).endsWith('.js');
  const code = compiled
    ? [join(projectRoot, 'dist', 'src'), join(projectRoot, 'dist', 'experiments')].flatMap((d) => filesUnder(d, (n) => n.endsWith('.js')))
    : [join(projectRoot, 'src'), join(projectRoot, 'experiments')].flatMap((d) => filesUnder(d, (n) => n.endsWith('.ts')));
  const data = [...filesUnder(join(projectRoot, 'src'), (n) => n.endsWith('.json')), ...filesUnder(join(projectRoot, 'reference'), () => true)];
  const parts = [...code, ...data].map((file) => {
    const name = relative(projectRoot, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
    return `${name}\u0000${sha256(text)}`;
  });
  cached = sha256(parts.join('\n'));
  return cached;
}
