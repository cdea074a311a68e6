/**
 * Errors the user can fix (bad input, bad usage) are `InputError`s: the CLI prints their
 * message without a stack trace and exits with code 2. Anything else is a failed run
 * (exit code 1).
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message);
  }
}

/** An input error located in a file (and optionally a line of it). */
export class FileInputError extends InputError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(line === undefined ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
  }
}

/**
 * A run stopped by a limit the user set (`--max-events`): a failed run (exit code 1) whose
 * message names the limit; the CLI prints it without a stack trace.
 */
export class RunLimitError extends Error {
  override readonly name: string = 'RunLimitError';
}
