import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { expect } from 'chai';
import {
  lineChartSpec,
  measureText,
  PNG_SCALE,
  renderChart,
  writeChart,
  type TopLevelSpec,
} from '../src/report/plot.js';

interface Image {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  pixels: Uint8Array;
}

/** Minimal PNG decoder for what resvg writes: 8-bit RGBA, non-interlaced. */
function decodePng(png: Uint8Array): Image {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  expect(buf.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9], data[12]], 'bit depth, colour type, interlace').to.deep.equal([8, 6, 0]);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = 4;
  const stride = width * bpp;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? pixels[row + x - bpp] : 0;
      const b = y > 0 ? pixels[prev + x] : 0;
      const c = x >= bpp && y > 0 ? pixels[prev + x - bpp] : 0;
      let pred: number;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      pixels[row + x] = (raw[src + x] + pred) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** Region (fractions of the image) holding the centred chart title: top band, middle columns. */
function titleBand(img: Image): { x0: number; x1: number; y0: number; y1: number } {
  // vega-lite: padding 5px, 13px bold title → the title occupies y ∈ [5, ~20] (SVG px).
  return {
    x0: Math.floor(img.width * 0.3),
    x1: Math.floor(img.width * 0.7),
    y0: 0,
    y1: 24 * PNG_SCALE,
  };
}

function isDark(img: Image, x: number, y: number): boolean {
  const i = 4 * (y * img.width + x);
  const p = img.pixels;
  return p[i + 3] > 200 && Math.max(p[i], p[i + 1], p[i + 2]) < 100;
}

function countDark(img: Image, band = titleBand(img)): number {
  let n = 0;
  for (let y = band.y0; y < band.y1; y++) {
    for (let x = band.x0; x < band.x1; x++) if (isDark(img, x, y)) n++;
  }
  return n;
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
  expect(m, 'svg width/height').to.not.equal(null);
  return { width: Number(m![1]), height: Number(m![2]) };
}

const LONG_TITLE = 'Syscall throughput of the exception-less model';

function points(n = 100): { batch: number; throughput: number }[] {
  return Array.from({ length: n }, (_, i) => ({ batch: i + 1, throughput: 100 * Math.log(i + 2) }));
}

function simpleSpec(title: string): TopLevelSpec {
  return {
    title,
    width: 400,
    height: 240,
    data: { values: points() },
    mark: 'line',
    encoding: {
      x: { field: 'batch', type: 'quantitative', title: 'batch size' },
      y: { field: 'throughput', type: 'quantitative', title: 'throughput (kops/s)' },
    },
  };
}

describe('report/plot', function () {
  this.timeout(60_000);

  it('renders SVG containing the title, axis titles, in DejaVu Sans', async () => {
    const { svg } = await renderChart(simpleSpec(LONG_TITLE));
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg).to.include(`>${LONG_TITLE}</text>`);
    expect(svg).to.include('>batch size</text>');
    expect(svg).to.include('>throughput (kops/s)</text>');
    expect(svg).to.include('font-family="DejaVu Sans"');
  });

  it('produces a PNG at 2x the SVG size', async () => {
    const { svg, png } = await renderChart(simpleSpec(LONG_TITLE));
    const img = decodePng(png);
    const size = svgSize(svg);
    expect(img.width).to.equal(size.width * PNG_SCALE);
    expect(img.height).to.equal(size.height * PNG_SCALE);
  });

  it('really draws text into the PNG (title band: long title vs empty title vs no fonts)', async () => {
    const withTitle = await renderChart(simpleSpec(LONG_TITLE));
    const noTitle = await renderChart(simpleSpec(''));
    expect(noTitle.svg).to.not.include(LONG_TITLE);

    const a = decodePng(withTitle.png);
    const b = decodePng(noTitle.png);
    const darkWith = countDark(a);
    const darkWithout = countDark(b);
    // A 13px bold title at 2x is thousands of dark pixels; without it the band holds only
    // the (light) plot background, grid and data line.
    expect(darkWith, 'dark pixels in title band with title').to.be.greaterThan(1500);
    expect(darkWithout, 'dark pixels in title band without title').to.be.lessThan(20);

    // Control: the very same SVG rasterized without any font renders no text at all, so
    // the assertion above can fail when fonts are missing.
    const noFonts = new Resvg(withTitle.svg, {
      fitTo: { mode: 'zoom', value: PNG_SCALE },
      font: { loadSystemFonts: false },
    }).render();
    const c: Image = { width: noFonts.width, height: noFonts.height, pixels: noFonts.pixels };
    expect([c.width, c.height]).to.deep.equal([a.width, a.height]);
    expect(countDark(c), 'dark pixels in title band with no fonts').to.equal(0);
    // ...and text is also missing elsewhere (axis labels/titles): far fewer dark pixels overall.
    const whole = { x0: 0, x1: a.width, y0: 0, y1: a.height };
    expect(countDark(c, whole)).to.be.lessThan(countDark(a, whole) / 10);
  });

  it('is deterministic: same spec → identical SVG and PNG', async () => {
    const spec = lineChartSpec({
      title: 'determinism',
      data: points(),
      x: { field: 'batch', title: 'batch size', scale: 'log' },
      y: { field: 'throughput', title: 'throughput' },
      reference: { data: points(10) },
    });
    const r1 = await renderChart(spec);
    const r2 = await renderChart(spec);
    expect(r2.svg).to.equal(r1.svg);
    expect(Buffer.from(r2.png).equals(Buffer.from(r1.png))).to.equal(true);
  });

  it('does not mutate the caller\'s spec or data rows', async () => {
    const spec = simpleSpec(LONG_TITLE);
    const before = structuredClone(spec);
    await renderChart(spec);
    expect(spec).to.deep.equal(before); // deep-eql also compares own symbol keys (vega_id)
  });

  it('writeChart writes ID.vl.json, ID.svg and ID.png', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plot-test-'));
    try {
      const spec = simpleSpec(LONG_TITLE);
      await writeChart(join(dir, 'out'), 'fig1', spec);
      const out = join(dir, 'out');
      expect(readdirSync(out).sort()).to.deep.equal(['fig1.png', 'fig1.svg', 'fig1.vl.json']);
      expect(JSON.parse(readFileSync(join(out, 'fig1.vl.json'), 'utf8'))).to.deep.equal(spec);
      const svg = readFileSync(join(out, 'fig1.svg'), 'utf8');
      expect(svg).to.equal((await renderChart(spec)).svg);
      const img = decodePng(readFileSync(join(out, 'fig1.png')));
      expect(img.width).to.equal(svgSize(svg).width * PNG_SCALE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lineChartSpec: model vs paper layers compile cleanly and are labelled', async () => {
    const model = ['A', 'B'].flatMap((s, k) =>
      points(50).map((p) => ({ ...p, throughput: p.throughput * (1 + k), cores: s })),
    );
    const paper = model.filter((_, i) => i % 7 === 0).map((p) => ({ ...p, throughput: p.throughput * 1.1 }));
    const spec = lineChartSpec({
      title: 'FlexSC vs paper',
      data: model,
      x: { field: 'batch', title: 'batch size', scale: 'log' },
      y: { field: 'throughput', title: 'throughput (kops/s)' },
      color: { field: 'cores', title: 'cores' },
      reference: { data: paper },
    });
    const warnings: unknown[] = [];
    const origWarn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args);
    let svg: string;
    try {
      svg = (await renderChart(spec)).svg;
    } finally {
      console.warn = origWarn;
    }
    expect(warnings).to.deep.equal([]);
    for (const label of ['FlexSC vs paper', 'model', 'paper', 'cores', 'batch size']) {
      expect(svg).to.include(`>${label}</text>`);
    }
    expect(svg).to.include('stroke-dasharray="5,3"');
  });

  it('measures text with DejaVu Sans advance widths', () => {
    // DejaVu Sans: 'M' = 1767/2048 em, 'i' = 569/2048 em.
    expect(measureText({ fontSize: 2048 }, 'M')).to.equal(1767);
    expect(measureText({ fontSize: 2048 }, 'i')).to.equal(569);
    expect(measureText({}, '  ')).to.equal(0);
    expect(measureText({ fontSize: 11, fontWeight: 'bold' }, 'model')).to.be.greaterThan(
      measureText({ fontSize: 11 }, 'model'),
    );
  });
});
