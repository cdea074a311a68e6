import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/**
 * The project's root folder, found from this module's location whether it runs compiled
 * (dist/src/paths.js) or from source (src/paths.ts): data files (presets, reference data,
 * fonts) are read from the source tree, never copied into dist/.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'src'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot locate the flexsc-sim project root from ' + import.meta.url);
}

export const projectRoot = findRoot();
export const presetDir = resolve(projectRoot, 'src/hw/presets');
export const referenceDir = resolve(projectRoot, 'reference');
