/**
 * Several tiles a dispatch (kernelTuning.gemvTiles, gemvMultiTiles, int8GemvTiles; equal rows, the last may have fewer) for the
 * one-tile scan kernels flat_gemv, flat_gemv_multi and int8_gemv: one text rewrite, told per kernel
 * which functions read the base tile and how many of its uses of the ids and lists to move. Each dispatch costs ~34 us of
 * drain on an H100 (BENCHMARKS h6-h9), so fewer dispatches a search are what it saves.
 */
import { compactWgsl } from './wgsl-compact.js';

/** What the rewrite must find in a kernel (each count exact: a kernel edited without it fails here, not on a device). */
export interface TileRewrite {
  /** The kernel's name, for errors. */
  kernel: string;
  /** Functions that read `base`, copied a tile with their own binding; none where the scan reads it itself. */
  loaders: readonly string[];
  /** `params.idBase` in main, each made the workgroup's tile's first id. */
  ids: number;
  /** `params.segAt + seg)` in main (the lists' and other per-list indices), each made the workgroup's index in the dispatch. */
  lists: number;
  /** Further rewrites of main's text: [from, to, times]. */
  swaps?: readonly (readonly [string, string, number])[];
}

/**
 * `src` (includes expanded) for `tiles` tiles a dispatch (1: the kernel as it is, byte for byte):
 * tiles 1.. at bindings 5.., each workgroup's tile (tileSel) from its id, the tiles' segments
 * following each other in workgroup order (ceil(rows / segLen) a tile of params.rows rows, then the
 * last tile's ceil(lastRows / lastSegLen): it may be smaller, with its own segment plan), so each
 * list lands where one-tile dispatches in turn put it. The scan between
 * `//@SCAN_BEGIN` and `//@SCAN_END` is repeated once a tile under one switch on tileSel (uniform in
 * the workgroup, so the scan's barriers stay in uniform control flow), each copy reading its own
 * binding through its own copies of the loaders: H100 call h7 chose the binding at every load
 * instead (a switch in the inner loop), and 2 / 3 / 4 tiles a dispatch took 22.23 / 22.40 / 23.66 ms
 * against 22.00 at one (21M x 768 f32, one query), slower by more than the dispatches saved.
 */
export function tilesSource(raw: string, tiles: number, r: TileRewrite): string {
  if (tiles <= 1) return raw;
  // The counts below are of code: a comment naming a loader or `params.idBase` (the shaders/ text
  // keeps them; the package's and the tests' text is already compact) must not count.
  const src = compactWgsl(raw);
  const count = (text: string, from: string): number => text.split(from).length - 1;
  const swap = (text: string, from: string, to: string, times: number): string => {
    const found = count(text, from);
    if (found !== times) throw new Error(`${r.kernel}: the multi-tile rewrite expected ${times} of '${from}', found ${found}`);
    return text.split(from).join(to);
  };
  const section = (text: string, from: string, to: string): [number, number] => {
    const at = text.indexOf(from);
    const stop = at < 0 ? -1 : text.indexOf(to, at);
    if (at < 0 || stop < 0 || count(text, from) !== 1) throw new Error(`${r.kernel}: the multi-tile rewrite expected one '${from}' ... '${to}'`);
    return [at, stop + to.length];
  };
  const reads = (text: string): number => (text.match(/\bbase\[/g) ?? []).length;
  const extra = Array.from({ length: tiles - 1 }, (_, i) => i + 1);
  const loaders = r.loaders.map((name) => src.slice(...section(src, `fn ${name}(`, '\n}\n')));
  const text = swap(
    src,
    '//@MULTI_FETCH',
    extra
      .flatMap((i) => [
        `@group(0) @binding(${4 + i}) var<storage, read> base${i}: array<vec4<u32>>;`,
        ...loaders.map((f) => swap(f.replace(/^fn (\w+)\(/, `fn $1${i}(`), 'base[', `base${i}[`, count(f, 'base['))),
      ])
      .join('\n'),
    1,
  );
  const main = text.indexOf('fn main(');
  let body = text.slice(main);
  body = swap(body, 'params.segAt + seg)', 'params.segAt + wid.x)', r.lists);
  body = swap(body, 'params.idBase', 'idBase', r.ids);
  for (const [from, to, times] of r.swaps ?? []) body = swap(body, from, to, times);
  // The last tile may have fewer rows (params.lastRows) in segments of its own length
  // (params.lastSegLen, its own segment plan): its segments follow the others' (tileSegs each), so
  // wid.x past them all is the last tile's, and its ids follow full tiles.
  body = swap(body, 'let start = seg * params.segLen;\n  let end = min(start + params.segLen, params.rows);', 'let start = seg * tileSegLen;\n  let end = min(start + tileSegLen, tileRows);', 1);
  body = swap(
    body,
    'let seg = wid.x;',
    [
      'let tileSegs = (params.rows + params.segLen - 1u) / params.segLen;',
      `  let tileSel = min(wid.x / tileSegs, ${tiles - 1}u);`,
      '  let seg = wid.x - tileSel * tileSegs;',
      '  let idBase = params.idBase + tileSel * params.rows;',
      `  let tileRows = select(params.rows, params.lastRows, tileSel == ${tiles - 1}u);`,
      `  let tileSegLen = select(params.segLen, params.lastSegLen, tileSel == ${tiles - 1}u);`,
    ].join('\n'),
    1,
  );
  const [at, stop] = section(body, '//@SCAN_BEGIN', '//@SCAN_END');
  const scan = body.slice(at + '//@SCAN_BEGIN'.length, stop - '//@SCAN_END'.length);
  // Every read of the tile is one a copy can redirect: in a loader, or in the scan itself.
  if (loaders.reduce((n, f) => n + reads(f), 0) + reads(scan) !== reads(src)) throw new Error(`${r.kernel}: the multi-tile rewrite expected every 'base[' in ${[...r.loaders, 'the scan'].join(' / ')}`);
  const calls = r.loaders.length ? new RegExp(`\\b(${r.loaders.join('|')})\\(`, 'g') : undefined;
  const callsIn = (text: string): number => (calls ? (text.match(calls) ?? []).length : 0);
  if (callsIn(scan) + reads(scan) === 0) throw new Error(`${r.kernel}: the multi-tile rewrite found no loads in the scan`);
  // A loader called outside the scan (the loaders' own text aside) would read tile 0 for every workgroup.
  if (callsIn(src) - loaders.reduce((n, f) => n + callsIn(f), 0) !== callsIn(scan)) throw new Error(`${r.kernel}: the multi-tile rewrite expected every call of ${r.loaders.join(' / ')} in the scan`);
  const copy = (i: number): string => {
    if (i === 0) return scan;
    const own = scan.replace(/\bbase\[/g, `base${i}[`);
    return calls ? own.replace(calls, `$1${i}(`) : own;
  };
  const cases = [...extra.map((i) => `case ${i}u: {\n${copy(i)}\n  }`), `default: {\n${copy(0)}\n  }`];
  return text.slice(0, main) + body.slice(0, at) + `switch tileSel {\n  ${cases.join('\n  ')}\n  }` + body.slice(stop);
}
