/**
 * The `cache` command: lackey trace parsing and the cachegrind-exact cache simulation,
 * checked against real cachegrind 3.19 counts (test/fixtures/lackey, see its README).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cacheCommand, simulateTrace } from '../src/commands/cache.js';
import { FileInputError, InputError } from '../src/errors.js';
import {
  CACHEGRIND_EVENTS,
  CachegrindSim,
  cFixed,
  formatCachegrindSummary,
  parseCacheOption,
  type CacheGeometry,
  type CachegrindConfig,
  type CachegrindCounts,
} from '../src/hw/cachegrind.js';
import { INSTR, LOAD, MODIFY, STORE, countLackey, parseLackeyChunks, readLackey } from '../src/workloads/trace/lackey.js';

/** Compiled tests run from dist/test; fixtures stay in the source tree. */
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/lackey/', import.meta.url));

interface Expected {
  valgrind: string;
  geometries: Record<string, { I1: string; D1: string; LL: string }>;
  programs: Record<
    string,
    {
      traces: string[];
      traceLines: number;
      cachegrind: Record<string, { command: string; counts: CachegrindCounts; summaryText: string }>;
    }
  >;
}

const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

function config(g: { I1: string; D1: string; LL: string }): CachegrindConfig {
  return { I1: parseCacheOption('--I1', g.I1), D1: parseCacheOption('--D1', g.D1), LL: parseCacheOption('--LL', g.LL) };
}

async function runJson(trace: string, g: { I1: string; D1: string; LL: string }): Promise<CachegrindCounts> {
  let out = '';
  await cacheCommand(trace, { ...g, json: true }, g, (s) => (out += s));
  expect(out.endsWith('}\n'), 'one JSON object then a newline').to.equal(true);
  expect(out.trim().split('\n')).to.have.length(1);
  const parsed = JSON.parse(out) as CachegrindCounts;
  expect(Object.keys(parsed)).to.deep.equal([...CACHEGRIND_EVENTS]);
  return parsed;
}

async function simulateDirect(trace: string, cfg: CachegrindConfig): Promise<CachegrindCounts> {
  const sim = new CachegrindSim(cfg);
  for await (const b of readLackey(trace)) sim.run(b.count, b.kinds, b.addrs, b.sizes);
  return sim.counts();
}

/** Parses trace text (optionally delivered in pieces) into plain records. */
async function parseText(text: string | Uint8Array[], file = 'mem.trace', batchSize?: number) {
  const chunks = typeof text === 'string' ? [Buffer.from(text, 'latin1')] : text;
  const records: { kind: number; addr: number; size: number; line: number }[] = [];
  for await (const b of parseLackeyChunks(chunks, file, { batchSize })) {
    for (let i = 0; i < b.count; i++) records.push({ kind: b.kinds[i], addr: b.addrs[i], size: b.sizes[i], line: b.lines[i] });
  }
  return records;
}

async function parseError(text: string, file = 'bad.trace'): Promise<FileInputError> {
  try {
    await parseText(text, file);
  } catch (err) {
    expect(err).to.be.instanceOf(FileInputError);
    return err as FileInputError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flexsc-cache-test-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('cache: counters equal cachegrind 3.19 on real lackey traces', () => {
  it('the fixtures were made with valgrind 3.19 and cover several geometries', () => {
    expect(expected.valgrind).to.equal('valgrind-3.19.0');
    expect(Object.keys(expected.programs)).to.have.length.at.least(3);
    expect(Object.keys(expected.geometries)).to.have.length.at.least(2);
  });

  for (const [name, program] of Object.entries(expected.programs)) {
    for (const [geometry, reference] of Object.entries(program.cachegrind)) {
      const g = expected.geometries[geometry];
      it(`${name}, ${geometry} (${g.I1} / ${g.D1} / ${g.LL}): cacheCommand --json`, async () => {
        const counts = await runJson(join(FIXTURES, program.traces[0]), g);
        expect(counts).to.deep.equal(reference.counts);
      });
      it(`${name}, ${geometry}: CachegrindSim fed by readLackey`, async () => {
        const counts = await simulateDirect(join(FIXTURES, program.traces[0]), config(g));
        expect(counts).to.deep.equal(reference.counts);
      });
      it(`${name}, ${geometry}: the human summary is cachegrind's, character for character`, async () => {
        let out = '';
        await cacheCommand(join(FIXTURES, program.traces[0]), g, g, (s) => (out += s));
        const cgText = readFileSync(join(FIXTURES, reference.summaryText), 'utf8');
        expect(out.endsWith(cgText), `got:\n${out}\nwant (at the end):\n${cgText}`).to.equal(true);
        expect(out).to.match(/^I1 cache: +\d+ B, \d+ B, /);
      });
    }
  }

  it('lackey sees what cachegrind counts: Ir = I lines, Dr = L + M lines, Dw = S lines', async () => {
    for (const program of Object.values(expected.programs)) {
      const c = await countLackey(join(FIXTURES, program.traces[0]));
      const ref = Object.values(program.cachegrind)[0].counts;
      expect(c.I).to.equal(ref.Ir);
      expect(c.L + c.M).to.equal(ref.Dr);
      expect(c.S).to.equal(ref.Dw);
    }
  });

  it('plain, .gz and .xz copies of a trace give the same counts', async () => {
    let compared = 0;
    for (const [name, program] of Object.entries(expected.programs)) {
      const gz = program.traces.find((t) => t.endsWith('.gz'));
      const xz = program.traces.find((t) => t.endsWith('.xz'));
      if (!gz || !xz) continue;
      // the plain copy comes from zlib's one-shot decoder, not from the streaming reader
      const plain = join(tmp, `${name}.lackey`);
      writeFileSync(plain, gunzipSync(readFileSync(join(FIXTURES, gz))));
      const g = expected.geometries.tiny ?? Object.values(expected.geometries)[0];
      const fromPlain = await runJson(plain, g);
      expect(await runJson(join(FIXTURES, gz), g)).to.deep.equal(fromPlain);
      expect(await runJson(join(FIXTURES, xz), g)).to.deep.equal(fromPlain);
      const lines = readFileSync(plain, 'latin1').split('\n').length - 1;
      expect(lines).to.equal(program.traceLines);
      compared++;
    }
    expect(compared).to.be.at.least(1);
  });

  it('a plain file is recognised by content, whatever its name; a compressed one too', async () => {
    const gzFixture = Object.values(expected.programs).flatMap((p) => p.traces).find((t) => t.endsWith('.gz'))!;
    const renamed = join(tmp, 'trace-without-extension');
    writeFileSync(renamed, readFileSync(join(FIXTURES, gzFixture)));
    const a = await countLackey(renamed);
    const b = await countLackey(join(FIXTURES, gzFixture));
    expect(a).to.deep.equal(b);
  });
});

describe('cache: corrupt and truncated compressed traces', () => {
  const fixture = (ext: string) => join(FIXTURES, Object.values(expected.programs).flatMap((p) => p.traces).find((t) => t.endsWith(ext))!);

  async function rejects(file: string): Promise<InputError> {
    try {
      await countLackey(file);
    } catch (err) {
      expect(err).to.be.instanceOf(InputError);
      expect((err as Error).message).to.contain(file);
      return err as InputError;
    }
    throw new Error(`expected ${file} to be rejected`);
  }

  it('a truncated .gz is an InputError naming the file', async () => {
    const f = join(tmp, 'truncated.lackey.gz');
    const data = readFileSync(fixture('.gz'));
    writeFileSync(f, data.subarray(0, Math.floor(data.length / 2)));
    expect((await rejects(f)).message).to.match(/gzip/);
  });

  it('a truncated .xz is an InputError naming the file', async () => {
    const f = join(tmp, 'truncated.lackey.xz');
    const data = readFileSync(fixture('.xz'));
    writeFileSync(f, data.subarray(0, Math.floor(data.length / 2)));
    expect((await rejects(f)).message).to.match(/xz.*truncated/);
  });

  it('a corrupt .xz is an InputError naming the file', async () => {
    const f = join(tmp, 'corrupt.lackey.xz');
    const data = Buffer.from(readFileSync(fixture('.xz')));
    for (let i = 200; i < 400; i++) data[i] ^= 0x5a;
    writeFileSync(f, data);
    expect((await rejects(f)).message).to.match(/xz.*corrupt/);
  });

  it('a .gz whose data was overwritten is an InputError naming the file', async () => {
    const f = join(tmp, 'corrupt.lackey.gz');
    const data = Buffer.from(readFileSync(fixture('.gz')));
    for (let i = 100; i < data.length - 100; i += 97) data[i] ^= 0xff;
    writeFileSync(f, data);
    await rejects(f);
  });

  it('a .xz or .gz name on data without that header is an InputError', async () => {
    for (const ext of ['xz', 'gz']) {
      const f = join(tmp, `plain-named.lackey.${ext}`);
      writeFileSync(f, 'I  00401000,3\n');
      expect((await rejects(f)).message).to.match(new RegExp(`expected ${ext === 'xz' ? 'xz' : 'gzip'} data`));
    }
  });

  it('a missing file is an InputError naming it', async () => {
    await rejects(join(tmp, 'no-such-trace.lackey'));
  });
});

describe('lackey parser', () => {
  const SAMPLE = [
    '==3637== Lackey, an example Valgrind tool',
    '==3637== Command: ./hello',
    '==3637== ',
    'I  004014f0,2',
    ' L 1fff000d80,8',
    ' S 1fff000d78,8',
    ' M 004a7f20,4',
    '--3637-- a verbose message',
    '',
    'I  04017f0,15',
    '==3637== Exit code:       0',
    '',
  ].join('\n');

  it('reads I/L/S/M records and skips ==pid==, --pid-- and blank lines', async () => {
    const r = await parseText(SAMPLE);
    expect(r).to.deep.equal([
      { kind: INSTR, addr: 0x4014f0, size: 2, line: 4 },
      { kind: LOAD, addr: 0x1fff000d80, size: 8, line: 5 },
      { kind: STORE, addr: 0x1fff000d78, size: 8, line: 6 },
      { kind: MODIFY, addr: 0x4a7f20, size: 4, line: 7 },
      { kind: INSTR, addr: 0x4017f0, size: 15, line: 10 },
    ]);
  });

  it('parses addresses above 2^32 exactly (up to 2^53 - 1)', async () => {
    const r = await parseText(' L 1ffefffd58,8\n S ffffffffffff,1\nI  1fffffffffffff,4\n L 100000000,8\n');
    expect(r.map((x) => x.addr)).to.deep.equal([0x1ffefffd58, 2 ** 48 - 1, Number.MAX_SAFE_INTEGER, 2 ** 32]);
    expect(r[0].addr).to.equal(137422175576);
    expect(r[0].addr % 64).to.equal(24); // 0x...58: the low bits survive
    const err = await parseError(' L 20000000000000,8\n');
    expect(err.message).to.contain('2^53');
  });

  it('gives the same records however the bytes are split into chunks', async () => {
    const whole = await parseText(SAMPLE);
    const bytes = Buffer.from(SAMPLE, 'latin1');
    for (const size of [1, 2, 3, 5, 7, 13, 64]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(new Uint8Array(bytes.subarray(i, i + size)));
      expect(await parseText(chunks), `chunks of ${size}`).to.deep.equal(whole);
    }
    for (const batchSize of [1, 2, 3]) expect(await parseText(SAMPLE, 'x', batchSize)).to.deep.equal(whole);
  });

  it('accepts CRLF line ends, upper-case hex and a last line without a newline', async () => {
    const r = await parseText('I  0040ABCD,3\r\n L 7FF0,8\r\n S 10,1');
    expect(r.map((x) => [x.kind, x.addr, x.size])).to.deep.equal([
      [INSTR, 0x40abcd, 3],
      [LOAD, 0x7ff0, 8],
      [STORE, 0x10, 1],
    ]);
  });

  it('a malformed line is a FileInputError naming the file and the line', async () => {
    const cases: [string, number, RegExp][] = [
      ['I  004014f0,2\n L 1fff000d80;8\n', 2, /expected ',' after the address/],
      ['==1== banner\nI  004014f0\n', 2, /expected ',' after the address, got "I  004014f0"/],
      ['I  zz,2\n', 1, /expected a hexadecimal address/],
      ['I  0040,\n', 1, /expected a decimal size/],
      ['I  0040,0\n', 1, /at least 1 byte/],
      ['I  0040,3 x\n', 1, /expected the end of the line/],
      ['I0040,3\n', 1, /expected a space after the record letter/],
      ['I  0040,3\n X 0040,3\n', 2, /expected a record/],
      ['I  0040,3\nhello world\n', 2, /expected a record .*got "hello world"/],
      ['==12 not a banner\n', 1, /expected a record/],
      ['I  0040,3\n\nI  0041,3\nI  0042', 4, /expected ','/],
    ];
    for (const [text, line, pattern] of cases) {
      const err = await parseError(text, 'traces/bad.lackey');
      expect(err.file, text).to.equal('traces/bad.lackey');
      expect(err.line, text).to.equal(line);
      expect(err.message, text).to.match(new RegExp(`^traces/bad\\.lackey:${line}: `));
      expect(err.message, text).to.match(pattern);
    }
  });

  it('line numbers stay right across chunk boundaries', async () => {
    const text = `${'I  00401000,3\n'.repeat(1000)} L 12345,9,9\n`;
    const bytes = Buffer.from(text);
    const chunks = [bytes.subarray(0, 5000), bytes.subarray(5000, 14003), bytes.subarray(14003)];
    try {
      await parseText(chunks);
      expect.fail('should throw');
    } catch (err) {
      expect((err as FileInputError).line).to.equal(1001);
    }
  });

  it('a file error from readLackey names the file on disk', async () => {
    const f = join(tmp, 'malformed.lackey');
    writeFileSync(f, '==1== x\nI  00401000,3\n L 0x1000,8\n');
    try {
      await countLackey(f);
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(FileInputError);
      expect((err as Error).message).to.match(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: expected`));
    }
  });

  it('reads .gz input written by zlib (several gzip members too)', async () => {
    const f = join(tmp, 'two-members.lackey.gz');
    writeFileSync(f, Buffer.concat([gzipSync('I  00401000,3\n L 2000,8\n'), gzipSync(' S 3000,4\n M 4000,2\n')]));
    expect(await countLackey(f)).to.deep.equal({ I: 1, L: 1, S: 1, M: 1 });
  });
});

describe('cache geometry validation (cachegrind rules)', () => {
  it('accepts valid geometries', () => {
    expect(parseCacheOption('--D1', '32768,8,64')).to.deep.equal({ size: 32768, assoc: 8, lineSize: 64 });
    expect(parseCacheOption('--LL', '16777216,4,2097152')).to.deep.equal({ size: 16777216, assoc: 4, lineSize: 2097152 });
    expect(parseCacheOption('--I1', '64,1,32')).to.deep.equal({ size: 64, assoc: 1, lineSize: 32 });
  });

  // each message cachegrind 3.19 gives for the same value (checked with valgrind --D1=…)
  const bad: [string, RegExp][] = [
    ['32768,8', /expected size,assoc,line_size/],
    ['32768,8,64,', /expected size,assoc,line_size/],
    ['32768, 8,64', /expected size,assoc,line_size/],
    ['-64,1,64', /expected size,assoc,line_size/],
    ['a,b,c', /expected size,assoc,line_size/],
    ['32768,0,64', /expected the associativity to be a positive/],
    ['2048,3,32', /power-of-two number of sets.*Cache set count is not a power of two/],
    ['1000,2,64', /Cache set count is not a power of two/],
    ['128,4,64', /Cache set count is not a power of two/],
    ['0,1,64', /Cache set count is not a power of two/],
    ['96,1,48', /expected the line size to be a power of two/],
    ['128,1,8', /expected a line size of at least 16 bytes/],
    ['64,1,64', /expected the size to exceed the line size/],
    ['2147483648,8,64', /at most 2147483647/],
  ];
  for (const [value, pattern] of bad) {
    it(`rejects --D1=${value}`, () => {
      expect(() => parseCacheOption('--D1', value))
        .to.throw(InputError)
        .with.property('message')
        .that.matches(new RegExp(`^--D1=`))
        .and.matches(pattern);
    });
  }

  it('cacheCommand validates the options (or defaults) before reading the trace', async () => {
    const g = expected.geometries.default;
    for (const [opts, option] of [
      [{ D1: '1000,2,64' }, '--D1'],
      [{ I1: '96,1,48' }, '--I1'],
      [{ LL: '8,1,8' }, '--LL'],
    ] as const) {
      try {
        await cacheCommand(join(tmp, 'never-read'), opts, g, () => {});
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(InputError);
        expect((err as Error).message.startsWith(`${option}=`)).to.equal(true);
      }
    }
    try {
      await cacheCommand(join(tmp, 'never-read'), {}, { ...g, LL: '100,1,64' }, () => {});
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).to.match(/^--LL=100,1,64: /);
    }
  });
});

describe('cachegrind simulation rules on hand-written traces', () => {
  // I1 and D1: 128 B, 2-way, 32 B lines = 2 sets; LL: 1 KiB, 4-way, 32 B lines = 8 sets.
  const SMALL: CachegrindConfig = {
    I1: { size: 128, assoc: 2, lineSize: 32 },
    D1: { size: 128, assoc: 2, lineSize: 32 },
    LL: { size: 1024, assoc: 4, lineSize: 32 },
  };

  async function simulateText(text: string, cfg: CachegrindConfig): Promise<CachegrindCounts> {
    const f = join(tmp, `hand-${Math.random().toString(36).slice(2)}.lackey`);
    writeFileSync(f, text);
    return simulateTrace(f, cfg);
  }

  it('straddling references: both lines looked up, one miss counted (derivation in comments)', async () => {
    // line = addr / 32; D1/I1 set = line % 2, LL set = line % 8.
    const trace = [
      'I  0000003e,4', //  1. bytes 0x3e..0x41 = lines 1 and 2, both cold: ONE I1 miss, ONE LL miss
      'I  00000042,2', //  2. line 2: hit (filled by the straddling fetch's second lookup)
      'I  00000020,2', //  3. line 1: hit
      ' L 00001000,8', //  4. line 128 (D1 set 0): D1 miss, LL miss
      ' L 0000101c,8', //  5. 0x101c..0x1023 = lines 128 (hit) + 129 (miss): ONE D1 miss; LL: 128 hit, 129 miss: ONE LL miss
      ' L 00001020,4', //  6. line 129: hit, because step 5 looked it up even though the access as a whole missed
      ' L 0000105e,4', //  7. 0x105e..0x1061 = lines 130 + 131, both cold: ONE D1 miss (not two), ONE LL miss
      ' M 00001021,2', //  8. modify = one read: line 129 hit
      ' S 00002000,8', //  9. line 256 (set 0, holding 128 and 130): write miss, evicts LRU 128; LL miss
      ' L 00001000,8', // 10. line 128: D1 miss again (evicted in 9; evicts 130), LL hit
      ' L 00003000,160', // 11. 160 bytes clamped to the smallest line (32): line 384 only: D1 miss, LL miss
      '',
    ].join('\n');
    const c = await simulateText(trace, SMALL);
    expect(c).to.deep.equal({ Ir: 3, I1mr: 1, ILmr: 1, Dr: 7, D1mr: 5, DLmr: 4, Dw: 1, D1mw: 1, DLmw: 1 });

    // The same, step by step: cumulative [I1mr, ILmr, D1mr, DLmr, D1mw, DLmw] after each.
    // Looking up only the first line would make step 2 an I1 miss and step 6 a D1 miss;
    // counting a miss per line would make steps 1 and 7 count two.
    const after = [
      [1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [1, 1, 1, 1, 0, 0],
      [1, 1, 2, 2, 0, 0],
      [1, 1, 2, 2, 0, 0],
      [1, 1, 3, 3, 0, 0],
      [1, 1, 3, 3, 0, 0],
      [1, 1, 3, 3, 1, 1],
      [1, 1, 4, 3, 1, 1],
      [1, 1, 5, 4, 1, 1],
    ];
    const records = await parseText(trace);
    const sim = new CachegrindSim(SMALL);
    records.forEach((r, i) => {
      sim.run(1, [r.kind], [r.addr], [r.size]);
      expect([sim.I1mr, sim.ILmr, sim.D1mr, sim.DLmr, sim.D1mw, sim.DLmw], `after step ${i + 1}`).to.deep.equal(after[i]);
    });
  });

  it('two straddling references whose lines all miss count one miss each', async () => {
    const c = await simulateText(' L 0000101e,4\n L 0000105e,4\n', SMALL);
    expect(c).to.include({ Dr: 2, D1mr: 2, DLmr: 2 });
  });

  it('LL is looked up only on an L1 miss', async () => {
    // D1: one set of 2 ways; LL: 4 direct-mapped sets; 64 B lines. A = line 0x40 and
    // B = line 0x44 share LL set 0, C = line 0x41 is in LL set 1.
    const cfg: CachegrindConfig = {
      I1: { size: 128, assoc: 2, lineSize: 64 },
      D1: { size: 128, assoc: 2, lineSize: 64 },
      LL: { size: 256, assoc: 1, lineSize: 64 },
    };
    // A: miss, miss. B: miss, miss (LL evicts A). A: D1 hit, so LL is NOT looked up (were
    // it, A would evict B from LL). C: D1 miss (evicts B from D1), LL miss. B: D1 miss,
    // LL hit. With LL looked up on every access, the last one would miss LL too (DLmr 4).
    const c = await simulateText(' L 1000,8\n L 1100,8\n L 1000,8\n L 1040,8\n L 1100,8\n', cfg);
    expect(c).to.include({ Dr: 5, D1mr: 4, DLmr: 3 });
  });

  it('an instruction spanning more than two lines is an error naming the trace line (cachegrind panics)', async () => {
    const cfg: CachegrindConfig = {
      I1: { size: 256, assoc: 1, lineSize: 16 },
      D1: { size: 256, assoc: 1, lineSize: 16 },
      LL: { size: 1024, assoc: 1, lineSize: 16 },
    };
    try {
      await simulateText('I  00001000,4\nI  0000100f,19\n', cfg);
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(FileInputError);
      expect((err as FileInputError).line).to.equal(2);
      expect((err as Error).message).to.match(/spans 3 lines/);
    }
  });

  it('line 0 starts out cached, as with cachegrind\'s zero-filled tags (and is evicted as LRU)', () => {
    const sim = new CachegrindSim(SMALL);
    sim.read(0x10, 4); // line 0: hit without ever being loaded
    expect(sim.D1mr).to.equal(0);
    sim.read(0x40, 4); // line 2, set 0: fills the empty way
    sim.read(0x80, 4); // line 4, set 0: evicts LRU line 0
    sim.read(0x10, 4); // line 0 now misses D1 (LL still has it: 8 sets, line 0 in set 0 with room)
    expect(sim.counts()).to.include({ Dr: 4, D1mr: 3, DLmr: 2 });
  });

  it('matches a literal transcription of cg_sim.c on random traces (straddles, line 0, 1-way caches)', () => {
    /** cachegrind's algorithm as written: tags zero-filled, MRU at index 0, shift on use. */
    class CgCache {
      readonly tags: number[];
      readonly sets: number;
      constructor(readonly g: CacheGeometry) {
        this.sets = g.size / g.lineSize / g.assoc;
        this.tags = new Array<number>(this.sets * g.assoc).fill(0);
      }
      setrefIsMiss(set: number, tag: number): boolean {
        const base = set * this.g.assoc;
        const t = this.tags;
        if (t[base] === tag) return false;
        for (let i = 1; i < this.g.assoc; i++) {
          if (t[base + i] === tag) {
            for (let j = i; j > 0; j--) t[base + j] = t[base + j - 1];
            t[base] = tag;
            return false;
          }
        }
        for (let j = this.g.assoc - 1; j > 0; j--) t[base + j] = t[base + j - 1];
        t[base] = tag;
        return true;
      }
      refIsMiss(a: number, size: number): boolean {
        const b1 = Math.floor(a / this.g.lineSize);
        const b2 = Math.floor((a + size - 1) / this.g.lineSize);
        if (b1 === b2) return this.setrefIsMiss(b1 % this.sets, b1);
        if (this.setrefIsMiss(b1 % this.sets, b1)) {
          this.setrefIsMiss(b2 % this.sets, b2);
          return true;
        }
        return this.setrefIsMiss(b2 % this.sets, b2);
      }
    }
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // 32-bit RNG state, not an address
      return Math.floor((seed / 2 ** 32) * n);
    };
    const geometries: CachegrindConfig[] = [
      SMALL,
      { I1: { size: 64, assoc: 1, lineSize: 32 }, D1: { size: 256, assoc: 4, lineSize: 32 }, LL: { size: 1024, assoc: 2, lineSize: 64 } },
      { I1: { size: 512, assoc: 2, lineSize: 64 }, D1: { size: 128, assoc: 1, lineSize: 64 }, LL: { size: 2048, assoc: 8, lineSize: 128 } },
    ];
    for (const cfg of geometries) {
      const sim = new CachegrindSim(cfg);
      const i1 = new CgCache(cfg.I1);
      const d1 = new CgCache(cfg.D1);
      const ll = new CgCache(cfg.LL);
      const ref = { Ir: 0, I1mr: 0, ILmr: 0, Dr: 0, D1mr: 0, DLmr: 0, Dw: 0, D1mw: 0, DLmw: 0 };
      const minLine = Math.min(cfg.I1.lineSize, cfg.D1.lineSize, cfg.LL.lineSize);
      for (let n = 0; n < 20000; n++) {
        const kind = rnd(4);
        // small address range (lots of conflicts), line 0 included, some far above 2^32
        const addr = rnd(10) === 0 ? 2 ** 40 + rnd(4096) : rnd(3000);
        const size = kind === INSTR ? 1 + rnd(15) : [1, 2, 4, 8, 16, 32, 160][rnd(7)];
        sim.run(1, [kind], [addr], [size]);
        const ds = Math.min(size, minLine);
        if (kind === INSTR) {
          ref.Ir++;
          if (i1.refIsMiss(addr, size)) {
            ref.I1mr++;
            if (ll.refIsMiss(addr, size)) ref.ILmr++;
          }
        } else if (kind === STORE) {
          ref.Dw++;
          if (d1.refIsMiss(addr, ds)) {
            ref.D1mw++;
            if (ll.refIsMiss(addr, ds)) ref.DLmw++;
          }
        } else {
          ref.Dr++;
          if (d1.refIsMiss(addr, ds)) {
            ref.D1mr++;
            if (ll.refIsMiss(addr, ds)) ref.DLmr++;
          }
        }
      }
      expect(sim.counts()).to.deep.equal(ref);
    }
  });
});

describe("cachegrind's summary text", () => {
  it('formats like cg_fini, including empty counters', () => {
    const zero = Object.fromEntries(CACHEGRIND_EVENTS.map((e) => [e, 0])) as CachegrindCounts;
    expect(formatCachegrindSummary(zero).split('\n')[0]).to.equal('I   refs:      0');
    expect(formatCachegrindSummary(zero)).to.contain('D1  miss rate: 0.0% (0.0%     + 0.0%  )');
  });

  it('rounds exact ties to even like printf (toFixed would round them up)', () => {
    expect(cFixed(0.25, 1)).to.equal('0.2');
    expect(cFixed(0.75, 1)).to.equal('0.8');
    expect(cFixed(2.5, 0)).to.equal('2');
    expect(cFixed(0.125, 2)).to.equal('0.12');
    expect(cFixed(1 / 3, 2)).to.equal('0.33');
    expect(cFixed(0.35, 1)).to.equal('0.3'); // 0.35 is really 0.34999…: no tie
  });
});
