/**
 * Int8 tensor scorer (src/gpu/tensor): kernel choice from reported subgroup-matrix configs, and the
 * fused score + top-k' kernel checked bit-exactly against CPU integer keys. CI's software adapter
 * has no subgroup matrices, so the dot4 kernel runs here; bench/gpu-tensor checks the tensor-core
 * kernel the same way on the H100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device.js';
import { chooseKernel, type LayoutName, type MatrixConfig, pickConfig } from '../../src/gpu/tensor/choose.js';
import { Int8TensorScorer, rerankExact, stagedLayout } from '../../src/gpu/tensor/int8-scorer.js';
import { layoutShape } from '../../src/gpu/tensor/choose.js';
import { selectSource, tileOf, workgroupBytes } from '../../src/gpu/tensor/kernel-source.js';
import { encodeRows, keyOf, paddedDim, quantizeQueries, rowSums, trainSq } from '../../src/gpu/tensor/quantize.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

/** What Dawn reports on the H100 (measured): i8 and u8, M16, N16 or N8, K32. */
const H100: MatrixConfig[] = [
  { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 },
  { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 8, K: 32 },
  { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 16, K: 32 },
  { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 8, K: 32 },
];

describe('tensor kernel choice', () => {
  it('takes the i8 N16 config on the H100 list and N8 for single queries', () => {
    const c = chooseKernel({ allowExperimental: true, deviceFeatures: new Set(['chromium-experimental-subgroup-matrix']), configs: H100 });
    expect(c.kind).toBe('mma');
    expect(c.config).toMatchObject({ componentType: 'i8', N: 16, M: 16, K: 32 });
    expect(pickConfig(H100, { preferN: 8 })?.N).toBe(8);
    expect(pickConfig(H100, { signed: false })?.componentType).toBe('u8');
  });

  it("staged kernel layout: 'mid' (32 x 32) below 256 queries with k' >= 32 and mask selection, 'large' (64 x 32) from 256", () => {
    expect(stagedLayout(40, true, 255)).toBe('mid');
    expect(stagedLayout(40, true, 256)).toBe('large');
    expect(stagedLayout(40, true, 1024)).toBe('large');
    // 'row' selection keeps 'mid' (run 4), small k' takes 'large' at every batch (run 3).
    expect(stagedLayout(40, false, 1024)).toBe('mid');
    expect(stagedLayout(16, true, 16)).toBe('large');
  });

  it('falls back to dot4 without the opt-in, the feature, or a fitting config', () => {
    const feat = new Set(['chromium-experimental-subgroup-matrix']);
    expect(chooseKernel({ allowExperimental: false, deviceFeatures: feat, configs: H100 }).kind).toBe('dot4');
    expect(chooseKernel({ allowExperimental: true, deviceFeatures: new Set(), configs: H100 }).reason).toMatch(/lacks/);
    const f16Only: MatrixConfig[] = [{ componentType: 'f16', resultComponentType: 'f32', M: 8, N: 8, K: 8 }];
    expect(chooseKernel({ allowExperimental: true, deviceFeatures: feat, configs: f16Only }).kind).toBe('dot4');
  });

  it('spells the tensor-core tile with the reported shape', () => {
    const src = selectSource({
      kind: 'mma', signed: true, dPad: 768, m: 16, n: 16, k: 32, sgRows: 1, sgQueries: 1, rowTiles: 2, queryTiles: 2,
      subgroupSize: 32, kp: 32, syntax: 'bool-arg',
    });
    expect(src).toContain('enable chromium_experimental_subgroup_matrix;');
    expect(src).toContain('subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>>(&base');
    expect(src).toContain('subgroup_matrix_result<i32, 16, 16>');
    expect(src).not.toMatch(/^\s*\/\/@[A-Z]/m);
  });

  it('4 x 4 result matrices: half a fragment load a multiply, two lists an invocation, half-size scores tile', () => {
    const shape = {
      kind: 'mma' as const, signed: true, dPad: 768, m: 16, n: 16, k: 32, ...layoutShape('wide'), subgroupSize: 32, kp: 16,
      syntax: 'bool-arg' as const, stage: { kc: 32, padWords: 4, queries: 'wg' as const, unroll: true },
    };
    expect(tileOf(shape)).toMatchObject({ br: 64, bq: 64, nt: 32, tpq: 1, lpi: 2 });
    const src = selectSource(shape);
    const loads = src.match(/subgroupMatrixLoad</g)!.length;
    const mmas = src.match(/subgroupMatrixMultiplyAccumulate\(/g)!.length;
    expect(loads / mmas).toBe(0.5);
    expect(src).toContain('var kb_15: i32;');
    expect(src).toContain('var kk_15: i32;');
    expect(src).not.toMatch(/\b(kk|ii|kb|ib)\[/);
    // Scores tile BR x BQ/2 (8 KiB), staging rows and queries 64 x (8 + 4) words each.
    expect(workgroupBytes(shape)).toBe((64 * 32 + 64 * 12) * 4);
    // Not for the direct kernel (one list an invocation there).
    expect(() => selectSource({ ...shape, stage: undefined })).toThrow(/two lists/);
  });
});

describe('int8 scorer (dot4 kernel) on the WebGPU adapter', () => {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    if (await gpuForTests('int8 tensor scorer')) ctx = await acquireDevice();
  });
  afterAll(() => ctx?.destroy());

  // Poisoned start: every candidate slot must be rewritten, so compare whole lists.
  const cases: { signed: boolean; layout: LayoutName; n: number; d: number; nq: number; tiles: number }[] = [
    { signed: true, layout: 'single', n: 700, d: 100, nq: 3, tiles: 1 },
    { signed: true, layout: 'mid', n: 1337, d: 64, nq: 37, tiles: 2 },
    { signed: false, layout: 'large', n: 999, d: 77, nq: 70, tiles: 2 },
    { signed: true, layout: 'xl', n: 513, d: 32, nq: 65, tiles: 1 },
  ];
  it.each(cases)('keys and ids equal the CPU integer reference: $layout signed=$signed n=$n d=$d nq=$nq tiles=$tiles', async (c) => {
    if (!ctx) return;
    const dPad = paddedDim(c.d);
    const x = randomVectors(c.n, c.d, 7 + c.n);
    const q = randomVectors(c.nq, c.d, 11 + c.nq);
    const sq = trainSq(x, c.n, c.d);
    const codes = encodeRows(x, c.n, c.d, sq, c.signed, dPad);
    const qq = quantizeQueries(q, c.nq, c.d, sq, c.signed, dPad);
    const kp = 16;
    const scorer = new Int8TensorScorer(ctx.device, {
      dPad, kPrime: kp, signed: c.signed, kernel: { kind: 'dot4', reason: 'test' }, targetWorkgroups: 8,
    });
    const split = c.tiles === 1 ? [c.n] : [Math.floor(c.n / 3), c.n - Math.floor(c.n / 3)];
    let at = 0;
    for (const rows of split) {
      const part = codes.subarray(at * dPad, (at + rows) * dPad);
      scorer.addTile(rows, part, c.signed ? undefined : rowSums(part, rows, dPad));
      at += rows;
    }
    const got = await scorer.search(qq.codes, c.nq, c.layout);
    scorer.destroy();
    for (let i = 0; i < c.nq; i++) {
      const ref = Array.from({ length: c.n }, (_, id) => ({ id, key: keyOf(qq.codes, i, codes, id, dPad, c.signed) }));
      ref.sort((a, b) => b.key - a.key || a.id - b.id);
      const want = ref.slice(0, kp);
      expect(Array.from(got.ids.subarray(i * kp, (i + 1) * kp))).toEqual(want.map((r) => r.id));
      expect(Array.from(got.keys.subarray(i * kp, (i + 1) * kp))).toEqual(want.map((r) => r.key));
    }
  });

  it('re-ranked int8 candidates recall the exact float top-10', async () => {
    if (!ctx) return;
    const n = 3000, d = 96, nq = 20, k = 10, kp = 40;
    const x = randomVectors(n, d, 3);
    const q = randomVectors(nq, d, 5);
    const sq = trainSq(x, n, d);
    const codes = encodeRows(x, n, d, sq, true);
    const qq = quantizeQueries(q, nq, d, sq, true);
    const scorer = new Int8TensorScorer(ctx.device, { dPad: paddedDim(d), kPrime: kp, kernel: { kind: 'dot4', reason: 'test' } });
    scorer.addTile(n, codes);
    const got = await scorer.search(qq.codes, nq);
    scorer.destroy();
    const res = rerankExact(q, nq, d, got.ids, kp, k, (id) => x.subarray(id * d, (id + 1) * d));
    let hit = 0;
    for (let i = 0; i < nq; i++) {
      const exact = Array.from({ length: n }, (_, id) => {
        let s = 0;
        for (let t = 0; t < d; t++) s += q[i * d + t]! * x[id * d + t]!;
        return { id, s };
      }).sort((a, b) => b.s - a.s || a.id - b.id);
      const truth = new Set(exact.slice(0, k).map((e) => e.id));
      for (let j = 0; j < k; j++) if (truth.has(res.labels[i * k + j]!)) hit++;
    }
    expect(hit / (nq * k)).toBeGreaterThanOrEqual(0.99);
  });
});
