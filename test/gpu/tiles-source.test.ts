/**
 * tilesSource (src/gpu/tiles-source.ts): the text rewrite that lets a one-tile scan kernel score
 * several tiles of equal rows a dispatch (kernelTuning.gemvTiles), shared so flat_gemv_multi and
 * int8_gemv can take it too. flat_gemv's multi-tile text is byte for byte what its own rewrite made
 * before the rewrite was shared (the H100 measured that text, calls h8-h10).
 */
import { describe, expect, it } from 'vitest';
import { gemvTilesSource, wgslVariant } from '../../src/gpu/flat-shard.js';
import gemvWgsl from '../../shaders/flat_gemv.wgsl';

/** flat_gemv's rewrite as commit 130eaac wrote it (before tilesSource), the oracle for its text. */
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
  body = swap(
    body,
    'let seg = wid.x;',
    ['let tileSegs = (params.rows + params.segLen - 1u) / params.segLen;', '  let tileSel = wid.x / tileSegs;', '  let seg = wid.x % tileSegs;', '  let idBase = params.idBase + tileSel * params.rows;'].join('\n'),
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

describe('tilesSource', () => {
  it("flat_gemv's multi-tile text is the one its own rewrite made, byte for byte (f32 / packed f16 and shader-f16, 2-4 tiles)", () => {
    for (const f16 of [false, true]) {
      const src = wgslVariant(gemvWgsl, f16);
      expect(gemvTilesSource(src, 1)).toBe(src);
      for (const tiles of [2, 3, 4]) expect(gemvTilesSource(src, tiles)).toBe(legacyGemvTilesSource(src, tiles));
    }
  });

  it('a kernel without what the rewrite expects fails with its name, not on a device', () => {
    expect(() => gemvTilesSource('fn main() {}', 2)).toThrow(/^flat_gemv: the multi-tile rewrite expected one 'fn loadPass\(' \.\.\. /);
  });
});
