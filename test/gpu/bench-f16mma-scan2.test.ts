/**
 * bench/gpu-f16mma/scan2-kernel.mjs, the f16 subgroup-matrix scan prototype's kernels (H100 calls
 * h75-h82): their structure without a device, and, on the software adapter (no subgroup matrices),
 * their results with the matrix calls emulated in scalar WGSL, against float64 sums of the same halves.
 * Outputs are poisoned first, so a kernel that writes nothing fails.
 */
import { describe, expect, it } from 'vitest';
import { bestsPerLane, D, kernel, parseVariant, queryOfBest, type Scan2Variant, selectKernel, workgroupBytes } from '../../bench/gpu-f16mma/scan2-kernel.mjs';
import { f16BitsToF32, f32ToF16Bits } from '../../bench/gpu-f16mma/common.mjs';
import { BufferUsage } from '../../src/gpu/device.js';
import { dispatchOnce } from '../helpers/dispatch-once.js';
import { emulateRowScan } from '../helpers/emulate-matrices.js';
import { gpuForTests } from '../helpers/gpu.js';

/** Query q's values among a stand-in's bests (slots x bestsPerLane of them, slot = warp x 32 + lane). */
function bestsOf(values: Float32Array, sel: string, BQ: number, slots: number, q: number): number[] {
  const NB = bestsPerLane(sel, BQ);
  const mine: number[] = [];
  for (let slot = 0; slot < slots; slot++) for (let b = 0; b < NB; b++) if (queryOfBest(sel, BQ, slot % 32, b) === q) mine.push(values[slot * NB + b]!);
  return mine;
}

const barriers = (src: string) => src.split('workgroupBarrier()').length - 1;
const loopBody = (src: string) => src.slice(src.indexOf('for (var it = 0u;'));

describe('scan2 kernels: structure', () => {
  it('parses variants, defaulting to all the dims staged and one threshold for the tile', () => {
    expect(parseVariant('reg:8:1:s:8:264')).toEqual({ mode: 'reg', W: 8, RT: 1, QS: 's', CH: 8, nWg: 264, sel: '1', KC: D });
    expect(parseVariant('reg:8:1:s:4:264:T:128')).toMatchObject({ sel: 'T', KC: 128 });
  });

  it('sel T takes one barrier a query tile (alternating halves of the scores); the lists three; the stand-in two', () => {
    const t16 = loopBody(kernel(parseVariant('reg:8:1:s:8:264:T'), 16));
    expect(barriers(t16)).toBe(1);
    expect(t16).toContain('((it + 0u) % 2u) * 2048u');
    // 64 queries, 4 query tiles: the halves alternate by tile (even count), plus the query chunks' staging (2 barriers each of 6).
    const t64 = loopBody(kernel(parseVariant('reg:8:1:s:4:264:T:128'), 64));
    expect(barriers(t64)).toBe(4 + 2 * 6);
    expect(t64).toMatch(/let pb = 0u;[\s\S]*let pb = 2048u;/);
    expect(barriers(loopBody(kernel(parseVariant('reg:8:1:s:8:264:L'), 16)))).toBe(3);
    expect(barriers(loopBody(kernel(parseVariant('reg:8:1:s:8:264:R'), 16)))).toBe(3);
    expect(barriers(loopBody(kernel(parseVariant('reg:8:1:s:8:264'), 16)))).toBe(2);
  });

  it('loads each row fragment CH steps ahead from storage and each query fragment from workgroup memory', () => {
    const src = kernel(parseVariant('reg:8:1:s:8:264'), 16);
    expect(src.match(/subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>\(&base/g)).toHaveLength(48 + 8);
    expect(src.match(/subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>\(&wq/g)).toHaveLength(48);
    expect(src.match(/subgroupMatrixMultiplyAccumulate/g)).toHaveLength(48);
    // Offsets from subgroup_id: subgroup-uniform, as the matrix calls require.
    expect(src).toContain('let warp = sid;');
  });

  it('counts the workgroup memory each kernel declares (scan2 skips what the adapter cannot hold)', () => {
    // Scores 8 warps x 16 rows x 16 queries (f32) + the queries (16 x 776 halves).
    expect(workgroupBytes(parseVariant('reg:8:1:s:8:264'), 16)).toBe(8 * 16 * 16 * 4 + 16 * 776 * 2);
    // sel T: two halves of scores, 64 queries x 136 halves staged, 64 thresholds.
    expect(workgroupBytes(parseVariant('reg:8:1:s:4:264:T:128'), 64)).toBe(2 * 8 * 16 * 16 * 4 + 64 * 136 * 2 + 64 * 4);
    // sel L at k' 40, 16 candidates: + thresholds, 16 counters, candidates, lists.
    expect(workgroupBytes(parseVariant('reg:8:1:s:8:264:L'), 16, 40, 16)).toBe(8 * 16 * 16 * 4 + 16 * 776 * 2 + 16 * 4 + 64 + 16 * 16 * 8 + 16 * 40 * 8);
    for (const [v, bq] of [['reg:8:1:s:8:264', 16], ['reg:8:1:s:4:264:T:128', 64], ['reg:8:1:s:8:264:L', 16]] as const) {
      const src = kernel(parseVariant(v), bq);
      const declared = [...src.matchAll(/var<workgroup> \w+: array<(f16|f32|u32|atomic<u32>|vec2<u32>), (\d+)>/g)].reduce((n, m) => n + Number(m[2]) * (m[1] === 'f16' ? 2 : m[1] === 'vec2<u32>' ? 8 : 4), 0);
      expect(workgroupBytes(parseVariant(v), bq), v).toBe(declared);
    }
  });

  it('refuses shapes it cannot build, naming why', () => {
    expect(() => kernel(parseVariant('reg:8:1:s:5:264'), 16)).toThrow(/even number of chunks/);
    expect(() => kernel(parseVariant('reg:8:1:s:8:264:q:64'), 16)).toThrow(/whole row chunks/);
    expect(() => kernel(parseVariant('reg:8:1:s:8:264:R'), 48)).toThrow(/dividing 32/);
  });
});

const hasGpu = await gpuForTests('the f16 scan prototype, emulated');

describe.skipIf(!hasGpu)('scan2 kernels: emulated on the software adapter against float64', () => {
  // 2 warps a workgroup, 2 workgroups, 3 tiles of 16 rows a warp: 192 rows, and a tile more for the reads ahead.
  const W = 2;
  const nWg = 2;
  const tiles = 3;
  const segLen = tiles * 16;
  const nRows = nWg * W * segLen;
  // Twice the rows a dispatch reads back to back, and a tile more for the reads ahead: room for spread segments.
  const allocRows = 2 * nRows + 32;

  async function run(variant: string, nq: number, opts: { kp?: number; cand?: number; cap?: number; thresholds?: Float32Array; segStride?: number; rows?: number; idBase?: number } = {}) {
    const spec: Scan2Variant = parseVariant(variant);
    const BQ = Math.ceil(nq / 16) * 16;
    // Rows and queries: clustered around a few centres (more ties and close scores than uniform noise), as halves.
    let seed = 7 + nq + variant.length;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
    const centres = Array.from({ length: 4 }, () => Float64Array.from({ length: D }, rnd));
    const rowsH = new Uint16Array(allocRows * D);
    for (let r = 0; r < allocRows; r++) for (let j = 0; j < D; j++) rowsH[r * D + j] = f32ToF16Bits(0.5 * centres[r % 4]![j]! + 0.3 * rnd());
    const qH = new Uint16Array(BQ * D);
    for (let i = 0; i < nq * D; i++) qH[i] = f32ToF16Bits(rnd());
    const score = (r: number, q: number) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += f16BitsToF32(rowsH[r * D + j]!) * f16BitsToF32(qH[q * D + j]!);
      return s;
    };
    const kp = opts.kp ?? 8;
    const cap = opts.cap ?? 1024;
    const lists = spec.sel === 'L';
    const sampled = spec.sel === 'T';
    // The stand-in: one best a query an invocation sees (sel q: one a query tile).
    const bests = bestsPerLane(spec.sel, BQ);
    const outWords = lists ? nWg * BQ * kp * 2 : sampled ? BQ * cap * 2 : nWg * W * 32 * bests;
    // P (scan2-kernel.mjs): segLen, tiles, thr, segStride, rows, idBase.
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 2).set([segLen, tiles]);
    new Float32Array(params, 8, 1)[0] = 1e30;
    new Uint32Array(params, 12, 3).set([opts.segStride ?? 0, opts.rows ?? 0xffffffff, opts.idBase ?? 0]);
    const code = emulateRowScan(kernel(spec, BQ, kp, opts.cand ?? 16, cap));
    const [raw, countsRaw] = await dispatchOnce(code, nWg, (upload) => {
      const out = upload(new Uint32Array(outWords).fill(0x7fc00000), BufferUsage.STORAGE);
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: upload(new Uint8Array(params), BufferUsage.UNIFORM) } },
        { binding: 1, resource: { buffer: upload(rowsH, BufferUsage.STORAGE) } },
        { binding: 3, resource: { buffer: out } },
        { binding: spec.QS === 's' ? 4 : 2, resource: { buffer: upload(qH, BufferUsage.STORAGE) } },
      ];
      if (!sampled) return { entries, outputs: [out] };
      const counts = upload(new Uint32Array(BQ), BufferUsage.STORAGE);
      entries.push({ binding: 5, resource: { buffer: upload(opts.thresholds!, BufferUsage.STORAGE) } }, { binding: 6, resource: { buffer: counts } });
      return { entries, outputs: [out, counts] };
    }, ['shader-f16', 'subgroups']);
    const n = countsRaw ? new Uint32Array(countsRaw) : undefined;
    return { raw: raw!, counts: n, score, BQ };
  }

  it('the threshold stand-in: each query best over every row, queries staged whole (s) or read from storage (g, loop mode)', async () => {
    for (const [variant, nq] of [['reg:2:1:s:4:2', 16], ['loop:2:1:g:4:2', 16], ['reg:2:1:s:4:2:q:384', 32]] as const) {
      const { raw, score, BQ } = await run(variant, nq);
      const best = new Float32Array(raw);
      const { sel } = parseVariant(variant);
      for (let query = 0; query < nq; query++) {
        let want = -Infinity;
        for (let r = 0; r < nRows; r++) want = Math.max(want, score(r, query));
        const got = Math.max(...bestsOf(best, sel, BQ, nWg * W * 32, query));
        expect(Math.abs(got - want), `${variant} query ${query}`).toBeLessThan(2e-3);
      }
    }
  }, 240_000);

  it('segments spread by segStride (a sample pass over the whole index): each query best over exactly those rows', async () => {
    const segStride = 2 * segLen;
    const { raw, score } = await run('reg:2:1:s:4:2', 16, { segStride });
    const best = new Float32Array(raw);
    const rows = Array.from({ length: nWg * W }, (_, seg) => Array.from({ length: segLen }, (_, i) => seg * segStride + i)).flat();
    // The spread rows must give other bests than the first nRows would, or the test could not tell.
    const backToBack = (q: number) => Math.max(...Array.from({ length: nRows }, (_, r) => score(r, q)));
    expect(Array.from({ length: 16 }, (_, q) => Math.max(...rows.map((r) => score(r, q))) !== backToBack(q)).some(Boolean)).toBe(true);
    for (let q = 0; q < 16; q++) {
      const want = Math.max(...rows.map((r) => score(r, q)));
      const got = Math.max(...bestsOf(best, '1', 16, nWg * W * 32, q));
      expect(Math.abs(got - want), `query ${q}`).toBeLessThan(2e-3);
    }
  }, 240_000);

  it('sel L: each workgroup lists the k best of its rows', async () => {
    const kp = 8;
    const { raw, score } = await run('reg:2:1:s:4:2:L', 16, { kp });
    const words = new Uint32Array(raw);
    const keys = new Float32Array(raw);
    for (let wg = 0; wg < nWg; wg++)
      for (let q = 0; q < 16; q++) {
        const rows = Array.from({ length: W * segLen }, (_, i) => wg * W * segLen + i);
        const want = rows.map((r) => score(r, q)).sort((a, b) => b - a).slice(0, kp);
        const got = Array.from({ length: kp }, (_, i) => ({ key: keys[((wg * 16 + q) * kp + i) * 2]!, row: words[((wg * 16 + q) * kp + i) * 2 + 1]! })).sort((a, b) => b.key - a.key);
        for (let i = 0; i < kp; i++) {
          expect(got[i]!.row, `workgroup ${wg} query ${q}: a row of its own`).toBeGreaterThanOrEqual(rows[0]!);
          expect(got[i]!.row, `workgroup ${wg} query ${q}: a row of its own`).toBeLessThanOrEqual(rows.at(-1)!);
          expect(Math.abs(got[i]!.key - want[i]!)).toBeLessThan(2e-3);
          expect(Math.abs(score(got[i]!.row, q) - got[i]!.key)).toBeLessThan(2e-3);
        }
      }
  }, 240_000);

  it('sel T: every row at or above its query threshold is a candidate with its score, and no other; the query chunks staged in turn', async () => {
    const nq = 32;
    // Thresholds as the sample pass gives them: the 8th best of the first half of the rows (the same
    // rows and queries every run of a variant). First with thresholds no score reaches: no candidate.
    const thresholds = new Float32Array(nq).fill(3.4e38);
    const probe = await run('reg:2:1:s:4:2:T:256', nq, { thresholds: new Float32Array(nq).fill(3.4e38) });
    expect(Array.from(probe.counts!.slice(0, nq))).toEqual(new Array(nq).fill(0));
    for (let q = 0; q < nq; q++) {
      const s = Array.from({ length: nRows / 2 }, (_, r) => probe.score(r, q)).sort((a, b) => b - a);
      thresholds[q] = s[7]!;
    }
    const { raw, counts } = await run('reg:2:1:s:4:2:T:256', nq, { thresholds });
    const words = new Uint32Array(raw);
    const keys = new Float32Array(raw);
    for (let q = 0; q < nq; q++) {
      const got = new Map<number, number>();
      for (let c = 0; c < counts![q]!; c++) got.set(words[(q * 1024 + c) * 2 + 1]!, keys[(q * 1024 + c) * 2]!);
      expect(got.size, `query ${q}: no row twice`).toBe(counts![q]);
      for (let r = 0; r < nRows; r++) {
        const s = probe.score(r, q);
        if (s >= thresholds[q]! + 2e-3) expect(got.has(r), `query ${q} row ${r} (${s} >= ${thresholds[q]})`).toBe(true);
        if (s < thresholds[q]! - 2e-3) expect(got.has(r), `query ${q} row ${r} below`).toBe(false);
        if (got.has(r)) expect(Math.abs(got.get(r)! - s)).toBeLessThan(2e-3);
      }
      expect(counts![q]).toBeGreaterThanOrEqual(8);
    }
    // A buffer of an index of several (p.idBase), its real rows fewer than the segments cover
    // (p.rows): the same candidates below that, none from it on, ids offset.
    const rows = nRows - 37;
    const idBase = 5000;
    const part = await run('reg:2:1:s:4:2:T:256', nq, { thresholds, rows, idBase });
    const partWords = new Uint32Array(part.raw);
    for (let q = 0; q < nq; q++) {
      const ids = Array.from({ length: part.counts![q]! }, (_, c) => partWords[(q * 1024 + c) * 2 + 1]!);
      const want = [];
      for (let c = 0; c < counts![q]!; c++) if (words[(q * 1024 + c) * 2 + 1]! < rows) want.push(words[(q * 1024 + c) * 2 + 1]! + idBase);
      expect(ids.sort((a, b) => a - b), `query ${q}`).toEqual(want.sort((a, b) => a - b));
    }
  }, 240_000);
});

describe.skipIf(!hasGpu)('scan2 selections (the two-pass search) against JavaScript', () => {
  async function select(code: string, vals: Uint32Array, counts: Uint32Array | undefined, resWords: number, queries: number): Promise<ArrayBuffer> {
    const [out] = await dispatchOnce(code, queries, (upload) => {
      const res = upload(new Uint32Array(resWords).fill(0x7fc00000), BufferUsage.STORAGE);
      const entries: GPUBindGroupEntry[] = [
        { binding: 1, resource: { buffer: upload(vals, BufferUsage.STORAGE) } },
        { binding: 3, resource: { buffer: res } },
        ...(counts ? [{ binding: 2, resource: { buffer: upload(counts, BufferUsage.STORAGE) } }] : []),
      ];
      return { entries, outputs: [res] };
    }, ['subgroups']);
    return out!;
  }
  const f32Bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;

  it.each(['bisect', 'radix'] as const)("from a stand-in's bests (%s): each query's KP-th largest (negative values and ties included), -inf where it has fewer", async (method) => {
    const warps = 5;
    const kp = 4;
    for (const [sel, BQ] of [['1', 16], ['1', 64], ['q', 32]] as const) {
      const vals = new Float32Array(warps * 32 * bestsPerLane(sel, BQ));
      // Values sharing their top bytes (radix: the later rounds decide), negative ones and ties.
      for (let i = 0; i < vals.length; i++) vals[i] = Math.round((Math.sin(i * 12.9898) * 43758.5453) % 8) / 2 - 1 + (i % 3) * 1e-5;
      const out = new Float32Array(await select(selectKernel({ from: 'bests', sel, BQ, warps, KP: kp, method }), new Uint32Array(vals.buffer), undefined, BQ, BQ));
      for (let q = 0; q < BQ; q++) {
        const mine = bestsOf(vals, sel, BQ, warps * 32, q).sort((a, b) => b - a);
        expect(out[q], `${sel} BQ ${BQ} query ${q}`).toBe(mine[kp - 1]);
      }
    }
    // One warp of BQ 64: one best a query, fewer than KP.
    const few = new Float32Array(32 * 2).fill(0.5);
    const out = new Float32Array(await select(selectKernel({ from: 'bests', BQ: 64, warps: 1, KP: 4, method }), new Uint32Array(few.buffer), undefined, 64, 64));
    expect(out[0]).toBe(-Infinity);
  }, 120_000);

  it.each(['bisect', 'radix'] as const)("from sel T's candidates (%s): each query's KP best (key, row), the rest of the list empty where there are fewer", async (method) => {
    const BQ = 16;
    const CAP = 64;
    const kp = 6;
    const counts = Uint32Array.from({ length: BQ }, (_, q) => (q === 3 ? 2 : q === 5 ? 200 : 10 + ((q * 7) % 50)));
    const vals = new Uint32Array(BQ * CAP * 2);
    for (let q = 0; q < BQ; q++)
      for (let c = 0; c < CAP; c++) {
        vals[(q * CAP + c) * 2] = f32Bits(((q * 31 + c * 17) % 97) / 10 - 4.5);
        vals[(q * CAP + c) * 2 + 1] = q * 1000 + c;
      }
    const raw = await select(selectKernel({ from: 'candidates', BQ, KP: kp, CAP, method }), vals, counts, BQ * kp * 2, BQ);
    const keys = new Float32Array(raw);
    const rows = new Uint32Array(raw);
    for (let q = 0; q < BQ; q++) {
      const n = Math.min(counts[q]!, CAP);
      const want = Array.from({ length: n }, (_, c) => new Float32Array(new Uint32Array([vals[(q * CAP + c) * 2]!]).buffer)[0]!).sort((a, b) => b - a).slice(0, kp);
      const got = Array.from({ length: kp }, (_, i) => ({ key: keys[(q * kp + i) * 2]!, row: rows[(q * kp + i) * 2 + 1]! })).sort((a, b) => b.key - a.key);
      for (let i = 0; i < kp; i++) {
        if (i < want.length) {
          expect(got[i]!.key, `query ${q} entry ${i}`).toBe(want[i]);
          const c = got[i]!.row - q * 1000;
          expect(new Float32Array(new Uint32Array([vals[(q * CAP + c) * 2]!]).buffer)[0]).toBe(got[i]!.key);
        } else expect(got[i]!.row, `query ${q}: empty slot`).toBe(0xffffffff);
      }
    }
  }, 120_000);
});
