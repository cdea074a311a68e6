/**
 * Worker of test/strace-property.test.ts: runs the hostile-input property of the strace
 * parser away from the test's thread, so that a parser caught in a loop can be stopped
 * (worker.terminate()) and the input that caught it reported, instead of hanging mocha,
 * whose timeouts cannot interrupt synchronous code.
 *
 * Before each parse it posts `{ kind: 'case', text }`; at the end `{ kind: 'done', failure }`
 * with fast-check's report (seed, path, counterexample) if the property failed.
 *
 * The property, for mutated traces, token soup and random characters:
 * - lenient mode never throws; strict mode throws nothing but FileInputError;
 * - strict mode throws at line k exactly when lenient mode counts a malformed line k first,
 *   with the same message, and otherwise both give the same events;
 * - every event is well formed (integer tids and lines, finite numbers, names and signals
 *   of the right shape, pending calls without results, children only from clones);
 * - the streaming reader (bytes in arbitrary chunks) gives the in-memory parser's events
 *   and counts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parentPort, workerData } from 'node:worker_threads';
import { FileInputError } from '../src/errors.js';
import { emptyStats, parseStraceStream, parseStraceText, type StraceEvent, type StraceStats } from '../src/workloads/trace/strace.js';
import { FRAGMENTS, mutate, mutationArb, renderTrace, soupLineArb, traceArb, CLONE_NAMES } from './strace-gen.js';

export interface FuzzRequest {
  seed: number;
  numRuns: number;
}

export type FuzzMessage = { kind: 'case'; text: string } | { kind: 'done'; failure: string | undefined; runs: number };

const FILE = 'fuzz.strace';

const hostileArb: fc.Arbitrary<string> = fc.oneof(
  {
    // a valid multi-threaded trace with a few lines changed
    arbitrary: fc.tuple(traceArb, fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 4 })).map(([t, ms]) => {
      const { lines } = renderTrace(t);
      for (const [k, m] of ms) if (lines.length > 0) mutate(lines, k % lines.length, m);
      return lines.join('\n') + '\n';
    }),
    weight: 6,
  },
  { arbitrary: fc.array(soupLineArb, { maxLength: 12 }).map((ls) => ls.join('\n')), weight: 2 },
  {
    arbitrary: fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom(...FRAGMENTS)), { maxLength: 20 }).map((ps) => ps.join('')),
    weight: 1,
  },
);

function post(m: FuzzMessage): void {
  parentPort!.postMessage(m);
}

/** Checks that an event is well formed, whatever the input was. */
function checkEvent(e: StraceEvent, lines: number): void {
  expect(e.file).to.equal(FILE);
  expect(Number.isSafeInteger(e.tid) && e.tid >= 0, `tid ${e.tid}`).to.equal(true);
  expect(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines, `line ${e.line} of ${lines}`).to.equal(true);
  if (e.timeUs !== undefined) expect(Number.isFinite(e.timeUs) && e.timeUs >= 0, `timeUs ${e.timeUs}`).to.equal(true);
  switch (e.type) {
    case 'syscall':
      expect(e.name).to.match(/^[A-Za-z0-9_]+$/);
      if (e.retval !== undefined) expect(Number.isFinite(e.retval), `retval ${e.retval}`).to.equal(true);
      if (e.durationUs !== undefined) expect(Number.isFinite(e.durationUs) && e.durationUs >= 0, `durationUs ${e.durationUs}`).to.equal(true);
      if (e.errno !== undefined) expect(e.errno).to.match(/^[A-Z][A-Za-z0-9_]*$/);
      if (e.pending) expect([e.retText, e.retval, e.errno, e.durationUs]).to.deep.equal(['', undefined, undefined, undefined]);
      if (e.detached) expect(e.pending).to.equal(true);
      if (e.child !== undefined) {
        expect(CLONE_NAMES).to.include(e.name);
        expect(e.child).to.equal(e.retval);
        expect(Number.isSafeInteger(e.child) && e.child > 0).to.equal(true);
      }
      if (e.restarted !== undefined) expect(e.name).to.equal('restart_syscall');
      break;
    case 'signal':
      expect(e.signal).to.match(/^(?:SIG[A-Z0-9_+-]+|\d+)$/);
      break;
    case 'exit':
      expect(Number.isSafeInteger(e.code), `exit code ${e.code}`).to.equal(true);
      break;
    case 'kill':
      expect(e.signal).to.match(/^(?:SIG[A-Z0-9_+-]+|\d+)$/);
      break;
    case 'superseded':
      expect(Number.isSafeInteger(e.by) && e.by >= 0, `superseded by ${e.by}`).to.equal(true);
      break;
  }
}

async function streamed(text: string, chunk: number): Promise<{ events: StraceEvent[]; stats: StraceStats }> {
  const bytes = Buffer.from(text, 'latin1');
  function* chunks(): Generator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  const stats = emptyStats();
  const events: StraceEvent[] = [];
  for await (const batch of parseStraceStream(chunks(), { lenient: true, file: FILE }, stats)) events.push(...batch);
  return { events, stats };
}

async function check(text: string, chunk: number): Promise<void> {
  post({ kind: 'case', text });
  const physical = text.split('\n');
  if (physical[physical.length - 1] === '') physical.pop();

  // lenient: no throw at all; every event well formed; every line counted
  const lenient = parseStraceText(text, { lenient: true, file: FILE });
  expect(lenient.stats.lines).to.equal(physical.length);
  expect(lenient.stats.malformed).to.be.at.most(physical.length);
  for (const e of lenient.events) checkEvent(e, physical.length);

  // strict: a FileInputError at the first line lenient mode counts, or the same events
  let err: unknown;
  let strict: StraceEvent[] = [];
  try {
    strict = parseStraceText(text, { file: FILE }).events;
  } catch (e) {
    err = e;
  }
  if (err !== undefined) {
    if (!(err instanceof FileInputError)) throw err;
    const first = lenient.stats.malformedExamples[0];
    expect(first, `strict mode threw '${err.message}' but lenient mode counted nothing`).to.not.equal(undefined);
    expect(err.message).to.equal(`${first!.file}:${first!.line}: ${first!.detail}`);
    expect(err.line).to.equal(first!.line);
  } else {
    expect(lenient.stats.malformed).to.equal(0);
    expect(strict).to.deep.equal(lenient.events);
  }

  // the streaming reader, on the same characters as latin1 bytes
  const latin1 = Buffer.from(text, 'latin1').toString('latin1');
  const mem = latin1 === text ? lenient : parseStraceText(latin1, { lenient: true, file: FILE });
  const s = await streamed(latin1, chunk);
  expect(s.events).to.deep.equal(mem.events);
  expect({ ...s.stats, bytes: 0 }).to.deep.equal({ ...mem.stats, bytes: 0 });
  expect(s.stats.bytes).to.equal(latin1.length);
}

const { seed, numRuns } = workerData as FuzzRequest;
let runs = 0;
let failure: string | undefined;
try {
  await fc.assert(
    fc.asyncProperty(hostileArb, fc.integer({ min: 1, max: 300 }), async (text, chunk) => {
      runs++;
      await check(text, chunk);
    }),
    { seed, numRuns },
  );
} catch (e) {
  // fast-check's report (seed, path, counterexample) and the error the property threw
  const cause = e instanceof Error && e.cause !== undefined ? `\nCaused by: ${e.cause instanceof Error ? e.cause.stack : String(e.cause)}` : '';
  failure = (e instanceof Error ? e.message : String(e)) + cause;
}
post({ kind: 'done', failure, runs });
