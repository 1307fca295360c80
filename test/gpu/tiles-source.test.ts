/**
 * tilesSource (src/gpu/tiles-source.ts): the one text rewrite that lets flat_gemv, flat_gemv_multi
 * and int8_gemv score several tiles of equal rows a dispatch (kernelTuning.gemvTiles). flat_gemv's
 * multi-tile text is byte for byte what its own rewrite made before the rewrite was shared (the
 * H100 measured that text, calls h8-h10); the other two kernels get their bindings, per-tile copies
 * of the scan under one switch, and lists, ids and shared-bound buckets by the workgroup's list.
 * The kernels run on a GPU in gemv-tiles-multi.test.ts and gemv-tiles-int8.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compactWgsl } from '../../scripts/wgsl-text.js';
import { gemvTilesSource, wgslVariant } from '../../src/gpu/flat-shard.js';
import { GEMV_MULTI_TILES } from '../../src/gpu/gemv-multi.js';
import { INT8_GEMV_TILES } from '../../src/gpu/int8-gemv.js';
import { tilesSource } from '../../src/gpu/tiles-source.js';
import { expandWgslIncludes } from '../../src/gpu/wgsl-include.js';
import gemvWgsl from '../../shaders/flat_gemv.wgsl';
import multiWgsl from '../../shaders/flat_gemv_multi.wgsl';
import int8Wgsl from '../../shaders/int8_gemv.wgsl';

/**
 * flat_gemv's rewrite as commit 130eaac wrote it (before tilesSource), the oracle for its text, with
 * the one change since: the last tile of a group may have fewer rows (params.lastRows, lastSegLen),
 * so the tile and segment come from min / subtraction and the segment's bounds from the tile's own
 * rows and segment length. The scan's copies are 130eaac's, byte for byte.
 */
function legacyGemvTilesSource(src: string, tiles: number): string {
  if (tiles <= 1) return src;
  // Each rewrite must find exactly what it expects: a kernel edited without them fails here, not on a device.
  const count = (text: string, from: string): number => text.split(from).length - 1;
  const swap = (text: string, from: string, to: string, times: number): string => {
    const found = count(text, from);
    if (found !== times) throw new Error(`flat_gemv: the multi-tile rewrite expected ${times} of '${from}', found ${found}`);
    return text.split(from).join(to);
  };
  const section = (text: string, from: string, to: string): [number, number] => {
    const at = text.indexOf(from);
    const stop = at < 0 ? -1 : text.indexOf(to, at);
    if (at < 0 || stop < 0 || count(text, from) !== 1) throw new Error(`flat_gemv: the multi-tile rewrite expected one '${from}' ... '${to}'`);
    return [at, stop + to.length];
  };
  const extra = Array.from({ length: tiles - 1 }, (_, i) => i + 1);
  // The base loads: loadPass and loadWord, the only functions that read `base`.
  const loaders = ['fn loadPass(', 'fn loadWord('].map((head) => src.slice(...section(src, head, '\n}\n')));
  if (loaders.reduce((n, f) => n + count(f, 'base['), 0) !== count(src, 'base[')) throw new Error("flat_gemv: the multi-tile rewrite expected every 'base[' in loadPass / loadWord");
  const fetch = extra.flatMap((i) => [
    `@group(0) @binding(${4 + i}) var<storage, read> base${i}: array<vec4<u32>>;`,
    ...loaders.map((f) => swap(f.replace(/^fn (\w+)\(/, `fn $1${i}(`), 'base[', `base${i}[`, count(f, 'base['))),
  ]);
  const text = swap(src, '//@MULTI_FETCH', fetch.join('\n'), 1);
  const main = text.indexOf('fn main(');
  let body = text.slice(main);
  // The lists stay at segAt + the workgroup's index, where one-tile dispatches in turn put them.
  body = swap(body, 'params.segAt + seg)', 'params.segAt + wid.x)', 1);
  body = swap(body, 'params.idBase', 'idBase', 4);
  body = swap(body, 'let start = seg * params.segLen;\n  let end = min(start + params.segLen, params.rows);', 'let start = seg * tileSegLen;\n  let end = min(start + tileSegLen, tileRows);', 1);
  const last = `${tiles - 1}u`;
  body = swap(
    body,
    'let seg = wid.x;',
    [
      'let tileSegs = (params.rows + params.segLen - 1u) / params.segLen;',
      `  let tileSel = min(wid.x / tileSegs, ${last});`,
      '  let seg = wid.x - tileSel * tileSegs;',
      '  let idBase = params.idBase + tileSel * params.rows;',
      `  let tileRows = select(params.rows, params.lastRows, tileSel == ${last});`,
      `  let tileSegLen = select(params.segLen, params.lastSegLen, tileSel == ${last});`,
    ].join('\n'),
    1,
  );
  const [at, stop] = section(body, '//@SCAN_BEGIN', '//@SCAN_END');
  const scan = body.slice(at + '//@SCAN_BEGIN'.length, stop - '//@SCAN_END'.length);
  const calls = count(scan, 'loadPass(') + count(scan, 'loadWord(');
  if (calls === 0) throw new Error('flat_gemv: the multi-tile rewrite found no loads in the scan');
  // tileSel is uniform in the workgroup, so the switch is taken once, outside the loops.
  const copy = (i: number): string => (i === 0 ? scan : scan.replace(/\b(loadPass|loadWord)\(/g, `$1${i}(`));
  const cases = [...extra.map((i) => `case ${i}u: {\n${copy(i)}\n  }`), `default: {\n${copy(0)}\n  }`];
  return text.slice(0, main) + body.slice(0, at) + `switch tileSel {\n  ${cases.join('\n  ')}\n  }` + body.slice(stop);
}

/** The text of case `t` of the tile switch (the default: t = 0). */
const caseOf = (text: string, t: number, tiles: number): string =>
  text.slice(text.indexOf(t === 0 ? 'default: {' : `case ${t}u: {`), t === 0 ? undefined : text.indexOf(t === tiles - 1 ? 'default: {' : `case ${t + 1}u: {`));
const all = (text: string, re: RegExp): number => (text.match(re) ?? []).length;

describe('tilesSource', () => {
  it("flat_gemv's multi-tile text is the one its own rewrite made, byte for byte (f32 / packed f16 and shader-f16, 2-4 tiles)", () => {
    for (const f16 of [false, true]) {
      const src = wgslVariant(gemvWgsl, f16);
      expect(gemvTilesSource(src, 1)).toBe(src);
      for (const tiles of [2, 3, 4]) expect(gemvTilesSource(src, tiles)).toBe(legacyGemvTilesSource(src, tiles));
    }
  });

  it('flat_gemv_multi: one tile is the kernel as it is; more bind tiles 1.. at 5.., each copy of the scan reads its own through its own word()', () => {
    for (const f16 of [false, true]) {
      const src = wgslVariant(multiWgsl, f16);
      expect(tilesSource(src, 1, GEMV_MULTI_TILES)).toBe(src);
      const three = tilesSource(src, 3, GEMV_MULTI_TILES);
      for (const b of [5, 6]) expect(three).toContain(`@group(0) @binding(${b}) var<storage, read> base${b - 4}: array<vec4<u32>>;`);
      expect(three).not.toContain('@binding(7)');
      expect(three).not.toMatch(/\/\/@(MULTI|SCAN)_/);
      // The tile is chosen once, outside the scan's loops (h7: a choice at every load was slower).
      expect(all(three, /switch tileSel/g)).toBe(1);
      expect(three).toMatch(/let tileSel = min\(wid\.x \/ tileSegs, 2u\);\s+let seg = wid\.x - tileSel \* tileSegs;\s+let idBase = params\.idBase \+ tileSel \* params\.rows;/);
      // The last tile (2) may be smaller: its segments span its own rows at its own length.
      expect(three).toContain('let tileRows = select(params.rows, params.lastRows, tileSel == 2u);');
      expect(three).toContain('let start = seg * tileSegLen;\n  let end = min(start + tileSegLen, tileRows);');
      for (const t of [0, 1, 2]) {
        const scan = caseOf(three, t, 3);
        const own = t === 0 ? 'word' : `word${t}`;
        expect(three).toContain(`fn ${own}(r: u32, w: u32, end: u32)`);
        // Each copy: the whole scan (its row loop, checks and sorts), loading through its own word() only.
        expect(all(scan, new RegExp(`\\b${own}\\(`, 'g'))).toBe(all(src, /\bword\(/g) - 1);
        expect(all(scan, /\bword\d*\(/g)).toBe(all(scan, new RegExp(`\\b${own}\\(`, 'g')));
        expect(scan).toContain('flush(li, nq, n2, k);');
        expect(scan).toContain('let id = idBase + row;');
      }
      for (const t of [1, 2]) expect(all(three, new RegExp(`\\bbase${t}\\[`, 'g'))).toBe(1);
      expect(all(three, /\bbase\[/g)).toBe(1);
      // Lists where one-tile dispatches put them: at segAt + the workgroup's index in the dispatch.
      expect(three).toContain('out[((q0 + q) * params.nseg + params.segAt + wid.x) * k + i]');
      expect(three).not.toMatch(/params\.idBase \+ row/);
    }
  });

  it("int8_gemv: the scan reads the tile itself, so each copy reads its own binding; buckets, the bound-read stagger and the lists by the workgroup's list", () => {
    const src = expandWgslIncludes(int8Wgsl);
    expect(tilesSource(src, 1, INT8_GEMV_TILES)).toBe(src);
    const two = tilesSource(src, 2, INT8_GEMV_TILES);
    expect(two).toContain('@group(0) @binding(5) var<storage, read> base1: array<vec4<u32>>;');
    expect(two).not.toContain('@binding(6)');
    expect(all(two, /switch tileSel/g)).toBe(1);
    expect(caseOf(two, 1, 2)).toContain('v = base1[row * rw + w];');
    expect(caseOf(two, 1, 2)).not.toMatch(/\bbase\[/);
    expect(caseOf(two, 0, 2)).toContain('v = base[row * rw + w];');
    // A segment publishes into the bucket of its list's index, as a one-tile dispatch would: the
    // buckets stay one segment each, whatever tile it is in.
    // (One a copy of the scan, one after it.)
    expect(all(two, /publish\(li, wid\.x, q0, /g)).toBe(3);
    expect(two).not.toMatch(/publish\(li, seg, /);
    expect(two).toContain('((it + 1u) / CI + params.segAt + wid.x) % SHS');
    expect(two).toContain('let at = 2u * (((q0 + q) * params.nseg + params.segAt + wid.x) * k + i);');
    expect(all(two, /let id = idBase \+ row;/g)).toBe(2);
  });

  it("the shaders' own text, comments and all (a bundle made with esbuild's plain text loader, as the device benchmarks are), rewrites to the same code as the package's text", () => {
    // A comment naming a loader ("(loadPass(r0, w0, ...))") made the 4-tile flat_gemv throw in such a bundle on the H100 (session 25, call h12).
    const raw = (name: string) => readFileSync(new URL(`../../shaders/${name}.wgsl`, import.meta.url), 'utf8');
    expect(raw('flat_gemv')).toContain('(loadPass(');
    for (const f16 of [false, true]) {
      expect(compactWgsl(gemvTilesSource(wgslVariant(raw('flat_gemv'), f16), 4))).toBe(compactWgsl(gemvTilesSource(wgslVariant(gemvWgsl, f16), 4)));
      expect(compactWgsl(tilesSource(wgslVariant(raw('flat_gemv_multi'), f16), 3, GEMV_MULTI_TILES))).toBe(compactWgsl(tilesSource(wgslVariant(multiWgsl, f16), 3, GEMV_MULTI_TILES)));
    }
    expect(compactWgsl(tilesSource(expandWgslIncludes(raw('int8_gemv')), 2, INT8_GEMV_TILES))).toBe(compactWgsl(tilesSource(expandWgslIncludes(int8Wgsl), 2, INT8_GEMV_TILES)));
  });

  it('a kernel without what the rewrite expects fails with its name, not on a device', () => {
    expect(() => gemvTilesSource('fn main() {}', 2)).toThrow(/^flat_gemv: the multi-tile rewrite expected one 'fn loadPass\(' \.\.\. /);
    const multi = wgslVariant(multiWgsl, false);
    expect(() => tilesSource(multi.replace('//@SCAN_END', ''), 2, GEMV_MULTI_TILES)).toThrow(/^flat_gemv_multi: the multi-tile rewrite expected one '\/\/@SCAN_BEGIN' \.\.\. '\/\/@SCAN_END'/);
    expect(() => tilesSource(multi.replace('//@MULTI_FETCH', ''), 2, GEMV_MULTI_TILES)).toThrow(/^flat_gemv_multi: the multi-tile rewrite expected 1 of '\/\/@MULTI_FETCH', found 0/);
    // A loader called outside the scan would likewise read tile 0 in every copy.
    const gemv = wgslVariant(gemvWgsl, false);
    expect(() => gemvTilesSource(gemv.replace('//@SCAN_BEGIN', 'let stray = loadWord(0u, 0u, 1u);\n  //@SCAN_BEGIN'), 2)).toThrow(/^flat_gemv: the multi-tile rewrite expected every call of loadPass \/ loadWord in the scan/);
    const int8 = expandWgslIncludes(int8Wgsl);
    // A read of the tile outside the scan would go on reading tile 0 in every copy.
    expect(() => tilesSource(int8.replace('fn dot16(', 'fn stray() -> vec4<u32> { return base[0]; }\nfn dot16('), 2, INT8_GEMV_TILES)).toThrow(/^int8_gemv: the multi-tile rewrite expected every 'base\[' in the scan/);
    expect(() => tilesSource(int8, 2, { ...INT8_GEMV_TILES, ids: 2 })).toThrow(/^int8_gemv: the multi-tile rewrite expected 2 of 'params\.idBase', found 1/);
  });
});
