/**
 * The GpuFlatIndex tensor-core scorer (src/gpu/tensor/hook.ts): which batches it takes from the
 * adapter's reported configs (fake adapter facts), the WGSL it generates, and on CI's software
 * adapter (no subgroup matrices) that `allowExperimental` falls back to the built-in int8 kernels and
 * still matches the float64 oracle. bench/gpu-tensor checks the tensor kernel itself on the H200.
 */
import { describe, expect, it } from 'vitest';
import { indexFactory } from '../../src/core/factory.js';
import { int8ScorerExtraBytes } from '../../src/core/planner.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type MatrixConfig, SUBGROUP_MATRIX_FEATURE } from '../../src/gpu/tensor/choose.js';

import { type HookFacts, hookShape, planTensorHook, tensorTuning } from '../../src/gpu/tensor/hook.js';
import { acquireDevice } from '../../src/gpu/device.js';
import { layoutShape } from '../../src/gpu/tensor/choose.js';
import { hookSource, prepSource, type SelectShape, selectSource, workgroupBytes } from '../../src/gpu/tensor/kernel-source.js';
import { normalizeRows, clusteredVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, recallAtK, trueDistance } from '../helpers/oracle.js';

const NVIDIA: MatrixConfig[] = [
  { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 },
  { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 8, K: 32 },
  { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 16, K: 32 },
];

const facts = (over: Partial<HookFacts> = {}): HookFacts => ({
  precision: 'int8',
  metric: 'ip',
  rowWords: 48,
  features: new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups']),
  configs: NVIDIA,
  maxWorkgroupStorage: 49152,
  subgroupSize: 32,
  ...over,
});

describe('tensor scorer choice from reported configs', () => {
  it('takes int8 inner-product batches on an NVIDIA-like adapter: 32 rows x 32 queries, k lists', () => {
    // Below midBatch (32): 32-row tiles.
    const plan = planTensorHook(facts(), 12, 40);
    expect('shape' in plan).toBe(true);
    if (!('shape' in plan)) return;
    expect(plan.shape).toMatchObject({ kind: 'mma', m: 16, n: 16, k: 32, rowTiles: 2, queryTiles: 2, kp: 40, dPad: 768 });
    expect(plan.shape.stage).toMatchObject({ queries: 'pre', unroll: true, xorRows: true, clampRows: true, select: 'mask', prefetch: true });
    // The 32 x 32 scores tile (over 32 staged rows x kcSmall = 32 dims + 4 words of padding) and 32 staged queries.
    expect(plan.shape.stage?.kc).toBe(32);
    expect(workgroupBytes(plan.shape)).toBe((32 * 32 + 32 * (8 + 4)) * 4);
    // Below insertFrom (16): the chain insertion; no scores parts at 32-row tiles.
    expect(plan.shape.stage?.insert).toBeUndefined();
    expect(plan.shape.stage?.selectRows).toBeUndefined();
  });

  it('from midBatch (32) queries: 64-row tiles of 32-dim chunks, scores in 32-row parts, flat insertion (gpu-tensor runs 11-12)', () => {
    expect([tensorTuning.midBatch, tensorTuning.rowTilesMid, tensorTuning.insertFrom, tensorTuning.selectRows]).toEqual([32, 4, 16, 32]);
    for (const nq of [32, 48, 64, 128, tensorTuning.bigBatch - 1]) {
      const plan = planTensorHook(facts(), nq, 40);
      if (!('shape' in plan)) throw new Error(plan.reason);
      expect(plan.shape.rowTiles).toBe(4);
      expect(plan.shape.stage).toMatchObject({ kc: 32, selectRows: 32, insert: 'flat', select: 'mask', prefetch: true });
      // Staged rows 64 x (8 + 4) words, a 32 x 32 scores part (the larger: 1024 words), 32 staged queries.
      expect(workgroupBytes(plan.shape)).toBe((32 * 32 + 32 * (8 + 4)) * 4);
      expect(hookSource(plan.shape)).toContain('const WR_WORDS: u32 = 1024u;');
    }
    // 16-31 queries: 32-row tiles with the flat insertion; below 16 the chain.
    const below = planTensorHook(facts(), 31, 40);
    expect('shape' in below && [below.shape.rowTiles, below.shape.stage?.insert]).toEqual([2, 'flat']);
    const small = planTensorHook(facts(), 15, 40);
    expect('shape' in small && [small.shape.rowTiles, small.shape.stage?.insert]).toEqual([2, undefined]);
    // selectRows 0: the whole tile at once (8 KiB of scores at 64-row tiles).
    const saved = tensorTuning.selectRows;
    try {
      tensorTuning.selectRows = 0;
      const whole = planTensorHook(facts(), 64, 40);
      expect('shape' in whole && whole.shape.stage?.selectRows).toBeUndefined();
    } finally {
      tensorTuning.selectRows = saved;
    }
  });

  it('uses 64-row tiles from bigBatch queries a shard batch (and from midBatch), 32-row tiles below', () => {
    const below = planTensorHook(facts(), tensorTuning.midBatch - 1, 40);
    const big = planTensorHook(facts(), tensorTuning.bigBatch, 40);
    if (!('shape' in below) || !('shape' in big)) throw new Error('not planned');
    expect(below.shape.rowTiles).toBe(tensorTuning.rowTiles);
    expect(big.shape.rowTiles).toBe(tensorTuning.rowTilesBig);
    expect(tensorTuning.rowTilesBig).toBe(4);
    // 64 staged rows x (16 + 4) words (larger than a 32 x 32 scores part) and 32 queries x (16 + 4) words.
    expect(big.shape.stage).toMatchObject({ kc: 64, selectRows: 32, insert: 'flat' });
    expect(workgroupBytes(big.shape)).toBe((64 * 20 + 32 * 20) * 4);
  });

  it("fits the planner's int8 bound for its extra buffers (pre-pass codes, shared bounds) at every batch and d", () => {
    // The planner (src/core/planner.ts) cannot see the scorer: its bound must cover what hookShape asks for.
    for (const d of [64, 131, 768, 1024]) {
      for (const nq of [5, 16, 20, 33, 64, 100, 255, 256, 512]) {
        for (const k of [16, 40, 64]) {
          for (const share of [0, 8, 64]) {
            const saved = { ...tensorTuning };
            Object.assign(tensorTuning, { share, shareFrom: 0 });
            try {
              const plan = planTensorHook(facts({ rowWords: Math.ceil(d / 32) * 2 }), nq, k); // rows of paddedDim(d) bytes
              if (!('shape' in plan)) throw new Error(plan.reason);
              const sh = hookShape(plan.shape, nq);
              const needs = (sh.prep?.bytes ?? 0) + (sh.scratch ?? 0) * 8;
              expect(int8ScorerExtraBytes(d, k, nq), `d ${d} nq ${nq} k ${k} share ${share}`).toBeGreaterThanOrEqual(needs);
            } finally {
              Object.assign(tensorTuning, saved);
            }
          }
        }
      }
    }
  });

  it('asks for a pre-pass sized for the block-padded batch and for more workgroups than the built-in kernels', () => {
    const plan = planTensorHook(facts(), 40, 40);
    if (!('shape' in plan)) throw new Error(plan.reason);
    const sh = hookShape(plan.shape, 40);
    expect(sh.prep).toEqual({ bytes: 64 * 768 + 64 * 16, groups: [64, 1] });
    expect(sh.targetWorkgroups).toBe(tensorTuning.targetWorkgroupsSmall);
    expect(hookShape(plan.shape, tensorTuning.bigBatch).targetWorkgroups).toBe(tensorTuning.targetWorkgroups);
    // One-warp workgroups: more of them than the built-in kernels' 256-invocation ones.
    expect(tensorTuning.targetWorkgroupsSmall).toBeGreaterThan(512);
    expect(prepSource(plan.shape)).not.toMatch(/^\s*\/\/@[A-Z]/m);
  });

  it("'quant' quantises per chunk (chunk-sized workgroup memory), 'whole' without subgroups; no pre-pass for either", () => {
    const saved = tensorTuning.queries;
    try {
      tensorTuning.queries = 'quant';
      const big = planTensorHook(facts(), 1024, 40);
      expect('shape' in big && big.shape.stage?.queries).toBe('quant');
      if ('shape' in big) {
        expect(workgroupBytes(big.shape)).toBeLessThanOrEqual(12 * 1024);
        expect(hookShape(big.shape, 1024).prep).toBeUndefined();
      }
      const noSg = planTensorHook(facts({ features: new Set([SUBGROUP_MATRIX_FEATURE]) }), 1024, 40);
      expect('shape' in noSg && noSg.shape.stage?.queries).toBe('whole');
    } finally {
      tensorTuning.queries = saved;
    }
  });

  it('with only N = 8 configs it tiles 4 query matrices', () => {
    const n8 = NVIDIA.filter((c) => c.N === 8);
    const plan = planTensorHook(facts({ configs: n8 }), 256, 10);
    expect('shape' in plan && plan.shape.queryTiles).toBe(4);
  });

  it('kcSmall: chunks of kcSmall dims below bigBatch queries, kc from bigBatch', () => {
    const saved = { ...tensorTuning };
    try {
      tensorTuning.kcSmall = 32;
      const small = planTensorHook(facts(), tensorTuning.bigBatch - 1, 10);
      const big = planTensorHook(facts(), tensorTuning.bigBatch, 10);
      expect('shape' in small && small.shape.stage?.kc).toBe(32);
      expect('shape' in big && big.shape.stage?.kc).toBe(tensorTuning.kc);
      if ('shape' in small) expect(hookSource(small.shape)).toContain('const KC: u32 = 32u;');
      tensorTuning.kcSmall = 0;
      const off = planTensorHook(facts(), 16, 10);
      expect('shape' in off && off.shape.stage?.kc).toBe(tensorTuning.kc);
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });

  it('block16: batches of up to 16 queries in a 16-query block (two invocations a query, lists merged in workgroup memory)', () => {
    const saved = { ...tensorTuning };
    try {
      // Default: on up to k' = block16MaxK (20; measured faster there, slower at 40), 16 queries at most.
      expect(tensorTuning.block16).toBe(true);
      expect(tensorTuning.block16MaxK).toBe(20);
      const p20 = planTensorHook(facts(), 16, 20);
      expect('shape' in p20 && [p20.shape.queryTiles, hookShape(p20.shape, 16).BQ]).toEqual([1, 16]);
      const p40 = planTensorHook(facts(), 16, 40);
      expect('shape' in p40 && p40.shape.queryTiles).toBe(2);
      // From minBatch = 5 queries (gpu-int8 run 19: 0.65 ms against flat_fused's 1.54 at 5); below, int8_gemv.
      expect(tensorTuning.minBatch).toBe(5);
      expect(planTensorHook(facts(), 8, 20)).toMatchObject({ shape: { queryTiles: 1 } });
      expect(planTensorHook(facts(), 12, 40)).toMatchObject({ shape: { queryTiles: 2 } });
      expect(planTensorHook(facts(), 5, 20)).toMatchObject({ shape: { queryTiles: 1 } });
      expect(planTensorHook(facts(), 4, 20)).toEqual({ reason: 'batch 4 < 5' });
      // Up to 16 queries: targetWorkgroupsTiny (1024); from 17, targetWorkgroupsSmall.
      if (!('shape' in p40)) throw new Error(p40.reason);
      expect(hookShape(p40.shape, 16).targetWorkgroups).toBe(1024);
      expect(hookShape(p40.shape, 17).targetWorkgroups).toBe(tensorTuning.targetWorkgroupsSmall);
      tensorTuning.targetWorkgroupsTiny = 0;
      expect(hookShape(p40.shape, 16).targetWorkgroups).toBe(tensorTuning.targetWorkgroupsSmall);
      tensorTuning.block16 = false;
      expect(planTensorHook(facts(), 16, 20)).toMatchObject({ shape: { queryTiles: 2 } });
      tensorTuning.block16 = true;
      tensorTuning.block16MaxK = 64;
      tensorTuning.minBatch = 1;
      for (const nq of [1, 8, 16]) {
        const p = planTensorHook(facts(), nq, 40);
        if (!('shape' in p)) throw new Error(p.reason);
        expect([p.shape.n, p.shape.queryTiles]).toEqual([16, 1]);
        const sh = hookShape(p.shape, nq);
        expect(sh.BQ).toBe(16);
        expect(sh.prep).toEqual({ bytes: 16 * 768 + 16 * 16, groups: [16, 1] });
        // Staged rows / scores tile under the merge area: 2 lists x 16 queries x k' (key, id) words.
        expect(workgroupBytes(p.shape)).toBe((2 * 16 * 2 * 40 + 16 * (8 + 4)) * 4);
        const src = hookSource(p.shape);
        expect(src).toContain('const TPQ: u32 = 2u;');
        expect(src).toContain('let live = q < params.nq && part == 0u;');
        expect(src).not.toMatch(/^\s*\/\/@[A-Z]/m);
      }
      // 17 queries: the 32-query block (one list a query, no merge).
      const p17 = planTensorHook(facts(), 17, 40);
      if (!('shape' in p17)) throw new Error(p17.reason);
      expect(p17.shape.queryTiles).toBe(2);
      expect(hookSource(p17.shape)).not.toContain('TPQ');
      // N = 8: two result matrices across the block.
      tensorTuning.matrixN = 8;
      const p8 = planTensorHook(facts(), 16, 40);
      expect('shape' in p8 && [p8.shape.queryTiles, hookShape(p8.shape, 16).BQ]).toEqual([2, 16]);
      tensorTuning.matrixN = 16;
      // Not with lists in workgroup memory, several warps, 'quant' queries or 64-wide subgroups.
      tensorTuning.lists = 'wg';
      expect(planTensorHook(facts(), 16, 40)).toMatchObject({ shape: { queryTiles: 2 } });
      tensorTuning.lists = 'reg';
      tensorTuning.queries = 'quant';
      expect(planTensorHook(facts(), 16, 40)).toMatchObject({ shape: { queryTiles: 2 } });
      tensorTuning.queries = 'auto';
      expect(planTensorHook(facts({ subgroupSize: 64 }), 16, 40)).toMatchObject({ shape: { queryTiles: 4 } });
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });

  it('takes N = 16 by default and the N = 8 config with matrixN 8 (same 32-query block: 4 result matrices across)', () => {
    const saved = tensorTuning.matrixN;
    try {
      const p16 = planTensorHook(facts(), 64, 10);
      expect('shape' in p16 && [p16.shape.n, p16.shape.queryTiles]).toEqual([16, 2]);
      tensorTuning.matrixN = 8;
      const p8 = planTensorHook(facts(), 64, 10);
      if (!('shape' in p8)) throw new Error(p8.reason);
      expect([p8.shape.n, p8.shape.queryTiles, hookShape(p8.shape, 64).BQ]).toEqual([8, 4, 32]);
      const src = hookSource(p8.shape);
      expect(src).toContain('subgroup_matrix_right<i8, 8, 32>');
      expect(src).toContain('subgroup_matrix_result<i32, 8, 16>');
      expect(src).not.toContain('subgroup_matrix_right<i8, 16, 32>');
      // 2 row x 4 query result matrices: 8 multiplies a K step.
      expect(src.match(/acc_1_3 = subgroupMatrixMultiplyAccumulate/g)?.length).toBeGreaterThan(0);
    } finally {
      tensorTuning.matrixN = saved;
    }
  });

  it.each<[string, Partial<HookFacts>, number, number, RegExp]>([
    ['no feature (not opted in)', { features: new Set(['subgroups']) }, 256, 10, /lacks/],
    ['f32 storage without digit planes (f32TensorCores false, or the plan has no room)', { precision: 'f32', rowWords: 192, approximateF32: false }, 256, 10, /f32TensorCores off/],
    ['f32 storage below f32MinBatch', { precision: 'f32', rowWords: 192, approximateF32: true }, 8, 10, /f32 batch 8/],
    ['f16 storage converting halves below f16MinBatch', { precision: 'f16', rowWords: 96 }, 8, 10, /f16 batch 8/],
    ['l2 metric', { metric: 'l2' }, 256, 10, /metric/],
    ['only f16 configs (Apple-like)', { configs: [{ componentType: 'f16', resultComponentType: 'f16', M: 8, N: 8, K: 8 }] }, 256, 10, /no i8/],
    ['an i8 config of another shape', { configs: [{ componentType: 'i8', resultComponentType: 'i32', M: 8, N: 8, K: 32 }] }, 256, 10, /no i8/],
    ['rows not a multiple of K', { rowWords: 49 }, 256, 10, /multiple of K/],
    ['small workgroup memory', { maxWorkgroupStorage: 4096 }, 256, 10, /workgroup memory/],
    ['a single query (flat_gemv is faster there)', {}, 1, 10, /batch/],
    ['large k', {}, 256, 100, /k 100/],
  ])('leaves %s to the built-in kernels', (_name, over, nq, k, why) => {
    const plan = planTensorHook(facts(over), nq, k);
    expect('reason' in plan && plan.reason).toMatch(why);
  });

  it('f32 with digit planes: two digits (rowsF32), 32-row tiles below 64 queries and 64-row from there, one warp; f16 with a code plane: signed codes in int8\'s shapes from 2 queries', () => {
    const f32 = (nq: number) => planTensorHook(facts({ precision: 'f32', rowWords: 192, approximateF32: true, digitPlanes: true }), nq, 40);
    for (const [nq, rowTiles] of [[9, 2], [63, 2], [64, 4], [1024, 4]] as const) {
      const p = f32(nq);
      if (!('shape' in p)) throw new Error(p.reason);
      expect(p.shape.stage).toMatchObject({ rowsF32: true, queries: 'pre' });
      expect([p.shape.rowTiles, p.shape.sgQueries, p.shape.dPad]).toEqual([rowTiles, 1, 768]);
      expect(hookShape(p.shape, nq)).toMatchObject({ approximate: 'dims', digits: true });
    }
    expect(f32(tensorTuning.f32MinBatch - 1)).toMatchObject({ reason: `f32 batch ${tensorTuning.f32MinBatch - 1} < ${tensorTuning.f32MinBatch}` });
    expect(planTensorHook(facts({ precision: 'f16', rowWords: 96, digitPlanes: true }), 1, 40)).toMatchObject({ reason: 'batch 1 < 2' });
    const f16 = planTensorHook(facts({ precision: 'f16', rowWords: 96, digitPlanes: true }), 2, 40);
    if (!('shape' in f16)) throw new Error(f16.reason);
    expect(f16.shape.stage).toMatchObject({ signedRows: true });
    expect(f16.shape.stage?.rowsF16).toBeUndefined();
    expect(hookShape(f16.shape, 2)).toMatchObject({ approximate: 'dims', digits: true });
    // Without the plane: halves converted while staging, from f16MinBatch.
    const conv = planTensorHook(facts({ precision: 'f16', rowWords: 96 }), 16, 40);
    if (!('shape' in conv)) throw new Error(conv.reason);
    expect(conv.shape.stage).toMatchObject({ rowsF16: true });
    expect(hookShape(conv.shape, 16).digits).toBeUndefined();
    // Converting halves, batches up to f16MultiUpTo that flat_gemv_multi takes stay with it; where it
    // does not (no fixed subgroup size, or k past its buffers) the conversion takes them from f16MinBatch.
    const asked: [number, number][] = [];
    const multiTakes = (nq: number, k: number) => (asked.push([nq, k]), k <= 40);
    const upTo = tensorTuning.f16MultiUpTo;
    expect(planTensorHook(facts({ precision: 'f16', rowWords: 96, multiTakes }), upTo, 40)).toMatchObject({ reason: `f16 batch ${upTo} <= ${upTo}, which flat_gemv_multi takes` });
    expect(asked).toEqual([[upTo, 40]]);
    expect('shape' in planTensorHook(facts({ precision: 'f16', rowWords: 96, multiTakes }), upTo + 1, 40)).toBe(true);
    expect('shape' in planTensorHook(facts({ precision: 'f16', rowWords: 96, multiTakes }), tensorTuning.f16MinBatch, 64)).toBe(true);
    expect('shape' in planTensorHook(facts({ precision: 'f16', rowWords: 96 }), tensorTuning.f16MinBatch, 40)).toBe(true);
    // With a code plane the tensor path keeps every batch from f16CodesMinBatch.
    expect('shape' in planTensorHook(facts({ precision: 'f16', rowWords: 96, digitPlanes: true, multiTakes }), upTo, 40)).toBe(true);
  });

  it('f16 on f16 matrices (rowsHalf): taken where the adapter lists f16 x f16 -> f32 and no i8 config (or f16HalfFirst), with shader-f16; keys re-ranked without code steps', () => {
    const HALF: MatrixConfig = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
    const f16 = (configs: MatrixConfig[], features: string[], nq = 16) => planTensorHook(facts({ precision: 'f16', rowWords: 96, configs, features: new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups', ...features]) }), nq, 40);
    // Only the f16 config (e.g. subgroup matrices without int8): f16 matrices, K 16, 64-row tiles, from 2 queries.
    const only = f16([HALF], ['shader-f16']);
    if (!('shape' in only)) throw new Error(only.reason);
    expect(only.shape.stage).toMatchObject({ rowsHalf: true, queries: 'pre' });
    expect([only.shape.k, only.shape.rowTiles, only.shape.sgQueries]).toEqual([16, tensorTuning.f16HalfRowTiles, 1]);
    expect(hookShape(only.shape, 16)).toMatchObject({ approximate: 'unscaled' });
    expect(hookShape(only.shape, 16).digits).toBeUndefined();
    expect(f16([HALF], ['shader-f16'], 1)).toMatchObject({ reason: 'batch 1 < 2' });
    // The generated kernel: f16 fragments from the staged halves, f32 results, ordKey'd list keys.
    const src = hookSource(only.shape);
    expect(src).toContain('enable f16;');
    expect(src).toContain('subgroup_matrix_left<f16, 16, 16>');
    expect(src).toContain('var<workgroup> wr: array<ET, WR_WORDS>;');
    expect(src).toContain('alias ET = f32;');
    expect(src).toContain('ordKey(wr[');
    expect(src).not.toContain('bitcast<i32>(wr[');
    expect(src).toContain('keyFloat(ek)');
    expect(workgroupBytes(only.shape)).toBeLessThanOrEqual(49152);
    // The pre-pass writes halves (as many bytes as two digit planes).
    expect(prepSource(only.shape)).toContain('const HALVES: bool = true;');
    // No shader-f16: no f16 matrices, and no i8 config either: the built-in kernels.
    expect(f16([HALF], [])).toMatchObject({ reason: expect.stringContaining('no i8 x i8 -> i32') });
    // Both listed: the int8 paths (measured faster on the H200) unless f16HalfFirst.
    const both = f16([...NVIDIA, HALF], ['shader-f16']);
    if (!('shape' in both)) throw new Error(both.reason);
    expect(both.shape.stage?.rowsHalf).toBeUndefined();
    expect(both.shape.stage?.rowsF16).toBe(true);
    const saved = tensorTuning.f16HalfFirst;
    tensorTuning.f16HalfFirst = true;
    try {
      const first = f16([...NVIDIA, HALF], ['shader-f16']);
      if (!('shape' in first)) throw new Error(first.reason);
      expect(first.shape.stage?.rowsHalf).toBe(true);
      // int8 shards keep the i8 config either way.
      const i8 = planTensorHook(facts({ configs: [...NVIDIA, HALF], features: new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups', 'shader-f16']) }), 16, 40);
      if (!('shape' in i8)) throw new Error(i8.reason);
      expect([i8.shape.k, i8.shape.stage?.xorRows]).toEqual([32, true]);
    } finally {
      tensorTuning.f16HalfFirst = saved;
    }
  });

  it('hook kernel writes its lists at the tile\'s first list (segAt: tiles of one search share the buffer)', () => {
    const plan = planTensorHook(facts(), 40, 16);
    if (!('shape' in plan)) throw new Error(plan.reason);
    const src = hookSource(plan.shape);
    expect(src).toMatch(/segAt: u32/);
    expect(src).toContain('(q * params.nseg + params.segAt + seg) * params.k');
  });

  it("'mask' selection and prefetch: survivors in a bit mask per 32 rows, next chunk's loads before the multiplies", () => {
    const saved = { ...tensorTuning };
    try {
      tensorTuning.select = 'mask';
      tensorTuning.prefetch = true;
      const plan = planTensorHook(facts(), 256, 40);
      if (!('shape' in plan)) throw new Error(plan.reason);
      expect(plan.shape.stage).toMatchObject({ select: 'mask', prefetch: true });
      const src = hookSource(plan.shape);
      expect(src).toContain('firstTrailingBit(surv)');
      // The list tail, with the shared bounds (tensorTuning.share, on from shareFrom) as a floor.
      expect(src).toContain('let thr = max(kk_39, shr);');
      // Prefetch: chunk 1's first row load comes after chunk 0's barrier and before chunk 0's first multiply.
      const load1 = src.indexOf('let r1_v0 = base[');
      const barrier0 = src.indexOf('workgroupBarrier();', src.indexOf('let r0_v0 = base['));
      const mma0 = src.indexOf('subgroupMatrixMultiplyAccumulate');
      expect(barrier0).toBeGreaterThan(0);
      expect(load1).toBeGreaterThan(barrier0);
      expect(load1).toBeLessThan(mma0);
      // Every one of the 12 chunks is loaded once, under its own names.
      expect([...src.matchAll(/let r(\d+)_v0 = base\[/g)].map((m) => Number(m[1]))).toEqual(Array.from({ length: 12 }, (_, c) => c));
      expect(() => hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, unroll: false } })).toThrow(/prefetch needs unrolled/);
      // The staging knobs of this path refuse shapes they do not serve, naming the knob.
      const st = plan.shape.stage!;
      expect(() => hookSource({ ...plan.shape, stage: { ...st, prefetchDepth: 5 } })).toThrow(/prefetchDepth 5 must be a whole number from 1 to 4/);
      expect(() => hookSource({ ...plan.shape, stage: { ...st, prefetch: false, prefetchDepth: 2 } })).toThrow(/above 1 only with prefetch/);
      expect(() => hookSource({ ...plan.shape, stage: { ...st, prefetch: false, prefetchTiles: true } })).toThrow(/prefetchTiles is the hook's, with prefetch/);
      expect(() => hookSource({ ...plan.shape, stage: { ...st, f16Split: true } })).toThrow(/f16Split is for rowsF16/);
      // prefetchTiles: the first tile's chunks loaded before the tile loop into declared words, the next tile's assigned in it.
      const cross = hookSource({ ...plan.shape, stage: { ...st, prefetchTiles: true } });
      expect(cross.indexOf('var r0_v0: vec4<u32>;')).toBeLessThan(cross.indexOf('for (var t = segStart;'));
      expect(cross).toContain('let rowAtN = tn * (D / 16u);');
      expect([...cross.matchAll(/\br0_v0 = base\[/g)]).toHaveLength(2);
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });

  it('shared bounds (tensorTuning.share): from shareFrom queries, B x nqPad words of scratch at the end of out, read before each tile, published after it', () => {
    const saved = { ...tensorTuning };
    try {
      Object.assign(tensorTuning, { share: 8, shareFrom: 32 });
      const on = planTensorHook(facts(), 70, 40);
      const off = planTensorHook(facts(), 31, 40);
      if (!('shape' in on) || !('shape' in off)) throw new Error('no plan');
      expect(on.shape.stage?.share).toBe(8);
      expect(off.shape.stage?.share).toBeUndefined();
      // 70 queries: three blocks of 32, 8 buckets of 96 words = 384 pairs after the lists.
      expect(hookShape(on.shape, 70).scratch).toBe((8 * 96) / 2);
      expect(hookShape(off.shape, 31).scratch).toBeUndefined();
      const src = hookSource(on.shape);
      expect(src).toContain('var<storage, read_write> out: array<atomic<u32>>;');
      expect(src).toContain('let shAt = arrayLength(&out) - 8u * nqPad;');
      // m = ceil(40 / 8) = 5: the fifth key is published into bucket segment % 8.
      expect(src).toContain('if (live && kk_4 > shPub) {');
      expect(src).toContain('atomicMax(&out[shAt + (seg % 8u) * nqPad + q]');
      expect([...src.matchAll(/atomicLoad\(&out\[shAt \+ (\d)u \* nqPad \+ q\]\)/g)].map((m) => Number(m[1]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(src).not.toContain('let thr = kk_39;');
      const plain = hookSource(off.shape);
      expect(plain).not.toContain('atomic');
      expect(plain).toContain('let thr = kk_39;');
      // More buckets than k': one a list entry (m = 1).
      tensorTuning.share = 64;
      const wide = planTensorHook(facts(), 70, 10);
      if (!('shape' in wide)) throw new Error(wide.reason);
      expect(hookShape(wide.shape, 70).scratch).toBe((10 * 96) / 2);
      expect(hookSource(wide.shape)).toContain('if (live && kk_0 > shPub) {');
      // Not with lists in workgroup memory or the 16-query block.
      Object.assign(tensorTuning, { share: 8, lists: 'wg' });
      const wg = planTensorHook(facts(), 70, 40);
      expect('shape' in wg && wg.shape.stage?.share).toBeFalsy();
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });

  it('generates one kernel with constant workgroup offsets and no template markers left', () => {
    const plan = planTensorHook(facts(), 20, 16);
    if (!('shape' in plan)) throw new Error(plan.reason);
    const src = hookSource(plan.shape);
    expect(src).toContain('enable chromium_experimental_subgroup_matrix;');
    expect(src).not.toMatch(/^\s*\/\/@[A-Z]/m);
    expect(src).not.toMatch(/\bkk\[|\bii\[/);
    // Rows of the last block are read at the tile's last row, never past the binding.
    expect(src).toMatch(/min\(r\w*e0 \/ 2u, rmax\)/);
    // Unrolled: no K loop, every fragment load from workgroup memory at a literal offset.
    expect(src).not.toContain('for (var kd');
    const loads = [...src.matchAll(/subgroupMatrixLoad<[^>]+>>\(&w[rq], ([^,]+),/g)].map((m) => m[1]!);
    expect(loads.length).toBe((768 / 32) * (2 + 2));
    expect(plan.shape.stage?.kc).toBe(32);
    for (const off of loads) expect(off).toMatch(/^[\d u+]+$/);
    expect(src).toContain('0x80808080u');
  });

  it("lists 'wg': the k' lists in workgroup memory (k' x 32 x 8 more bytes), only with mask selection", () => {
    const saved = { ...tensorTuning };
    tensorTuning.lists = 'wg';
    const plan = planTensorHook(facts(), 40, 40);
    tensorTuning.select = 'row';
    const rowPlan = planTensorHook(facts(), 40, 40);
    Object.assign(tensorTuning, saved);
    if (!('shape' in plan) || !('shape' in rowPlan)) throw new Error('not planned');
    expect(plan.shape.stage?.lists).toBe('wg');
    expect(rowPlan.shape.stage?.lists).toBeUndefined();
    expect(workgroupBytes(plan.shape)).toBe((32 * 32 + 32 * 12 + 2 * 40 * 32) * 4);
    const src = hookSource(plan.shape);
    expect(src).toContain('var<workgroup> wl: array<vec2<i32>, KP * NT>;');
    expect(src).not.toMatch(/\bkk_\d|\bii_\d/);
    expect(() => hookSource({ ...rowPlan.shape, stage: { ...rowPlan.shape.stage!, lists: 'wg' } })).toThrow(/lists 'wg'/);
  });

  it('several warps with warpBranch: each warp\'s multiplies and stores in its own sid branch, every matrix offset a literal', () => {
    const saved = { ...tensorTuning };
    tensorTuning.warps = 4;
    tensorTuning.warpBranch = true;
    const plan = planTensorHook(facts(), 20, 16);
    Object.assign(tensorTuning, saved);
    if (!('shape' in plan)) throw new Error(plan.reason);
    expect(plan.shape.sgQueries).toBe(4);
    expect(plan.shape.stage?.warpBranch).toBe(true);
    const src = hookSource(plan.shape);
    expect(src).toContain('@builtin(subgroup_id) sid: u32');
    for (const w of [0, 1, 2]) expect(src).toContain(`if (sid == ${w}u) {`);
    // Row fragments (2 a step) in every branch, query fragments (2 a step) per warp: 4 warps x 4 a step.
    const loads = [...src.matchAll(/subgroupMatrixLoad<[^>]+>>\(&w[rq], ([^,]+),/g)].map((m) => m[1]!);
    expect(loads.length).toBe((768 / 32) * 4 * 4);
    for (const off of loads) expect(off).toMatch(/^[\d u+]+$/);
    const stores = [...src.matchAll(/subgroupMatrixStore\(&wr, ([^,]+),/g)].map((m) => m[1]!);
    expect(stores.length).toBe(4 * 2 * 2);
    for (const off of stores) expect(off).toMatch(/^[\d u+]+$/);
    // Warp 3's query fragments start at 3 x 32 queries x SW words (32-dim chunks: 8 + 4) x 4 bytes.
    expect(src).toContain(`${3 * 32 * 12 * 4}u + 0u + 0u`);
  });
});

const hasGpu = await gpuForTests('int8 tensor hook fallback');

describe.skipIf(!hasGpu)('GpuFlatIndex int8 with allowExperimental on an adapter without subgroup matrices', () => {
  it('falls back to the built-in kernels and matches the float64 oracle', async () => {
    const d = 96, n = 2500, nq = 40, k = 10;
    const base = normalizeRows(clusteredVectors(n, d, 12, 71), d);
    const q = normalizeRows(clusteredVectors(nq, d, 12, 72), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', allowExperimental: true, maxTileBytes: 1 << 16, debugPoison: true });
    try {
      await index.add(base);
      expect(tensorTuning.enabled).toBe(true);
      const got = await index.search(q, k);
      const want = bruteForce(base, q, d, k, 'ip');
      expect(recallAtK(got, want)).toBeGreaterThanOrEqual(0.95);
      for (let i = 0; i < got.labels.length; i++) {
        const exact = trueDistance(base, q, d, Math.floor(i / k), Number(got.labels[i]!), 'ip');
        expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await index.dispose();
    }
  });

  it('takes the option through indexFactory (backend gpu)', async () => {
    const d = 64, n = 1200, nq = 8, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 8, 81), d);
    const q = normalizeRows(clusteredVectors(nq, d, 8, 82), d);
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'gpu', precision: 'int8', allowExperimental: true });
    expect(index).toBeInstanceOf(GpuFlatIndex);
    try {
      await index.add(base);
      const got = await index.search(q, k);
      expect(recallAtK(got, bruteForce(base, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.95);
    } finally {
      await (index as { dispose?: () => unknown }).dispose?.();
    }
  });
});

/**
 * The software adapter has no subgroup matrices, so the generated tensor kernels are validated there
 * with the matrix calls replaced by scalar stand-ins of the same operands: everything else (staging,
 * prologue, selection, unrolled blocks, uniform offsets as expressions) is checked by Dawn's compiler.
 */
function stubMatrices(src: string): string {
  return src
    .replace('enable chromium_experimental_subgroup_matrix;', '')
    .replace(/subgroup_matrix_result<i32, \d+, \d+>\(\)/g, '0i')
    .replace(/subgroupMatrixLoad<[^(]*>\((&\w+), ([^,]+), (true|false), ([^)]+)\)/g, (_m, p: string, off: string, _b, st: string) => `(${p.slice(1)}[0] + i32(${off}) + i32(${st}))`)
    .replace(/subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (\w+)\)/g, '($1 * $2 + $3)')
    .replace(/subgroupMatrixStore\((&\w+), ([^,]+), (\w+), false, ([^)]+)\);/g, (_m, p: string, off: string, v: string, st: string) => `${p.slice(1)}[${off} + ${st} * 0u] = ${v};`);
}

describe.skipIf(!hasGpu)('generated tensor kernels compile (matrix calls stubbed)', () => {
  it('hook kernel and staged / direct select kernels', async () => {
    const ctx = await acquireDevice();
    try {
      const plan = planTensorHook(facts(), 256, 40);
      if (!('shape' in plan)) throw new Error(plan.reason);
      const base: SelectShape = { kind: 'mma', signed: true, dPad: 768, m: 16, n: 16, k: 32, ...layoutShape('large'), subgroupSize: 32, kp: 16, syntax: 'bool-arg' };
      const cases: [string, string][] = [
        ['hook', hookSource(plan.shape)],
        ['hook quant', hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, queries: 'quant' } })],
        ['hook whole', hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, queries: 'whole' } })],
        ['hook pre-pass', prepSource(plan.shape)],
        ['hook 32-dim chunks', hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, kc: 32 } })],
        ['hook mask selection, prefetch', hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, select: 'mask', prefetch: true } })],
        ['hook mask selection, 64-row tiles', hookSource({ ...plan.shape, rowTiles: 4, stage: { ...plan.shape.stage!, select: 'mask' } })],
        ['hook quant, prefetch', hookSource({ ...plan.shape, stage: { ...plan.shape.stage!, queries: 'quant', prefetch: true } })],
        ['staged', selectSource({ ...base, stage: { kc: 128, padWords: 4, queries: 'wg' } })],
        ['staged unrolled', selectSource({ ...base, stage: { kc: 128, padWords: 4, queries: 'wg', unroll: true } })],
        ['staged 4 x 4, two lists an invocation', selectSource({ ...base, ...layoutShape('wide'), stage: { kc: 32, padWords: 4, queries: 'wg', unroll: true } })],
        ['staged storage queries', selectSource({ ...base, ...layoutShape('tall'), stage: { kc: 64, padWords: 0, queries: 'storage', unroll: true } })],
        ['direct', selectSource(base)],
      ];
      for (const [name, code] of cases) {
        const stub = stubMatrices(code);
        expect(stub, name).not.toMatch(/subgroup_matrix|subgroupMatrix/);
        const info = await ctx.device.createShaderModule({ code: stub }).getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${name} ${m.lineNum}: ${m.message}`);
        expect(errors).toEqual([]);
      }
    } finally {
      ctx.destroy();
    }
  });
});
