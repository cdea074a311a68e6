/**
 * Streaming reader of valgrind lackey memory traces (`valgrind --tool=lackey
 * --trace-mem=yes`). Every record is one line:
 *
 *     I  04017f0,3        instruction fetch: address (hex), size in bytes
 *      L 1ffefffd58,8     data load
 *      S 1ffefffd50,8     data store
 *      M 0040a1c8,4       data modify (a load and a store to the same place by one instruction)
 *
 * Valgrind's own messages (`==pid== …`, and `--pid-- …` / `**pid** …` with -v or on
 * errors) are skipped, and so are blank lines. Anything else is a malformed line and
 * raises a FileInputError naming the file and the 1-based line number.
 *
 * The input may be plain text, gzip or xz (recognised by their magic bytes). It is read
 * as a stream in chunks and parsed byte by byte, never whole into memory and never as
 * one JavaScript string per line, so memory stays constant and a gigabyte trace is a
 * matter of seconds. Records come out in batches of typed arrays that are reused between
 * batches: consume a batch before asking for the next one.
 *
 * Addresses are 64-bit in the trace (amd64 stacks live near 2^37). They are parsed into
 * doubles, exact up to 2^53 - 1; a larger address is a malformed line.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import xzDecompress from 'xz-decompress';
import { FileInputError, InputError } from '../../errors.js';

/** Record kinds, as stored in `LackeyBatch.kinds`. */
export const INSTR = 0;
export const LOAD = 1;
export const STORE = 2;
export const MODIFY = 3;
export type LackeyKind = typeof INSTR | typeof LOAD | typeof STORE | typeof MODIFY;

/** The letter lackey prints for each kind, indexed by kind. */
export const KIND_LETTERS = ['I', 'L', 'S', 'M'] as const;

/** A run of consecutive trace records. Arrays are only valid for the first `count` entries. */
export interface LackeyBatch {
  count: number;
  kinds: Uint8Array;
  addrs: Float64Array;
  sizes: Uint32Array;
  /** 1-based line of the trace file each record came from (for error messages). */
  lines: Float64Array;
}

export type Compression = 'none' | 'gzip' | 'xz';

export interface ReadOptions {
  /** Records per batch (default 65536). */
  batchSize?: number;
  /** Bytes per read from the file (default 1 MiB). */
  chunkSize?: number;
}

const DEFAULT_BATCH = 65536;
const DEFAULT_CHUNK = 1 << 20;
/** Longest line accepted (banner lines repeat the traced command line, so be generous). */
const MAX_LINE = 1 << 16;
/** Largest size field accepted (lackey's largest is 512, valgrind's MAX_DSIZE). */
const MAX_SIZE = 1 << 24;

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;

/** Hex digit value per byte, -1 for non-hex bytes. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** Kind per leading byte, -1 otherwise. */
const KIND_OF = new Int8Array(256).fill(-1);
KIND_OF[73] = INSTR; // I
KIND_OF[76] = LOAD; // L
KIND_OF[83] = STORE; // S
KIND_OF[77] = MODIFY; // M

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const GZ_MAGIC = [0x1f, 0x8b];

/** Compression of a file, judged by its first bytes (the name is only used to insist). */
export async function detectCompression(file: string): Promise<Compression> {
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(6);
      const { bytesRead } = await fh.read(head, 0, 6, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new FileInputError(file, undefined, `cannot read the trace: ${(err as Error).message}`);
  }
  const starts = (magic: number[]) => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(XZ_MAGIC)) return 'xz';
  if (starts(GZ_MAGIC)) return 'gzip';
  const lower = file.toLowerCase();
  if (lower.endsWith('.xz')) throw new FileInputError(file, undefined, 'expected xz data (the name ends in .xz), got no xz header');
  if (lower.endsWith('.gz')) throw new FileInputError(file, undefined, 'expected gzip data (the name ends in .gz), got no gzip header');
  return 'none';
}

/**
 * The decompressed bytes of a trace file as an async iterable of chunks. Read and
 * decompression errors surface from the iteration as FileInputErrors naming the file.
 */
export async function openTrace(file: string, chunkSize = DEFAULT_CHUNK): Promise<AsyncIterable<Uint8Array>> {
  const compression = await detectCompression(file);
  const raw = createReadStream(file, { highWaterMark: chunkSize });
  let stream: Readable;
  let what: string;
  if (compression === 'gzip') {
    what = 'gzip';
    const gunzip = createGunzip({ chunkSize });
    // pipeline forwards an error of the file stream to the gunzip stream being read.
    stream = pipeline(raw, gunzip, () => {});
  } else if (compression === 'xz') {
    what = 'xz';
    const web = Readable.toWeb(raw) as unknown as WebReadableStream<Uint8Array>;
    const xz = new xzDecompress.XzReadableStream(web as unknown as ReadableStream<Uint8Array>);
    stream = Readable.fromWeb(xz as unknown as WebReadableStream<Uint8Array>);
  } else {
    what = 'plain';
    stream = raw;
  }
  return wrapErrors(stream, file, what);
}

/** xz-embedded's xz_ret codes, as xz-decompress reports them ("… error code N"). */
const XZ_ERRORS: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'dictionary larger than the decoder allows',
  '5': 'not in xz format',
  '6': 'unsupported xz options',
  '7': 'corrupt data',
  '8': 'truncated data',
};

async function* wrapErrors(stream: Readable, file: string, what: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (err) {
    if (err instanceof InputError) throw err;
    let msg = err instanceof Error ? err.message : String(err);
    const code = what === 'xz' ? /error code (\d+)/.exec(msg) : null;
    if (code && XZ_ERRORS[code[1]]) msg = `${XZ_ERRORS[code[1]]}: ${msg}`;
    const detail =
      what === 'plain'
        ? `cannot read the trace: ${msg}`
        : `expected a complete ${what} stream, got corrupt or truncated data (${msg})`;
    throw new FileInputError(file, undefined, detail);
  } finally {
    stream.destroy();
  }
}

/** Streams the records of a lackey trace file in batches (see the module comment). */
export async function* readLackey(file: string, options: ReadOptions = {}): AsyncGenerator<LackeyBatch> {
  const chunks = await openTrace(file, options.chunkSize ?? DEFAULT_CHUNK);
  yield* parseLackeyChunks(chunks, file, options);
}

/**
 * Parses a stream of trace bytes (any chunking) into batches. `file` is used only in
 * error messages.
 */
export async function* parseLackeyChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
  options: ReadOptions = {},
): AsyncGenerator<LackeyBatch> {
  const parser = new LackeyParser(file, options.batchSize ?? DEFAULT_BATCH);
  const batch = parser.batch;
  /** Pieces of an unfinished line carried over from previous chunks. */
  let carry: Uint8Array[] = [];
  let carryLength = 0;
  for await (const bytes of chunks) {
    // a Buffer view (no copy) for its memchr-based indexOf
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    const end = chunk.length;
    if (carryLength > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        carry.push(chunk.slice());
        carryLength += chunk.length;
        if (carryLength > MAX_LINE) parser.tooLong(carryLength);
        continue;
      }
      carry.push(chunk.subarray(0, nl + 1));
      const line = Buffer.concat(carry, carryLength + nl + 1);
      carry = [];
      carryLength = 0;
      parser.parse(line, 0, line.length);
      pos = nl + 1;
      if (batch.count === parser.capacity) {
        yield batch;
        batch.count = 0;
      }
    }
    const lastNl = chunk.lastIndexOf(NL);
    while (pos <= lastNl) {
      pos = parser.parse(chunk, pos, lastNl + 1);
      if (batch.count === parser.capacity) {
        yield batch;
        batch.count = 0;
      }
    }
    if (pos < end) {
      // copy: the producer may reuse its buffer for the next chunk
      carry.push(chunk.slice(pos, end));
      carryLength += end - pos;
      if (carryLength > MAX_LINE) parser.tooLong(carryLength);
    }
  }
  if (carryLength > 0) {
    // last line without a final newline
    const line = Buffer.concat(carry, carryLength);
    parser.parse(line, 0, line.length, true);
  }
  if (batch.count > 0) yield batch;
}

/** The byte-level parser; keeps the line count across chunks. */
class LackeyParser {
  readonly batch: LackeyBatch;
  readonly capacity: number;
  /** Number of complete lines consumed so far. */
  line = 0;

  constructor(
    readonly file: string,
    capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`batch size must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.batch = {
      count: 0,
      kinds: new Uint8Array(capacity),
      addrs: new Float64Array(capacity),
      sizes: new Uint32Array(capacity),
      lines: new Float64Array(capacity),
    };
  }

  /**
   * Parses whole lines of buf[pos, end) — end is just past a newline, or the end of the
   * data when `last` — until end or until the batch is full. Returns the position after
   * the last line parsed.
   */
  parse(buf: Uint8Array, pos: number, end: number, last = false): number {
    const batch = this.batch;
    const kinds = batch.kinds;
    const addrs = batch.addrs;
    const sizes = batch.sizes;
    const lines = batch.lines;
    const capacity = this.capacity;
    let count = batch.count;
    let line = this.line;
    while (pos < end && count < capacity) {
      const start = pos;
      line++;
      let c = buf[pos];
      // leading blanks (lackey indents data records by one space)
      while ((c === SPACE || c === TAB) && pos < end) c = buf[++pos];
      const kind = pos < end ? KIND_OF[c] : -1;
      if (kind < 0) {
        // not a record: a valgrind message, a blank line, or garbage
        const nl = buf.indexOf(NL, pos);
        const lineEnd = nl < 0 || nl >= end ? end : nl;
        if (!this.isSkippable(buf, pos, lineEnd)) {
          this.line = line;
          batch.count = count;
          this.fail(buf, start, lineEnd, "a record ('I', 'L', 'S' or 'M' then address,size) or a '==pid==' line");
        }
        pos = lineEnd + 1;
        continue;
      }
      c = buf[++pos];
      if (c !== SPACE && c !== TAB) this.failAt(line, buf, start, end, 'a space after the record letter');
      do c = buf[++pos];
      while (c === SPACE || c === TAB);
      // hexadecimal address, accumulated in a double (exact below 2^53)
      let d = HEX[c];
      if (d < 0 || pos >= end) this.failAt(line, buf, start, end, 'a hexadecimal address');
      let addr = 0;
      do {
        addr = addr * 16 + d;
        d = HEX[buf[++pos]];
      } while (d >= 0 && pos < end);
      if (addr > Number.MAX_SAFE_INTEGER) this.failAt(line, buf, start, end, 'an address below 2^53');
      if (buf[pos] !== COMMA || pos >= end) this.failAt(line, buf, start, end, "',' after the address");
      // decimal size
      c = buf[++pos];
      let size = c - 48;
      if (size < 0 || size > 9 || pos >= end) this.failAt(line, buf, start, end, 'a decimal size after the comma');
      c = buf[++pos];
      while (c >= 48 && c <= 57 && pos < end) {
        size = size * 10 + (c - 48);
        if (size > MAX_SIZE) this.failAt(line, buf, start, end, `a size of at most ${MAX_SIZE} bytes`);
        c = buf[++pos];
      }
      if (size === 0) this.failAt(line, buf, start, end, 'a size of at least 1 byte');
      // end of line, allowing trailing blanks and a CR
      while ((c === SPACE || c === TAB || c === CR) && pos < end) c = buf[++pos];
      if (pos < end) {
        if (c !== NL) this.failAt(line, buf, start, end, 'the end of the line after the size');
        pos++;
      } else if (!last) {
        // cannot happen: `end` is just past a newline unless `last`
        this.failAt(line, buf, start, end, 'a newline');
      }
      kinds[count] = kind;
      addrs[count] = addr;
      sizes[count] = size;
      lines[count] = line;
      count++;
    }
    batch.count = count;
    this.line = line;
    return pos;
  }

  /** `==123==`, `--123--` or `**123**` prefixes (valgrind messages), or a blank line. */
  private isSkippable(buf: Uint8Array, pos: number, lineEnd: number): boolean {
    let c = buf[pos];
    if (pos >= lineEnd || c === CR) {
      // blank line (only blanks were skipped before pos)
      for (let i = pos; i < lineEnd; i++) if (buf[i] !== CR) return false;
      return true;
    }
    if (c !== 61 /* = */ && c !== 45 /* - */ && c !== 42 /* * */) return false;
    const mark = c;
    if (buf[pos + 1] !== mark) return false;
    let i = pos + 2;
    let digits = 0;
    while (i < lineEnd && buf[i] >= 48 && buf[i] <= 57) {
      i++;
      digits++;
    }
    return digits > 0 && i + 1 < lineEnd && buf[i] === mark && buf[i + 1] === mark;
  }

  tooLong(length: number): never {
    throw new FileInputError(this.file, this.line + 1, `expected a line of at most ${MAX_LINE} bytes, got ${length} bytes without a newline`);
  }

  private failAt(line: number, buf: Uint8Array, start: number, end: number, expected: string): never {
    this.line = line;
    let lineEnd = buf.indexOf(NL, start);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    this.fail(buf, start, lineEnd, expected);
  }

  private fail(buf: Uint8Array, start: number, lineEnd: number, expected: string): never {
    let text = Buffer.from(buf.buffer, buf.byteOffset + start, lineEnd - start).toString('latin1');
    text = text.replace(/\r$/, '');
    if (text.length > 80) text = `${text.slice(0, 77)}...`;
    throw new FileInputError(this.file, this.line, `expected ${expected}, got ${JSON.stringify(text)}`);
  }
}

/** Totals of a trace by kind (a convenience for tests and summaries). */
export interface LackeyCounts {
  I: number;
  L: number;
  S: number;
  M: number;
}

export async function countLackey(file: string, options: ReadOptions = {}): Promise<LackeyCounts> {
  const n = [0, 0, 0, 0];
  for await (const batch of readLackey(file, options)) {
    const kinds = batch.kinds;
    for (let i = 0; i < batch.count; i++) n[kinds[i]]++;
  }
  return { I: n[INSTR], L: n[LOAD], S: n[STORE], M: n[MODIFY] };
}
