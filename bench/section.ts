/**
 * What a benchmark section is. A section measures one part of the simulator against a
 * reference measured in the same run (a C program, another simulator, an earlier variant of
 * the same code) and returns named numbers. Figures are ratios against that reference, so
 * they mean something on any machine; absolute rates are reported beside them for context.
 *
 * To add a section: write `bench/sections/NAME.ts` exporting a `BenchSection`, and add it to
 * the list in `bench/sections/index.ts`. Every key a section returns must be snake_case and
 * start with `NAME_` (the runner checks), so results.json stays flat and each key says which
 * section produced it.
 */

export interface BenchContext {
  /** The project's root folder (source tree, not dist/). */
  readonly root: string;
  /** Scratch folder for compiled helpers and generated inputs (bench/build, gitignored). */
  readonly buildDir: string;
  /** Prints a progress or detail line under the section's heading. */
  log(line: string): void;
}

export interface BenchSection {
  /** Short snake_case name, used by `--only` and as the prefix of every result key. */
  readonly name: string;
  /** One line: what is measured against what. */
  readonly title: string;
  run(ctx: BenchContext): Promise<Record<string, number>>;
}

/**
 * A failure the user can act on (a missing tool that could not be installed, a reference that
 * disagrees with the simulator). The runner prints its message without a stack trace.
 */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}
