/**
 * Turns bench/cpu-ann/results.json into the Markdown tables of BENCHMARKS.md (printed) and the plot
 * bench/cpu-ann/recall-qps.svg (recall@10 vs QPS, log scale, one panel per d).
 *
 *   npx esbuild bench/cpu-ann/report.ts --bundle --platform=node --format=esm --outfile=out/cpu-ann/report.mjs && node out/cpu-ann/report.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchRow } from './types.js';

const file = process.argv[2] ?? 'bench/cpu-ann/results.json';
const svgFile = process.argv[3] ?? 'bench/cpu-ann/recall-qps.svg';
const doc = JSON.parse(readFileSync(file, 'utf8')) as { rows: BenchRow[]; runs?: Record<string, Record<string, unknown>> };
// HNSW rows (efSearch) first, then IVF (nprobe) and exhaustive: the order of columns and series
const rank = (r: BenchRow) => (r.param === 'efSearch' ? 0 : r.param === 'nprobe' ? 1 : 2);
const rows = [...doc.rows].sort((a, b) => rank(a) - rank(b));
const ds = [...new Set(rows.map((r) => r.d))].sort((a, b) => a - b);
const series = (d: number) => {
  const m = new Map<string, BenchRow[]>();
  for (const r of rows.filter((x) => x.d === d)) {
    const key = `${r.library} · ${r.index}${r.note === 'parallel build' ? ' (parallel build)' : ''} · ${r.threads}T`;
    m.set(key, [...(m.get(key) ?? []), r]);
  }
  for (const v of m.values()) v.sort((a, b) => a.value - b.value);
  return m;
};

const f0 = (x: number | undefined) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const out: string[] = [];
/**
 * QPS at recall exactly `floor`, read off a series' curve: log-QPS interpolated linearly in recall
 * between the two settings around it (the first setting at or above `floor` when none is below).
 * `pick` chooses wall-clock or CPU-time QPS.
 */
function qpsAt(list: BenchRow[], floor: number, pick: (r: BenchRow) => number | undefined): number | undefined {
  const sorted = [...list].sort((a, b) => a.recall - b.recall);
  const hi = sorted.findIndex((r) => r.recall >= floor);
  if (hi < 0) return undefined;
  const h = sorted[hi]!;
  const l = sorted[hi - 1];
  const qh = pick(h);
  if (qh === undefined) return undefined;
  const ql = l ? pick(l) : undefined;
  if (!l || ql === undefined || h.recall === l.recall) return qh;
  const t = (floor - l.recall) / (h.recall - l.recall);
  return Math.exp(Math.log(ql) + t * (Math.log(qh) - Math.log(ql)));
}

for (const d of ds) {
  const s = series(d);
  const any = rows.find((r) => r.d === d)!;
  out.push(`\n#### d = ${d}, N = ${any.n.toLocaleString('en')}\n`);
  out.push('| library · index · search threads | build s (threads) | build CPU s | memory MB | ' + [...new Set(rows.filter((r) => r.d === d).map((r) => `${r.param} ${r.value}`))].join(' | ') + ' |');
  const cols = [...new Set(rows.filter((r) => r.d === d).map((r) => `${r.param} ${r.value}`))];
  out.push(`|---|---|---|---|${cols.map(() => '---').join('|')}|`);
  for (const [key, list] of s) {
    const b = list[0]!;
    const cells = cols.map((c) => {
      const r = list.find((x) => `${x.param} ${x.value}` === c);
      return r ? `${r.recall.toFixed(3)} @ ${f0(r.qps)}${r.qpsCpu ? ` (${f0(r.qpsCpu)})` : ''}` : '';
    });
    out.push(`| ${key} | ${b.buildS?.toFixed(1) ?? ''} (${b.buildThreads ?? ''}) | ${b.buildCpuS?.toFixed(1) ?? ''} | ${f0(b.memoryMB)} | ${cells.join(' | ')} |`);
  }
  // Targets: single thread, QPS at recall@10 = 0.95 (interpolated), CPU time and wall clock
  // prefer the interleaved run (tessera and hnswlib-node side by side in one process) where there is one
  const one = (lib: string) => {
    const c = [...s].filter(([k]) => k.startsWith(lib) && k.endsWith(' 1T') && !k.includes('parallel'));
    return (c.find(([k]) => k.includes('interleaved')) ?? c[0])?.[1] ?? [];
  };
  const tl = one('tessera');
  const tc = qpsAt(tl, 0.95, (r) => r.qpsCpu);
  const tw = qpsAt(tl, 0.95, (r) => r.qps);
  if (tl.length && tc && tw) out.push('');
  for (const other of ['hnswlib-node', 'hnswlib-wasm', 'usearch', 'faiss']) {
    const ol = one(other);
    const oc = qpsAt(ol, 0.95, (r) => r.qpsCpu);
    const ow = qpsAt(ol, 0.95, (r) => r.qps);
    if (!tc || !tw || !oc || !ow) continue;
    const t = tl[0]!;
    const o = ol[0]!;
    out.push(
      `- vs ${other}, 1 thread, QPS at recall@10 = 0.95: tessera ${f0(tc)} vs ${f0(oc)} by CPU time = **${(tc / oc).toFixed(2)}x** ` +
        `(wall clock ${f0(tw)} vs ${f0(ow)} = ${(tw / ow).toFixed(2)}x); build CPU ${t.buildCpuS?.toFixed(1)} s vs ${o.buildCpuS?.toFixed(1)} s = ${((t.buildCpuS ?? 0) / (o.buildCpuS ?? 1)).toFixed(2)}x ` +
        `(wall ${t.buildS?.toFixed(1)} s vs ${o.buildS?.toFixed(1)} s)`,
    );
  }
}
console.log(out.join('\n'));

// ---- SVG: recall (x) vs QPS (y, log), one panel per d ----
const W = 460;
const H = 340;
const pad = { l: 56, r: 12, t: 28, b: 44 };
const colours = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const libColour = new Map<string, string>();
const colourOf = (lib: string) => {
  if (!libColour.has(lib)) libColour.set(lib, colours[libColour.size % colours.length]!);
  return libColour.get(lib)!;
};
function plot(file: string, metric: 'wall' | 'cpu'): void {
const q = (r: BenchRow) => (metric === 'cpu' ? r.qpsCpu ?? 0 : r.qps);
const panels: string[] = [];
ds.forEach((d, pi) => {
  const s = new Map([...series(d)].filter(([, v]) => metric === 'wall' || v[0]!.qpsCpu !== undefined));
  const all = [...s.values()].flat();
  const xmin = Math.max(0.5, Math.floor(Math.min(...all.map((r) => r.recall)) * 20) / 20);
  const xmax = 1;
  const ymin = 10 ** Math.floor(Math.log10(Math.min(...all.map(q))));
  const ymax = 10 ** Math.ceil(Math.log10(Math.max(...all.map(q))));
  const X = (x: number) => pad.l + ((x - xmin) / (xmax - xmin)) * (W - pad.l - pad.r);
  const Y = (y: number) => H - pad.b - ((Math.log10(y) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin))) * (H - pad.t - pad.b);
  const g: string[] = [`<g transform="translate(${pi * W},0)">`, `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">d = ${d}, N = ${all[0]!.n.toLocaleString('en')}, k = 10</text>`];
  for (let e = Math.log10(ymin); e <= Math.log10(ymax); e++) {
    g.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${pad.l - 4}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1000 ? `${10 ** (e - 3)}k` : 10 ** e}</text>`);
  }
  for (let x = xmin; x <= xmax + 1e-9; x += 0.05) {
    g.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#eee"/><text x="${X(x)}" y="${H - pad.b + 14}" text-anchor="middle">${x.toFixed(2)}</text>`);
  }
  g.push(`<text x="${(pad.l + W - pad.r) / 2}" y="${H - 8}" text-anchor="middle">recall@10</text>`);
  g.push(`<text transform="translate(14,${(pad.t + H - pad.b) / 2}) rotate(-90)" text-anchor="middle">queries / s (${metric === 'cpu' ? 'per CPU second, 1 thread' : 'wall clock'})</text>`);
  for (const [key, list] of s) {
    // HNSW series are coloured by library; other index types (the IVF rows) get their own colour
    const lib = list[0]!.index.startsWith('HNSW') ? list[0]!.library : `${list[0]!.library} ${list[0]!.index}`;
    const dash = list[0]!.threads > 1 ? ' stroke-dasharray="5,3"' : '';
    const pts = list.filter((r) => r.recall >= xmin).map((r) => `${X(r.recall).toFixed(1)},${Y(q(r)).toFixed(1)}`);
    if (pts.length === 0) continue;
    g.push(`<polyline fill="none" stroke="${colourOf(lib)}" stroke-width="1.8"${dash} points="${pts.join(' ')}"><title>${key}</title></polyline>`);
    for (const p of pts) g.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.2" fill="${colourOf(lib)}"/>`);
  }
  g.push('</g>');
  panels.push(g.join('\n'));
});
const legend = [...libColour].map(([lib, c], i) => `<g transform="translate(${16 + (i % 3) * 300},${H + 8 + Math.floor(i / 3) * 18})"><line x1="0" x2="22" y1="-4" y2="-4" stroke="${c}" stroke-width="2"/><text x="28" y="0">${lib}</text></g>`);
legend.push(`<text x="16" y="${H + 8 + Math.ceil(libColour.size / 3) * 18}">${metric === 'cpu' ? 'single-threaded searches, queries per second of CPU time (steadier than wall clock on the shared machine)' : 'solid: 1 thread; dashed: all threads (2); wall clock on a shared, loaded machine'}</text>`);
const height = H + 16 + Math.ceil(libColour.size / 3) * 18 + 8;
writeFileSync(
  file,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W * ds.length}" height="${height}" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n${legend.join('\n')}\n</svg>\n`,
);
}
plot(svgFile, 'wall');
plot(svgFile.replace(/\.svg$/, '-cpu.svg'), 'cpu');
