/**
 * CSV output with a fixed number format, so the same inputs give byte-identical files:
 * numbers are printed with each column's stated precision (no exponent, no locale), rows
 * stay in the order given (the grid order), and nothing host- or time-dependent is written.
 */
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './files.js';

export type Cell = string | number | boolean;
export type Row = Record<string, Cell>;

export function formatNumber(value: number, decimals: number, column: string): string {
  if (!Number.isFinite(value)) throw new Error(`column ${column}: value ${value} is not a finite number`);
  const s = value.toFixed(decimals);
  // Avoid "-0.00": negative zero after rounding prints as zero.
  return Number(s) === 0 ? (0).toFixed(decimals) : s;
}

export function toCsv(columns: readonly string[], rows: readonly Row[], precision: Readonly<Record<string, number>>): string {
  const records = rows.map((row) =>
    columns.map((col) => {
      if (!(col in row)) throw new Error(`row is missing column ${col}`);
      const v = row[col];
      if (typeof v === 'number') return formatNumber(v, precision[col] ?? 0, col);
      return String(v);
    }),
  );
  return stringify([columns as string[], ...records], { record_delimiter: '\n' });
}

export function writeCsv(path: string, columns: readonly string[], rows: readonly Row[], precision: Readonly<Record<string, number>>): void {
  writeFileAtomic(path, toCsv(columns, rows, precision));
}
