/**
 * Line reader for strace output files: plain text, gzip or xz (recognised by their magic
 * bytes, through the lackey reader's `openTrace`), streamed in chunks at constant memory.
 *
 * strace writes ASCII (everything else in strings and paths is escaped), so bytes are
 * decoded as latin1: one character per byte, no UTF-8 decoding cost, and a stray
 * non-ASCII byte cannot throw. Each chunk becomes one string and its lines are slices of
 * it; only a line that spans chunks is joined. Lines come out in arrays, one per chunk,
 * without their line terminator ("\n" or "\r\n"); a last line without a newline is
 * still a line.
 */
import { FileInputError } from '../../errors.js';
import { openTrace } from './lackey.js';

export interface LineReadOptions {
  /** Bytes per read from the file (default 1 MiB). */
  chunkSize?: number;
  /** Longest line accepted, in characters (default 64 Mi). Longer is a FileInputError. */
  maxLineChars?: number;
}

export const DEFAULT_CHUNK = 1 << 20;
export const DEFAULT_MAX_LINE = 64 << 20;

/** Counters a line reader updates as it goes. */
export interface LineCounters {
  /** Decompressed bytes read so far. */
  bytes: number;
}

/**
 * The lines of a (possibly compressed) text file, in arrays of consecutive lines. The
 * first array starts at line 1 and no line is skipped, so a consumer numbers them by
 * counting.
 */
export async function* readLines(
  file: string,
  options: LineReadOptions = {},
  counters: LineCounters = { bytes: 0 },
): AsyncGenerator<string[]> {
  const chunks = await openTrace(file, options.chunkSize ?? DEFAULT_CHUNK);
  yield* splitLines(chunks, file, options, counters);
}

/** Splits a stream of bytes (any chunking) into lines; `file` is for error messages. */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
  options: LineReadOptions = {},
  counters: LineCounters = { bytes: 0 },
): AsyncGenerator<string[]> {
  const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE;
  /** Pieces of a line that started in an earlier chunk. */
  let carry: string[] = [];
  let carryLength = 0;
  let lineNo = 0;
  for await (const bytes of chunks) {
    counters.bytes += bytes.byteLength;
    const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString(
      'latin1',
    );
    const lines: string[] = [];
    let start = 0;
    let nl = text.indexOf('\n');
    if (carryLength > 0) {
      if (nl < 0) {
        carry.push(text);
        carryLength += text.length;
        if (carryLength > maxLine) tooLong(file, lineNo + 1, maxLine);
        continue;
      }
      carry.push(text.slice(0, nl));
      carryLength += nl;
      if (carryLength > maxLine) tooLong(file, lineNo + 1, maxLine);
      lines.push(chomp(carry.join('')));
      carry = [];
      carryLength = 0;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      if (nl - start > maxLine) tooLong(file, lineNo + lines.length + 1, maxLine);
      lines.push(chomp(text.slice(start, nl)));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      carry.push(text.slice(start));
      carryLength += text.length - start;
      if (carryLength > maxLine) tooLong(file, lineNo + lines.length + 1, maxLine);
    }
    lineNo += lines.length;
    if (lines.length > 0) yield lines;
  }
  if (carryLength > 0) yield [chomp(carry.join(''))];
}

function chomp(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

function tooLong(file: string, line: number, max: number): never {
  throw new FileInputError(file, line, `expected a line of at most ${max} characters, got a longer one`);
}
