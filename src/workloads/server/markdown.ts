/**
 * The generated tables of MIXES.md: per server, the script, the per-syscall match with the
 * recording, the threads and the recording's waits. `scripts/extract-mixes.ts` writes
 * them between `<!-- generated:ID:begin -->` and `<!-- generated:ID:end -->` markers and
 * `test/mixes.test.ts` checks they are current; the prose around them is hand-written.
 */
import { SERVER_IDS, type Mixes, type ServerId, type ServerMix } from './mixes.js';

function cell(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v).replace(/\|/g, '\\|');
}

function table(head: readonly string[], align: readonly ('l' | 'r')[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>): string {
  const out = [`| ${head.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.map(cell).join(' | ')} |`);
  return out.join('\n');
}

const f4 = (x: number) => x.toFixed(4);
const f1 = (x: number | null) => (x === null ? '' : x.toFixed(1));
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function scriptTable(m: ServerMix): string {
  const rows = m.script.steps.map((s, k) => [
    k + 1,
    s.role,
    s.typical ? `**${s.name}**` : s.name,
    s.fd,
    s.detail,
    s.errno,
    f4(s.perRequest),
    s.waitFor === null ? '' : `${s.waitFor} (${pct(s.blockedShare)} blocked)`,
    s.bytes,
    f1(s.medianUs),
    f1(s.medianGapUs),
  ]);
  return table(
    ['#', 'role', 'syscall', 'fd', 'detail', 'errno', 'per request', 'waits for', 'bytes', 'median µs', 'median gap µs'],
    ['r', 'l', 'l', 'l', 'l', 'l', 'r', 'l', 'r', 'r', 'r'],
    rows,
  );
}

function matchTable(m: ServerMix): string {
  const rows = Object.entries(m.match.perSyscall).map(([name, r]) => [
    name,
    f4(r.recording),
    f4(r.script),
    r.background === 0 ? '' : f4(r.background),
    r.unattributed === 0 ? '' : f4(r.unattributed),
    r.difference === 0 ? '0' : f4(r.difference),
    r.ok ? 'ok' : '**out**',
  ]);
  const t = m.match.total;
  rows.push(['**all**', f4(t.recording), f4(t.script), f4(t.background), f4(t.unattributed), f4(t.difference), t.ok ? 'ok' : '**out**']);
  return table(
    ['syscall', 'recording / request', 'script / request', 'of which background', 'unattributed / request', 'script − recording', 'within tolerance'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
  );
}

function threadTable(m: ServerMix): string {
  const rows = m.threads.map((t) => {
    const top = Object.entries(t.syscalls)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 4)
      .map(([n, c]) => `${n} ${c}`)
      .join(', ');
    return [t.tid, t.role, t.calls, t.requests, t.callsPerRequest === null ? '' : t.callsPerRequest.toFixed(2), t.outside, top];
  });
  return table(['tid', 'role', 'calls', 'requests', 'calls / request', 'outside', 'most frequent calls'], ['r', 'l', 'r', 'r', 'r', 'r', 'l'], rows);
}

function recordingTable(m: ServerMix): string {
  const rows = Object.entries(m.recording.syscalls)
    .sort((a, b) => b[1].calls - a[1].calls || (a[0] < b[0] ? -1 : 1))
    .map(([name, t]) => [
      name,
      t.calls,
      f4(t.perRequest),
      pct(t.share),
      f1(t.meanUs),
      f1(t.medianUs),
      t.errorShare === 0 ? '' : `${pct(t.errorShare)} (${Object.entries(t.errnos).map(([e, c]) => `${e} ${c}`).join(', ')})`,
      t.waits === 0 ? '' : `${t.waits} (${t.blocked} blocked, ${t.probes} probes: ${Object.entries(t.waitFor).map(([k, c]) => `${k} ${c}`).join(', ')})`,
      t.work,
    ]);
  return table(
    ['syscall', 'calls', 'per request', 'share', 'mean µs', 'median µs', 'errors', 'waits', 'work'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'r'],
    rows,
  );
}

/** The generated part of MIXES.md for one server. */
export function renderServer(id: ServerId, m: ServerMix): string {
  const roles = Object.entries(m.script.roles)
    .map(([r, v]) => `${r}: ${v.cycles} cycles, ${v.requests} requests, ${pct(v.typicalShare)} in the typical order`)
    .join('; ');
  return [
    `*${m.description}.* Source: \`${m.source.trace}\`; ${m.source.requestsLine} (\`${m.source.loadGenerator}\`)` +
      (m.source.queries === null ? '' : `, ${m.source.queries} queries = ${m.source.queriesPerRequest} per transaction`) +
      `. Recording: ${m.recording.calls} calls in ${m.recording.threads} threads over ${(m.recording.spanUs / 1e6).toFixed(2)} s, ` +
      `${m.recording.callsPerRequest} per ${m.source.unit}. Script: ${m.script.requests} ${m.source.unit}s seen (${roles}); ` +
      `background from ${m.script.background.calls} calls of threads ${m.script.background.threads.join(', ')}.`,
    '',
    `**Script** (one ${m.source.unit}; bold: the typical steps)`,
    '',
    scriptTable(m),
    '',
    '**Match** (calls per request, by syscall name)',
    '',
    matchTable(m),
    '',
    '**Threads**',
    '',
    threadTable(m),
    '',
    '**Recording** (all threads; waits = blocked calls + EAGAIN probes, work = the rest)',
    '',
    recordingTable(m),
  ].join('\n');
}

export function beginMarker(id: ServerId): string {
  return `<!-- generated:${id}:begin -->`;
}
export function endMarker(id: ServerId): string {
  return `<!-- generated:${id}:end -->`;
}

/** The generated block of `id` in a MIXES.md text (between its markers), or undefined. */
export function generatedBlock(text: string, id: ServerId): string | undefined {
  const b = text.indexOf(beginMarker(id));
  const e = text.indexOf(endMarker(id));
  if (b < 0 || e < b) return undefined;
  return text.slice(b + beginMarker(id).length, e).trim();
}

/** MIXES.md with every server's generated block replaced; throws if a marker pair is missing. */
export function updateMarkdown(text: string, mixes: Mixes): string {
  let out = text;
  for (const id of SERVER_IDS) {
    const b = out.indexOf(beginMarker(id));
    const e = out.indexOf(endMarker(id));
    if (b < 0 || e < b) throw new Error(`MIXES.md: no ${beginMarker(id)} … ${endMarker(id)} block`);
    out = `${out.slice(0, b + beginMarker(id).length)}\n${renderServer(id, mixes.servers[id])}\n${out.slice(e)}`;
  }
  return out;
}
