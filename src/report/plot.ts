/**
 * Headless chart rendering: Vega-Lite spec → Vega → SVG (vega's `View`, renderer 'none')
 * → PNG (resvg) with the DejaVu Sans font bundled by the `dejavu-fonts-ttf` package.
 *
 * No system fonts and no `canvas` package are involved, so output is identical on every
 * machine. Two things keep vega's layout and resvg's drawing in agreement:
 *  - the chart's config font is forced to DejaVu Sans (the only family resvg loads, so any
 *    other family would fall back to it anyway);
 *  - vega's text measurement (`textMetrics.width`, which without `canvas` is a crude
 *    0.8·fontSize-per-character estimate) is replaced by the real advance widths read from
 *    the DejaVu Sans TTF files. This is a process-wide change to vega, installed on first
 *    render; it affects only text measurement (label overlap, axis/legend/title extents).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from './files.js';

/**
 * vega, vega-lite and resvg are loaded on first render, not at start-up: most commands
 * (and every worker that only computes points) never draw a chart, and loading them costs
 * about a second.
 */
type Vega = typeof import('vega');
let vegaModule: Vega | undefined;
let compileModule: typeof import('vega-lite').compile | undefined;
async function loadVega(): Promise<{ vega: Vega; compile: typeof import('vega-lite').compile }> {
  vegaModule ??= await import('vega');
  compileModule ??= (await import('vega-lite')).compile;
  return { vega: vegaModule, compile: compileModule };
}

export type { TopLevelSpec };

/** Font family used for every text in rendered charts. */
export const CHART_FONT = 'DejaVu Sans';
/** PNG pixels per SVG pixel. */
export const PNG_SCALE = 2;

const FACES = {
  regular: 'DejaVuSans.ttf',
  bold: 'DejaVuSans-Bold.ttf',
  oblique: 'DejaVuSans-Oblique.ttf',
  boldOblique: 'DejaVuSans-BoldOblique.ttf',
} as const;
type Face = keyof typeof FACES;

let fontDirCache: string | undefined;
/** Directory holding the bundled DejaVu TTF files. */
export function fontDir(): string {
  if (fontDirCache === undefined) {
    const pkg = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json');
    fontDirCache = join(dirname(pkg), 'ttf');
  }
  return fontDirCache;
}

/** Paths of the DejaVu Sans faces handed to resvg. */
export function fontFiles(): string[] {
  return Object.values(FACES).map((f) => join(fontDir(), f));
}

// ---------------------------------------------------------------------------------------
// Text metrics from the TTF files (cmap + hmtx, no kerning).

interface FontMetrics {
  unitsPerEm: number;
  /** Advance width (font units) by code point. */
  advance: Map<number, number>;
  /** Advance of the .notdef glyph, used for unmapped characters. */
  missing: number;
}

/** Minimal TrueType reader: advance widths per code point (cmap format 4/12 + hmtx). */
function readFontMetrics(path: string): FontMetrics {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (o: number): number => dv.getUint16(o);
  const i16 = (o: number): number => dv.getInt16(o);
  const u32 = (o: number): number => dv.getUint32(o);
  const tables = new Map<string, number>();
  const numTables = u16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), u32(rec + 8));
  }
  const table = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font ${path}: missing '${tag}' table`);
    return off;
  };
  const unitsPerEm = u16(table('head') + 18);
  const numHMetrics = u16(table('hhea') + 34);
  const hmtx = table('hmtx');
  const glyphAdvance = (g: number): number => u16(hmtx + 4 * Math.min(g, numHMetrics - 1));

  const cmap = table('cmap');
  let fmt4: number | undefined;
  let fmt12: number | undefined;
  for (let i = 0; i < u16(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = u16(rec);
    const encoding = u16(rec + 2);
    const sub = cmap + u32(rec + 4);
    const format = u16(sub);
    if (format === 12 && (platform === 3 || platform === 0)) fmt12 ??= sub;
    if (format === 4 && ((platform === 3 && encoding === 1) || platform === 0)) fmt4 ??= sub;
  }
  const advance = new Map<number, number>();
  if (fmt12 !== undefined) {
    const groups = u32(fmt12 + 12);
    for (let i = 0; i < groups; i++) {
      const g = fmt12 + 16 + 12 * i;
      const start = u32(g);
      const end = u32(g + 4);
      const glyph = u32(g + 8);
      for (let c = start; c <= end; c++) advance.set(c, glyphAdvance(glyph + c - start));
    }
  } else if (fmt4 !== undefined) {
    const segCount = u16(fmt4 + 6) / 2;
    const ends = fmt4 + 14;
    const starts = ends + 2 * segCount + 2;
    const deltas = starts + 2 * segCount;
    const rangeOffsets = deltas + 2 * segCount;
    for (let s = 0; s < segCount; s++) {
      const start = u16(starts + 2 * s);
      const end = u16(ends + 2 * s);
      const delta = i16(deltas + 2 * s);
      const ro = u16(rangeOffsets + 2 * s);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (ro === 0) glyph = (c + delta) & 0xffff;
        else {
          glyph = u16(rangeOffsets + 2 * s + ro + 2 * (c - start));
          if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
        }
        if (glyph !== 0) advance.set(c, glyphAdvance(glyph));
      }
    }
  } else {
    throw new Error(`font ${path}: no usable Unicode cmap subtable`);
  }
  return { unitsPerEm, advance, missing: glyphAdvance(0) };
}

const metricsCache = new Map<Face, FontMetrics>();
function metrics(face: Face): FontMetrics {
  let m = metricsCache.get(face);
  if (m === undefined) {
    m = readFontMetrics(join(fontDir(), FACES[face]));
    metricsCache.set(face, m);
  }
  return m;
}

interface TextItem {
  fontSize?: number | string | null;
  fontWeight?: number | string | null;
  fontStyle?: string | null;
}

function faceOf(item: TextItem): Face {
  const w = item.fontWeight;
  const bold = w === 'bold' || w === 'bolder' || (w != null && Number(w) >= 600);
  const slanted = item.fontStyle === 'italic' || item.fontStyle === 'oblique';
  return bold ? (slanted ? 'boldOblique' : 'bold') : slanted ? 'oblique' : 'regular';
}

/** Width in pixels of `text` set in DejaVu Sans with the item's size, weight and style. */
export function measureText(item: TextItem, text: unknown): number {
  // Mirrors vega-scenegraph's conventions: default size 11, text trimmed, null → ''.
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const str = text == null ? '' : String(text).trim();
  if (size <= 0 || str.length === 0) return 0;
  const m = metrics(faceOf(item));
  let units = 0;
  for (const ch of str) units += m.advance.get(ch.codePointAt(0)!) ?? m.missing;
  return (units / m.unitsPerEm) * size;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

let metricsInstalled = false;
/**
 * Points vega's text measurement at the DejaVu Sans metrics. Widths are of the untruncated
 * text: vega's own truncation (`limit`) calls this function on substrings, so it must not
 * truncate itself; as with vega's estimator, bounds of text longer than its `limit` are
 * therefore overestimated.
 */
function installTextMetrics(vega: Vega): void {
  if (metricsInstalled) return;
  const tm = (vega as unknown as { textMetrics?: VegaTextMetrics }).textMetrics;
  if (tm === undefined || typeof tm.width !== 'function') {
    throw new Error('vega.textMetrics not found; cannot install DejaVu Sans text metrics');
  }
  tm.width = measureText;
  metricsInstalled = true;
}

// ---------------------------------------------------------------------------------------
// Rendering.

/**
 * The spec as rendered: a deep copy (vega tags inline data rows with a `Symbol(vega_id)`
 * and transforms may write fields into them, so the caller's objects must not be handed
 * over) with every text's default font forced to DejaVu Sans.
 */
function withChartFont(spec: TopLevelSpec): TopLevelSpec {
  const copy = structuredClone(spec);
  return { ...copy, config: { ...copy.config, font: CHART_FONT } } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string (deterministic for a given spec). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await loadVega();
  installTextMetrics(vega);
  const vgSpec = compile(withChartFont(spec)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    // Clip-path/gradient ids come from process-wide counters; reset them so the same
    // spec always yields the same SVG text.
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG produced by `renderSvg` to PNG at `PNG_SCALE`×, with the bundled font. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: CHART_FONT },
  });
  const png = resvg.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Compiles and renders a Vega-Lite spec headlessly to SVG and PNG. */
export async function renderChart(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array }> {
  const svg = await renderSvg(spec);
  return { svg, png: await svgToPng(svg) };
}

/** Writes `ID.vl.json` (the spec as given), `ID.svg` and `ID.png` into `outDir`. */
export async function writeChart(outDir: string, id: string, spec: TopLevelSpec): Promise<void> {
  const { svg, png } = await renderChart(spec);
  writeFileAtomic(join(outDir, `${id}.vl.json`), JSON.stringify(spec, null, 2) + '\n');
  writeFileAtomic(join(outDir, `${id}.svg`), svg);
  writeFileAtomic(join(outDir, `${id}.png`), png);
}

// ---------------------------------------------------------------------------------------
// Spec helper: model results (solid lines) beside the paper's values (dashed, hollow points).

export interface ChartField {
  field: string;
  title: string;
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  /** Model results: one row per point. */
  data: Record<string, unknown>[];
  x: ChartField & { scale?: 'log' | 'linear' };
  y: ChartField & { scale?: 'log' | 'linear'; zero?: boolean };
  /** Series field (one line per value); reference rows use the same field. */
  color?: ChartField;
  /**
   * Reference values (same field names as `data`), drawn as dashed lines through hollow
   * points; `label` names them in the legend (default 'paper').
   */
  reference?: { data: Record<string, unknown>[]; label?: string };
  /** Label of the model series in the legend (default 'model'). */
  modelLabel?: string;
  width?: number;
  height?: number;
}

/** Builds a layered line chart: model as solid lines, reference as dashed lines + hollow points. */
export function lineChartSpec(opts: LineChartOptions): TopLevelSpec {
  const modelLabel = opts.modelLabel ?? 'model';
  const refLabel = opts.reference?.label ?? 'paper';
  const x = {
    field: opts.x.field,
    type: 'quantitative',
    title: opts.x.title,
    scale: { type: opts.x.scale ?? 'linear' },
  };
  const y = {
    field: opts.y.field,
    type: 'quantitative',
    title: opts.y.title,
    scale: opts.y.scale === 'log' ? { type: 'log' } : { type: 'linear', zero: opts.y.zero ?? true },
  };
  const color = opts.color
    ? { color: { field: opts.color.field, type: 'nominal', title: opts.color.title } }
    : {};
  const dash = (label: string) => ({
    strokeDash: {
      datum: label,
      type: 'nominal',
      title: null,
      scale: { domain: [modelLabel, refLabel], range: [[1, 0], [5, 3]] },
    },
  });
  const layers: Record<string, unknown>[] = [
    {
      data: { values: opts.data },
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { x, y, ...color, ...(opts.reference ? dash(modelLabel) : {}) },
    },
  ];
  if (opts.reference) {
    const refData = { values: opts.reference.data };
    layers.push(
      {
        data: refData,
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y, ...color, ...dash(refLabel) },
      },
      {
        data: refData,
        mark: { type: 'point', filled: false, size: 40, strokeWidth: 1.5, opacity: 1 },
        encoding: { x, y, ...color },
      },
    );
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.subtitle ? { text: opts.title, subtitle: opts.subtitle } : opts.title,
    width: opts.width ?? 480,
    height: opts.height ?? 300,
    layer: layers,
  };
  // Built from plain objects; vega-lite validates it at compile time (see tests).
  return spec as unknown as TopLevelSpec;
}

export interface FacetLineChartOptions extends Omit<LineChartOptions, 'width' | 'height'> {
  /** One panel per value of this field. */
  column: ChartField;
  width?: number;
  height?: number;
}

/**
 * Line charts side by side, one panel per `column` value: model as solid lines, reference
 * (e.g. the paper's synchronous baseline) dashed through hollow points.
 */
export function facetLineChartSpec(opts: FacetLineChartOptions): TopLevelSpec {
  const modelLabel = opts.modelLabel ?? 'model';
  const refLabel = opts.reference?.label ?? 'paper';
  const values = [
    ...opts.data.map((r) => ({ ...r, source: modelLabel })),
    ...(opts.reference?.data ?? []).map((r) => ({ ...r, source: refLabel })),
  ];
  const x = { field: opts.x.field, type: 'quantitative', title: opts.x.title, scale: { type: opts.x.scale ?? 'linear' } };
  const y = {
    field: opts.y.field,
    type: 'quantitative',
    title: opts.y.title,
    scale: opts.y.scale === 'log' ? { type: 'log' } : { type: 'linear', zero: opts.y.zero ?? true },
  };
  const color = opts.color ? { color: { field: opts.color.field, type: 'nominal', title: opts.color.title } } : {};
  const dash = { strokeDash: { field: 'source', type: 'nominal', title: null, scale: { domain: [modelLabel, refLabel], range: [[1, 0], [5, 3]] } } };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.subtitle ? { text: opts.title, subtitle: opts.subtitle } : opts.title,
    data: { values },
    facet: { column: { field: opts.column.field, type: 'ordinal', title: opts.column.title } },
    spec: {
      width: opts.width ?? 260,
      height: opts.height ?? 240,
      layer: [
        { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, ...color, ...dash, detail: { field: 'source' } } },
        { transform: [{ filter: { field: 'source', equal: refLabel } }], mark: { type: 'point', filled: false, size: 40 }, encoding: { x, y, ...color } },
      ],
    },
  };
  return spec as unknown as TopLevelSpec;
}

export interface BarChartOptions {
  title: string;
  subtitle?: string;
  data: Record<string, unknown>[];
  /** Category axis and the grouping within it. */
  x: ChartField;
  group: ChartField;
  y: ChartField;
  /** One panel per value (optional). */
  column?: ChartField;
  /** Reference values (same fields as `data`), drawn as black ticks over the bars. */
  reference?: Record<string, unknown>[];
}

/** Grouped bars (e.g. sync beside flexsc per core count), with reference ticks. */
export function barChartSpec(opts: BarChartOptions): TopLevelSpec {
  const enc = {
    x: { field: opts.x.field, type: 'nominal', title: opts.x.title },
    xOffset: { field: opts.group.field, type: 'nominal' },
    y: { field: opts.y.field, type: 'quantitative', title: opts.y.title },
  };
  const layer: Record<string, unknown>[] = [
    { data: { values: opts.data }, mark: { type: 'bar' }, encoding: { ...enc, color: { field: opts.group.field, type: 'nominal', title: opts.group.title } } },
  ];
  if (opts.reference && opts.reference.length > 0) {
    layer.push({ data: { values: opts.reference }, mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: enc });
  }
  const inner = { width: 260, height: 240, layer };
  const spec = opts.column
    ? {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: opts.subtitle ? { text: opts.title, subtitle: opts.subtitle } : opts.title,
        facet: { column: { field: opts.column.field, type: 'nominal', title: opts.column.title } },
        data: { values: [...opts.data.map((r) => ({ ...r, source: 'model' })), ...(opts.reference ?? []).map((r) => ({ ...r, source: 'paper' }))] },
        spec: {
          width: 260,
          height: 240,
          layer: layer.map((l, i) => {
            const { data: _unused, ...rest } = l;
            void _unused;
            return { ...rest, transform: [{ filter: { field: 'source', equal: i === 0 ? 'model' : 'paper' } }] };
          }),
        },
      }
    : { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: opts.subtitle ? { text: opts.title, subtitle: opts.subtitle } : opts.title, ...inner };
  return spec as unknown as TopLevelSpec;
}
