/**
 * The staged tensor-core kernels (Int8TensorScorer's select kernel, the GpuFlatIndex hook) on CI's
 * software adapter, with the subgroup-matrix calls replaced by a scalar emulation of their
 * documented semantics: a loaded fragment becomes a handle (offset, stride, majorness into the
 * workgroup array it was loaded from), and each invocation computes and stores 8 of the 256 result
 * elements, reading the fragments' bytes where they lie. Only the matrix arithmetic is emulated: the
 * staging, offsets, two-list selection, the hook's query quantisation and its candidate placement
 * (segAt, several tiles) are the generated code itself. Keys are checked bit-exactly against CPU
 * integer dots; the hook, through GpuFlatIndex, against the float64 oracle.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { acquireDevice, BufferUsage, type GpuContext, MapMode } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { tempBytes, tensorExtraBytes } from '../../src/core/planner.js';
import { registerChunkScorer } from '../../src/gpu/flat-shard.js';
import { type LayoutName, SUBGROUP_MATRIX_FEATURE } from '../../src/gpu/tensor/choose.js';
import { hookPipeline, hookShape, planTensorHook, prepPipeline, tensorTuning } from '../../src/gpu/tensor/hook.js';
import { Int8TensorScorer } from '../../src/gpu/tensor/int8-scorer.js';
import { hookSource, type StageOptions } from '../../src/gpu/tensor/kernel-source.js';
import { keyOf, paddedDim } from '../../src/gpu/tensor/quantize.js';
import { clusteredVectors, normalizeRows, rng } from '../helpers/data.js';
import { EMULATED_CONFIG, emulatedHookScorer, emulateMatrices } from '../helpers/emulate-matrices.js';
import { type GpuSpy, gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { bruteForce, expectExactIp as expectExact, recallAtK, trueDistance } from '../helpers/oracle.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';


const hasGpu = await gpuForTests('emulated tensor kernels');
/** The emulated scorers listing the f16 config (alone, or beside the i8 ones) take batches only while this says so. */
let halvesOn: 'only' | 'also' | undefined;

/** Recall@k >= 0.95 against the float64 oracle, and every returned distance exact (the f32 re-rank). */
async function expectRecallAndExactDistances(index: GpuFlatIndex, base: Float32Array, q: Float32Array, d: number, k: number): Promise<void> {
  const got = await index.search(q, k);
  expect(recallAtK(got, bruteForce(base, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.95);
  for (let i = 0; i < got.labels.length; i++) {
    const exact = trueDistance(base, q, d, Math.floor(i / k), Number(got.labels[i]!), 'ip');
    expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(1e-4);
  }
}

/**
 * bench/gpu-flat/scan-key-recall.ts's 'outliers' data (d >= 201): a common direction 1.7x each
 * row's norm, three of whose dimensions dominate it, added to clustered rows and queries.
 */
function outlierRows(n: number, nq: number, d: number): { base: Float32Array; q: Float32Array } {
  const common = normalizeRows(clusteredVectors(1, d, 1, 3), d).map((v, j) => (j === 5 ? 48 : j === 77 ? -40 : j === 200 ? 32 : v * Math.sqrt(d)) / Math.sqrt(d));
  const unit = normalizeRows(common, d);
  const shift = (m: Float32Array) => normalizeRows(m.map((v, i) => v + 1.7 * unit[i % d]!), d);
  return { base: shift(normalizeRows(clusteredVectors(n, d, 30, 7), d)), q: shift(normalizeRows(clusteredVectors(nq, d, 30, 8), d)) };
}

describe.skipIf(!hasGpu)('staged tensor kernels with emulated subgroup matrices', () => {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await acquireDevice();
  });
  afterAll(() => ctx?.destroy());

  const cases: { layout: LayoutName; stage: StageOptions; n: number; nq: number; ties?: boolean }[] = [
    { layout: 'large', stage: { kc: 64, padWords: 4, queries: 'wg', unroll: true }, n: 300, nq: 40 },
    { layout: 'large', stage: { kc: 32, padWords: 4, queries: 'wg', unroll: true }, n: 300, nq: 40 },
    // TensorInt8Flat's layout from k' = 32 (32 x 32 tiles).
    { layout: 'mid', stage: { kc: 64, padWords: 4, queries: 'wg', unroll: true }, n: 300, nq: 40 },
    { layout: 'wide', stage: { kc: 32, padWords: 4, queries: 'wg', unroll: true }, n: 300, nq: 70 },
    { layout: 'wide', stage: { kc: 64, padWords: 4, queries: 'wg' }, n: 200, nq: 100 },
    // TensorInt8Flat's default: the hook's 'mask' selection (32 x 32 and 64 x 32 tiles), prefetch.
    { layout: 'mid', stage: { kc: 64, padWords: 4, queries: 'wg', unroll: true, select: 'mask' }, n: 300, nq: 40 },
    // Tie-heavy codes (-1, 0, 1) and queries: ids must come out in id order at equal keys.
    { layout: 'mid', stage: { kc: 64, padWords: 4, queries: 'wg', unroll: true, select: 'mask' }, n: 300, nq: 40, ties: true },
    { layout: 'mid', stage: { kc: 64, padWords: 4, queries: 'wg', unroll: true }, n: 300, nq: 40, ties: true },
    { layout: 'large', stage: { kc: 32, padWords: 4, queries: 'wg', unroll: true, select: 'mask', prefetch: true }, n: 300, nq: 40 },
  ];
  it.each(cases)('keys and ids equal the CPU integer reference: $layout kc=$stage.kc unroll=$stage.unroll select=$stage.select prefetch=$stage.prefetch n=$n nq=$nq ties=$ties', async (c) => {
    const dPad = 64;
    const r = rng(c.n * 31 + c.nq);
    const small = () => (Math.floor(r() * 3) - 1) & 0xff;
    const codes = new Uint8Array(c.n * dPad).map(() => (c.ties ? small() : Math.floor(r() * 256)));
    const qc = new Uint8Array(c.nq * dPad).map(() => (c.ties ? small() : (Math.floor(r() * 255) - 127) & 0xff));
    const kp = 8;
    const scorer = new Int8TensorScorer(ctx!.device, {
      dPad, kPrime: kp, signed: true, kernel: { kind: 'mma', config: EMULATED_CONFIG, reason: 'test' }, subgroupSize: 32,
      syntax: 'bool-arg', targetWorkgroups: 6, stage: c.stage, sourceFilter: emulateMatrices,
    });
    scorer.addTile(c.n, codes);
    try {
      const got = await scorer.search(qc, c.nq, c.layout);
      for (let i = 0; i < c.nq; i++) {
        const ref = Array.from({ length: c.n }, (_, id) => ({ id, key: keyOf(qc, i, codes, id, dPad, true) }));
        ref.sort((a, b) => b.key - a.key || a.id - b.id);
        expect(Array.from(got.keys.subarray(i * kp, (i + 1) * kp)), `query ${i}`).toEqual(ref.slice(0, kp).map((e) => e.key));
        expect(Array.from(got.ids.subarray(i * kp, (i + 1) * kp)), `query ${i} ids`).toEqual(ref.slice(0, kp).map((e) => e.id));
      }
    } finally {
      scorer.destroy();
    }
  }, 120_000);
});

describe.skipIf(!hasGpu)('GpuFlatIndex tensor hook with emulated subgroup matrices', () => {
  // The hook's plan, told the adapter has the NVIDIA config, with its source emulated.
  registerChunkScorer(emulatedHookScorer());
  // f16 rows on (emulated) f16 matrices, for the tests that turn it on.
  registerChunkScorer(emulatedHookScorer({ halves: 'only', active: () => halvesOn === 'only' }));
  registerChunkScorer(emulatedHookScorer({ halves: 'also', active: () => halvesOn === 'also' }));

  it.each([
    { queries: 'pre' as const, tiles: 1, target: 2048 },
    { queries: 'pre' as const, tiles: 3, target: 2048 },
    // Few workgroups: segments of several blocks, the last one partial (rows clamped to the tile).
    { queries: 'pre' as const, tiles: 3, target: 3 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true },
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const },
    { queries: 'quant' as const, tiles: 1 },
    { queries: 'quant' as const, tiles: 3, prefetch: true },
    { queries: 'whole' as const, tiles: 3 },
    // Several warps a workgroup (subgroup_id offsets): 2 warps, 64 queries a block (37: one partial
    // block, the second warp partly past nq); 4 warps, 3 tiles, few workgroups.
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const, prefetch: true, warps: 2 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, warps: 4 },
    // Lists in workgroup memory, several tiles and segments.
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, lists: 'wg' as const },
    // The M16 N8 K32 config (4 result matrices across a 32-query block); 64-row tiles; 64-dim chunks
    // without prefetch (the default is 32 here).
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, matrixN: 8 as const },
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const, matrixN: 8 as const, rowTiles: 4, kc: 64 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, rowTiles: 4, kc: 64 },
    // 32-dim chunks below bigBatch (tensorTuning.kcSmall, the default) over 64-dim chunks from it.
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, kc: 64, kcSmall: 32 },
    // The 16-query block (tensorTuning.block16) for batches of up to 16: a full block, a partial one
    // over several tiles and segments, and the N = 8 config (2 result matrices across the block).
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const, prefetch: true, block16: true, nq: 16 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, block16: true, nq: 7 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, block16: true, nq: 12, matrixN: 8 as const },
    // Queries held for the segment ('hold') and the flat insertion, through the index.
    { queries: 'hold' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true },
    { queries: 'hold' as const, tiles: 1, target: 2048, select: 'mask' as const, prefetch: true, insert: 'flat' as const, rowTiles: 4 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, insert: 'flat' as const },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, lists: 'packed' as const },
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const, prefetch: true, lists: 'packed' as const, insert: 'flat' as const, rowTiles: 4 },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, insert: 'flat' as const, rowTiles: 4, selectRows: 32 },
    // The defaults from midBatch queries (gpu-tensor run 11) over three query blocks.
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, insert: 'flat' as const, rowTiles: 4, selectRows: 32, nq: 70 },
    // Shared bounds (tensorTuning.share): three tiles of several segments, one tile of many; 8
    // buckets (m = 3 of k' 20) and 3 (m = 7), the partial third query block.
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, insert: 'flat' as const, rowTiles: 4, selectRows: 32, nq: 70, share: 8 },
    { queries: 'pre' as const, tiles: 1, target: 2048, select: 'mask' as const, prefetch: true, insert: 'flat' as const, share: 3 },
    // The next tile's first chunks loaded during the tile's last (prefetchTiles): with shared bounds,
    // 2 chunks ahead in the 16-query block, and with held queries (only rows carried).
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, insert: 'flat' as const, share: 3, crossTiles: true },
    { queries: 'pre' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, block16: true, nq: 12, crossTiles: true, depth: 2 },
    { queries: 'hold' as const, tiles: 3, target: 3, select: 'mask' as const, prefetch: true, crossTiles: true },
  ])('queries $queries, $tiles tile(s), target $target, select $select, prefetch $prefetch (depth $depth, across tiles $crossTiles), warps $warps, lists $lists, N $matrixN, row tiles $rowTiles, kcSmall $kcSmall, block16 $block16 nq $nq, insert $insert, selectRows $selectRows, share $share: recall and exact distances against the float64 oracle', async (c: { queries: 'pre' | 'quant' | 'whole' | 'hold'; tiles: number; target?: number; select?: 'row' | 'mask'; prefetch?: boolean; warps?: number; lists?: 'reg' | 'wg' | 'packed'; matrixN?: 8 | 16; rowTiles?: number; kc?: number; kcSmall?: number; block16?: boolean; nq?: number; insert?: 'chain' | 'flat'; selectRows?: number; share?: number; crossTiles?: boolean; depth?: number }) => {
    const d = 64, n = 400, nq = c.nq ?? 37, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 91), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 92), d);
    const saved = { ...tensorTuning };
    tensorTuning.minBatch = 1;
    tensorTuning.queries = c.queries;
    tensorTuning.select = c.select ?? 'row';
    tensorTuning.prefetch = c.prefetch ?? false;
    // Prefetch needs several chunks of dims: 32-dim chunks over d = 64.
    if (c.prefetch) tensorTuning.kc = 32;
    if (c.kc) tensorTuning.kc = c.kc;
    // Each case's chunk is kc unless it names kcSmall (nq = 37 is below bigBatch).
    tensorTuning.kcSmall = c.kcSmall ?? 0;
    if (c.target) tensorTuning.targetWorkgroups = c.target;
    // Up to 16 queries the dispatch aims for targetWorkgroupsTiny: few workgroups there too.
    if (c.target) tensorTuning.targetWorkgroupsTiny = c.target;
    tensorTuning.warps = c.warps ?? 1;
    tensorTuning.lists = c.lists ?? 'reg';
    tensorTuning.matrixN = c.matrixN ?? 16;
    if (c.rowTiles) tensorTuning.rowTiles = tensorTuning.rowTilesBig = c.rowTiles;
    // Each case names its row tiles: midBatch (32 by default, below the cases' 37 queries) off.
    tensorTuning.midBatch = 0;
    tensorTuning.block16 = c.block16 ?? false;
    tensorTuning.block16MaxK = 64;
    tensorTuning.insert = c.insert ?? 'chain';
    tensorTuning.insertFrom = 0;
    tensorTuning.selectRows = c.selectRows ?? 0;
    tensorTuning.share = c.share ?? 0;
    tensorTuning.prefetchTiles = !!c.crossTiles;
    tensorTuning.prefetchDepth = c.depth ?? 1;
    // Several tiles (small tile bytes) share one candidate buffer: each writes at its segAt.
    const tileBytes = c.tiles === 1 ? 1 << 20 : Math.ceil(n / c.tiles / 64) * 64 * paddedDim(d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', maxTileBytes: tileBytes, debugPoison: true });
    try {
      await index.add(base);
      const shard = (index as unknown as { shards: { scorerFor(nq: number, k: number): { key: string } }[] }).shards[0]!;
      const key = shard.scorerFor(nq, 20).key;
      expect(key).toContain('int8-mma-emulated');
      // The shape key names the variant (m: mask selection, f: prefetch), so this case ran it.
      expect(key).toMatch(new RegExp(`stage${c.kcSmall ?? tensorTuning.kc}p4${c.queries}uxc${c.select === 'mask' ? 'm' : ''}${c.prefetch ? `f${(c.depth ?? 1) > 1 ? c.depth : ''}${c.crossTiles ? 'T' : ''}` : ''}${c.lists === 'wg' ? 'l' : c.lists === 'packed' ? 'k' : ''}${c.insert === 'flat' ? 'i' : ''}${c.selectRows ? `h${c.selectRows}` : ''}${c.share ? `s${c.share}` : ''}(?![a-z0-9])`));
      // ... and the warps a workgroup (sgRows:sgQueries after M:N:K).
      expect(key).toContain(`:16:${c.matrixN ?? 16}:32:1:${c.warps ?? 1}:${c.rowTiles ?? tensorTuning.rowTiles}:${(c.block16 ? 16 : 32) / (c.matrixN ?? 16)}:`);
      await expectRecallAndExactDistances(index, base, q, d, k);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it.each([20, 40])('the defaults at %i queries (flat insertion from insertFrom, 64-row tiles in 32-row parts from midBatch, shared bounds from shareFrom): exact distances against the float64 oracle', async (nq) => {
    const d = 64, n = 700, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 93), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 94), d);
    const saved = { ...tensorTuning };
    // Few workgroups: segments of several tiles of rows, the last one partial.
    Object.assign(tensorTuning, { targetWorkgroupsSmall: 3, targetWorkgroupsTiny: 3 });
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', debugPoison: true });
    try {
      await index.add(base);
      const shard = (index as unknown as { shards: { scorerFor(nq: number, k: number): { key: string } }[] }).shards[0]!;
      const key = shard.scorerFor(nq, 20).key;
      expect(key).toContain('int8-mma-emulated');
      // 'i': flat insertion (from 16); 64-row tiles and 'h32' scores parts only from midBatch (32).
      // ... and 's8': the shared bounds from shareFrom queries (0: every batch).
      const s = nq >= tensorTuning.shareFrom ? `s${tensorTuning.share}` : '';
      expect(key).toMatch(new RegExp(nq >= tensorTuning.midBatch ? `:1:1:4:2:.*mfih32${s}(?![a-z0-9])` : `:1:1:2:2:.*mfi${s}(?![a-z0-9])`));
      await expectRecallAndExactDistances(index, base, q, d, k);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);
});

// The emulated hook registered above takes f16 shards too (tensorTuning.f16): rows quantised to i8
// while staged, centred on each dimension's range, the final k' keys re-ranked exactly
// from the f16 rows on the GPU (approx_rerank.wgsl) and the lists ordered again.
describe.skipIf(!hasGpu)('GpuFlatIndex f16 through the emulated tensor hook, re-ranked from the f16 rows', () => {
  /** The rows as the f16 index holds them (each value rounded to float16). */
  const toF16 = (x: Float32Array): Float32Array => x.map((v) => fromHalfBits(toHalfBits(v)));

  /** Recall against the f16 rows' float64 oracle, each distance that row's exact inner product, lists in order. */
  async function expectF16Exact(index: GpuFlatIndex, rows: Float32Array, q: Float32Array, d: number, k: number, minRecall: number): Promise<void> {
    const got = await index.search(q, k);
    expect(recallAtK(got, bruteForce(rows, q, d, k, 'ip'))).toBeGreaterThanOrEqual(minRecall);
    for (let i = 0; i < got.labels.length; i++) {
      expect(got.labels[i]).toBeGreaterThanOrEqual(0n);
      const exact = trueDistance(rows, q, d, Math.floor(i / k), Number(got.labels[i]!), 'ip');
      expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(exact)));
      if (i % k > 0) expect(got.distances[i]!).toBeLessThanOrEqual(got.distances[i - 1]!);
    }
  }

  /** The shard view these tests read: its digit planes' bytes and the scorer a batch gets. */
  type ShardView = { digitBytes: number; tempBytes: number; scorerFor(nq: number, k: number): { key: string; approximate?: string; digits?: boolean } };

  /**
   * One f16 index case, the same for every tensor route: 600 rows of d 64 or `d` (dimension 3 x 40 unless
   * `even`) in `tiles` tiles, nq queries (x qScale) for k, under `tuning`. `check` inspects the plan
   * and the scorer the batch gets (k' = gpuK), then the results must be the f16 rows' exact best,
   * before (then `afterSearch`) and after 200 rows 3x larger are added (steps and planes made again
   * where there are any).
   */
  async function f16Case(c: { seed: number; tiles: number; nq: number; k: number; d?: number; tuning: Partial<typeof tensorTuning>; options?: { digitPlanes?: boolean }; even?: boolean; qScale?: number; minRecall: number; check: (index: GpuFlatIndex, shard: ShardView, kp: number) => void; afterSearch?: (shard: ShardView) => void }): Promise<void> {
    const d = c.d ?? 64, n = 600;
    const base = normalizeRows(clusteredVectors(n, d, 10, c.seed), d);
    // One dimension 40x larger than the others: per-dimension steps keep the rest resolved.
    if (!c.even) for (let i = 0; i < n; i++) base[i * d + 3]! *= 40;
    const q = normalizeRows(clusteredVectors(c.nq, d, 10, c.seed + 1), d).map((v) => v * (c.qScale ?? 1));
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, c.tuning);
    const tileBytes = c.tiles === 1 ? 1 << 20 : Math.ceil(n / c.tiles / 64) * 64 * d * 2;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: tileBytes, debugPoison: true, ...c.options });
    try {
      await index.add(base);
      const kp = index.gpuK(c.k, c.nq);
      expect(kp).toBeGreaterThan(c.k);
      const shard = (index as unknown as { shards: ShardView[] }).shards[0]!;
      c.check(index, shard, kp);
      await expectF16Exact(index, toF16(base), q, d, c.k, c.minRecall);
      // The planner's model of a tensor batch's temporary bytes (FlatPlanInput.f16TensorCores) covers what the shard holds.
      const maxTileRows = Math.max(...index.plan!.shards[0]!.tiles);
      expect(shard.tempBytes).toBeLessThanOrEqual(tempBytes(d, kp, c.nq, 256 << 20, 2 ** 31, index.plan!.shards[0]!.tiles, 'f16') + tensorExtraBytes(d, c.k, c.nq, kp, maxTileRows, false));
      c.afterSearch?.(shard);
      const more = normalizeRows(clusteredVectors(200, d, 5, c.seed + 2), d).map((v) => 3 * v);
      await index.add(more);
      const all = new Float32Array((n + 200) * d);
      all.set(base);
      all.set(more, n * d);
      await expectF16Exact(index, toF16(all), q, d, c.k, c.minRecall);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }

  const targets = (target: number) => ({ targetWorkgroups: target, targetWorkgroupsSmall: target, targetWorkgroupsTiny: target });

  it.each([
    { tiles: 1, target: 2048, uniform: false },
    // Several tiles (each re-ranks the candidates among its rows) of several segments.
    { tiles: 3, target: 3, uniform: false },
    // One step for every dimension (tensorTuning.f16Scale 'uniform'): no dimension 40x the others.
    { tiles: 3, target: 3, uniform: true },
    // 64-row tiles in 32-row parts (the shape from bigBatch queries).
    { tiles: 3, target: 3, uniform: false, rowTiles: 4 },
    // Chunks staged without prefetch (each chunk's loads right before its stores).
    { tiles: 3, target: 3, uniform: false, prefetch: false },
    // Two warps a workgroup sharing each staged, converted chunk (tensorTuning.f16Warps, here from 0 queries).
    { tiles: 3, target: 3, uniform: false, warps: 2 },
    // ... with 64-row tiles, the shape f16 batches of bigBatch (256) queries and more take.
    { tiles: 1, target: 2048, uniform: false, warps: 2, rowTiles: 4 },
    // Split loads (tensorTuning.f16Split: a copy's halves from vec4 j and j + KC / 16, codes stored
    // apart, steps of both dim runs); and loads 2-3 chunks ahead (prefetchDepth) over d 128's 4 chunks.
    { tiles: 3, target: 3, uniform: false, split: true },
    { tiles: 3, target: 3, uniform: false, split: true, depth: 2, d: 128 },
    { tiles: 1, target: 2048, uniform: false, split: true, depth: 3, d: 128, kc: 64 },
    { tiles: 3, target: 3, uniform: true, split: true, depth: 2, d: 128 },
    { tiles: 3, target: 3, uniform: false, depth: 4, d: 160 },
    // The next tile's first chunks loaded during the tile's last (prefetchTiles): segments of several
    // tiles (target 3), depth 1 and 2 of 4 chunks, all 2 chunks carried, a segment of one tile.
    { tiles: 3, target: 3, uniform: false, depth: 1, d: 128, crossTiles: true },
    { tiles: 3, target: 3, uniform: false, depth: 2, d: 128, crossTiles: true, split: true },
    { tiles: 1, target: 2048, uniform: false, depth: 2, crossTiles: true },
    { tiles: 3, target: 3, uniform: false, depth: 1, crossTiles: true, warps: 2 },
    // The conversion's default prefetch (f16PrefetchDepth 2 with f16PrefetchTiles, H100 call h12).
    { tiles: 3, target: 3, uniform: false, depth: 2, d: 128, crossTiles: true, defaults: true },
  ])('$tiles tile(s), target $target, uniform steps $uniform, row tiles $rowTiles, prefetch $prefetch (depth $depth, across tiles $crossTiles), warps $warps, split loads $split, d $d, kc $kc, prefetch defaults $defaults: the hook takes the batch, and the results are the f16 rows\' exact best', async (c: { tiles: number; target: number; uniform: boolean; rowTiles?: number; prefetch?: boolean; warps?: number; split?: boolean; depth?: number; d?: number; kc?: number; crossTiles?: boolean; defaults?: boolean }) => {
    if (c.defaults) expect([tensorTuning.f16PrefetchDepth, tensorTuning.f16PrefetchTiles]).toEqual([c.depth, c.crossTiles]);
    await f16Case({
      seed: 95, tiles: c.tiles, nq: 37, k: 5, d: c.d, even: c.uniform, minRecall: 0.97,
      tuning: { ...targets(c.target), f16Scale: c.uniform ? 'uniform' : 'dims', f16RowTiles: c.rowTiles ?? 2, prefetch: c.prefetch ?? true, f16Warps: c.warps ?? 1, f16WarpsFrom: c.warps ? 0 : 256, f16Split: !!c.split, ...(c.defaults ? {} : { f16PrefetchDepth: c.depth ?? 1, f16PrefetchTiles: !!c.crossTiles }), kcSmall: c.kc ?? 32 },
      check: (index, shard, kp) => {
        expect(index.gpuK(5, tensorTuning.f16MinBatch - 1)).toBe(5);
        const choice = shard.scorerFor(37, kp);
        expect(choice.key).toContain('int8-mma-emulated');
        expect(choice.key).toMatch(new RegExp(`stage${c.kc ?? 32}p4preuF${c.uniform ? 'U' : ''}cm${c.prefetch === false ? '' : 'f'}${(c.depth ?? 1) > 1 ? c.depth : ''}${c.crossTiles ? 'T' : ''}${c.split ? 'P' : ''}[^\\dTP]`));
        expect(choice.key).toContain(`:16:16:32:1:${c.warps ?? 1}:${c.rowTiles ?? 2}:2:`);
        expect(choice.approximate).toBe(c.uniform ? 'uniform' : 'dims');
      },
    });
  }, 120_000);

  it.each([
    { tiles: 1, target: 2048, nq: 37 },
    { tiles: 3, target: 3, nq: 37 },
    // Few queries: 64-row tiles (f16CodesRowTiles) of a 32-query block, 'chain' insertion.
    { tiles: 3, target: 3, nq: 3 },
    // k 2 (k' 18 <= block16MaxK): the 16-query block, two invocations a query, with 64-row tiles.
    { tiles: 3, target: 3, nq: 7, k: 2 },
  ])('a code plane (digitPlanes: the rows\' i8 codes made once), $tiles tile(s), $nq queries, k $k: the hook reads codes as int8 does, the results are the f16 rows\' exact best', async (c: { tiles: number; target: number; nq: number; k?: number }) => {
    await f16Case({
      seed: 195, tiles: c.tiles, nq: c.nq, k: c.k ?? 5, minRecall: 0.97, tuning: targets(c.target), options: { digitPlanes: true },
      check: (index, shard, kp) => {
        expect(index.plan!.digits).toBe(true);
        expect(index.plan!.shards[0]!.digitBytes).toBe(600 * 64);
        const choice = shard.scorerFor(c.nq, kp);
        expect(choice.key).toMatch(/stage\d+p4preuScm/);
        expect(choice.digits).toBe(true);
        expect(choice.approximate).toBe('dims');
      },
      afterSearch: (shard) => expect(shard.digitBytes).toBeGreaterThanOrEqual(600 * 64),
    });
  }, 120_000);

  it.each([true, false])('rows offset from 0 in a few dimensions (BERT-style outlier dimensions), code plane %s: codes centred on each dimension\'s range keep the results the f16 rows\' exact best (codes scaled from 0 lost most of them)', async (plane: boolean) => {
    // 12 queries: past f16MinBatch, where the conversion while staging (no plane) takes f16 batches.
    const d = 256, n = 3000, nq = 12, k = 10;
    const { base, q } = outlierRows(n, nq, d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', digitPlanes: plane, debugPoison: true });
    try {
      await index.add(base);
      const shard = (index as unknown as { shards: ShardView[] }).shards[0]!;
      expect(shard.scorerFor(nq, index.gpuK(k, nq)).key).toMatch(plane ? /stage\d+p4preuScm/ : /stage\d+p4preuFcm/);
      await expectF16Exact(index, toF16(base), q, d, k, 0.97);
    } finally {
      await index.dispose();
    }
  }, 300_000);

  it.each([
    { tiles: 1, target: 2048, nq: 37, scale: 1, listed: 'only' as const },
    { tiles: 3, target: 3, nq: 37, scale: 1, listed: 'only' as const },
    // 2 queries (f16HalfMinBatch) in a 32-query block, 32-row tiles, 'chain' insertion.
    { tiles: 3, target: 3, nq: 2, scale: 1, rowTiles: 2, listed: 'only' as const },
    // Queries far beyond f16's range (1e6: 65504 is its largest) and far below its normal range
    // (1e-7): the pre-pass scales each by a power of two before rounding it to halves.
    { tiles: 3, target: 3, nq: 37, scale: 1e6, listed: 'only' as const },
    { tiles: 1, target: 2048, nq: 37, scale: 1e-7, listed: 'only' as const },
    // Beside the i8 configs, with f16HalfFirst.
    { tiles: 3, target: 3, nq: 37, scale: 1, listed: 'also' as const, first: true },
  ])('f16 matrices (an f16 config $listed, shader-f16: StageOptions.rowsHalf), $tiles tile(s), $nq queries, queries x $scale: the rows multiplied as halves, no code plane, the results the f16 rows\' exact best', async (c: { tiles: number; target: number; nq: number; scale: number; rowTiles?: number; listed: 'only' | 'also'; first?: boolean }) => {
    halvesOn = c.listed;
    try {
      await f16Case({
        seed: 295, tiles: c.tiles, nq: c.nq, k: 5, qScale: c.scale, minRecall: 0.99,
        tuning: { ...targets(c.target), f16HalfRowTiles: c.rowTiles ?? 4, f16HalfFirst: !!c.first },
        check: (index, shard, kp) => {
          expect(index.plan!.digits).toBe(false);
          expect(index.gpuK(5, tensorTuning.f16HalfMinBatch - 1)).toBe(5);
          const choice = shard.scorerFor(c.nq, kp);
          expect(choice.key).toMatch(/stage\d+p4preuHcm/);
          expect(choice.key).toContain(`:16:16:16:1:1:${c.rowTiles ?? 4}:2:`);
          expect(choice.digits).toBeUndefined();
          expect(choice.approximate).toBe('unscaled');
        },
        afterSearch: (shard) => expect(shard.digitBytes).toBe(0),
      });
    } finally {
      halvesOn = undefined;
    }
  }, 120_000);

  it('three shards (devices) of two tiles each: each re-ranks its own candidates, the index merges their best', async () => {
    const d = 64, n = 900, nq = 21, k = 6;
    const base = normalizeRows(clusteredVectors(n, d, 12, 102), d);
    const q = normalizeRows(clusteredVectors(nq, d, 12, 103), d);
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, { targetWorkgroupsSmall: 4, targetWorkgroupsTiny: 4 });
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', devicesPerGpu: 3, maxTileBytes: 160 * d * 2, debugPoison: true });
    try {
      await index.add(base);
      const shards = (index as unknown as { shards: { ntotal: number; tileCount: number; scorerFor(nq: number, k: number): { approximate?: string } }[] }).shards;
      expect(shards.length).toBe(3);
      for (const shard of shards) {
        expect(shard.tileCount).toBeGreaterThanOrEqual(2);
        expect(shard.scorerFor(nq, index.gpuK(k, nq)).approximate).toBe('dims');
      }
      await expectF16Exact(index, toF16(base), q, d, k, 0.97);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it('f16TensorCores false: the f16 kernels answer every batch for k alone (exact ids)', async () => {
    const d = 64, n = 300, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 100), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 101), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', f16TensorCores: false, debugPoison: true });
    try {
      await index.add(base);
      expect(index.gpuK(k, nq)).toBe(k);
      const shard = (index as unknown as { shards: { scorerFor(nq: number, k: number): { key: string; approximate?: string } }[] }).shards[0]!;
      expect(shard.scorerFor(nq, 20).approximate).toBeUndefined();
      expect(shard.scorerFor(nq, 20).key).not.toContain('int8-mma');
      await expectF16Exact(index, toF16(base), q, d, k, 1);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('below f16MinBatch queries the f16 kernels answer for k alone (exact ids)', async () => {
    const d = 64, n = 300, nq = 3, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 98), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 99), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', debugPoison: true });
    try {
      await index.add(base);
      expect(index.gpuK(k, nq)).toBe(k);
      await expectF16Exact(index, toF16(base), q, d, k, 1);
    } finally {
      await index.dispose();
    }
  }, 120_000);
});

// f32 shards through the emulated hook (tensorTuning.f32): rows split into two i8 digits while staged,
// the final k' keys re-ranked exactly from the f32 rows (approx_rerank.wgsl), each list certified
// (approx-rerank.ts uncertifiedF32) or searched again with the f32 kernels: exact ids either way.
describe.skipIf(!hasGpu)('GpuFlatIndex f32 through the emulated tensor hook, re-ranked and certified', () => {
  type Shard = { uncertifiedQueries: number; scorerFor(nq: number, k: number): { key: string; approximate?: string } };
  const shardsOf = (index: GpuFlatIndex) => (index as unknown as { shards: Shard[] }).shards;

  it.each([
    { tiles: 1, target: 2048 },
    // Several tiles (each re-ranks the candidates among its rows and writes the floors it holds) of several segments.
    { tiles: 3, target: 3 },
    // 64-row tiles in 32-row parts (the shape from bigBatch queries).
    { tiles: 3, target: 3, rowTiles: 4 },
    // Chunks staged without prefetch.
    { tiles: 3, target: 3, prefetch: false },
    // Two warps a workgroup sharing each staged, split chunk (here from 0 queries).
    { tiles: 3, target: 3, warps: 2 },
    // (Two warps with 64-row tiles take 38 KiB of workgroup memory: more than the software adapter's 32.)
    { tiles: 1, target: 2048, warps: 2 },
  ])('$tiles tile(s), target $target, row tiles $rowTiles, prefetch $prefetch, warps $warps: the hook takes the batch, every list is certified, the ids are the oracle\'s', async (c: { tiles: number; target: number; rowTiles?: number; prefetch?: boolean; warps?: number }) => {
    const d = 64, n = 600, nq = 37, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 195), d);
    // One dimension 40x larger than the others: per-dimension steps keep the rest resolved.
    for (let i = 0; i < n; i++) base[i * d + 3]! *= 40;
    const q = normalizeRows(clusteredVectors(nq, d, 10, 196), d);
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, { targetWorkgroups: c.target, targetWorkgroupsSmall: c.target, targetWorkgroupsTiny: c.target, f32RowTiles: c.rowTiles ?? 2, f32RowTilesFrom: 4096, prefetch: c.prefetch ?? true, f32Warps: c.warps ?? 1, f32WarpsFrom: c.warps ? 0 : 256 });
    const tileBytes = c.tiles === 1 ? 1 << 20 : Math.ceil(n / c.tiles / 64) * 64 * d * 4;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes: tileBytes, debugPoison: true });
    try {
      await index.add(base);
      const kp = index.gpuK(k, nq);
      expect(kp).toBeGreaterThan(k);
      expect(index.gpuK(k, tensorTuning.f32MinBatch - 1)).toBe(k);
      const shard = shardsOf(index)[0]!;
      const choice = shard.scorerFor(nq, kp);
      expect(choice.key).toContain('int8-mma-emulated');
      expect(choice.key).toMatch(new RegExp(`stage\\d+p4preuWcm${c.prefetch === false ? '' : 'f'}`));
      expect(choice.key).toContain(`:16:16:32:1:${c.warps ?? 1}:${c.rowTiles ?? 2}:2:`);
      expect(choice.approximate).toBe('dims');
      await expectExact(index, base, q, d, k);
      expect(shard.uncertifiedQueries).toBe(0);
      // Rows added after a search: the steps are computed again (the new rows are 3x larger).
      const more = normalizeRows(clusteredVectors(200, d, 5, 197), d).map((v) => 3 * v);
      await index.add(more);
      const all = new Float32Array((n + 200) * d);
      all.set(base);
      all.set(more, n * d);
      await expectExact(index, all, q, d, k);
      expect(shard.uncertifiedQueries).toBe(0);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it.each([
    { scratchBytes: undefined },
    // Lists past the scratch budget: each tile merged into the running list in turn (not shared).
    { scratchBytes: 4096 },
  ])('digit planes for the first tile only (gpuMemory holds no more), scratch $scratchBytes: from f32MinBatch the f32 kernels score the other tiles in the same searches (lists of k widened to k\'), the lists are certified, the ids the oracle\'s', async (c: { scratchBytes?: number }) => {
    const d = 64, n = 600, nq = 37, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 215), d);
    for (let i = 0; i < n; i++) base[i * d + 3]! *= 40;
    const q = normalizeRows(clusteredVectors(nq, d, 10, 216), d);
    const tileBytes = 200 * d * 4;
    const opts = { precision: 'f32' as const, digitPlanes: true, maxTileBytes: tileBytes, debugPoison: true, ...(c.scratchBytes ? { scratchBytes: c.scratchBytes } : {}) };
    // The plan's bytes without a memory limit, then a limit that holds one tile's planes (2 bytes a dimension) and no more.
    const probe = await GpuFlatIndex.create(d, 'ip', opts);
    await probe.add(base);
    const p = probe.plan!.shards[0]!;
    await probe.dispose();
    expect(p.tiles).toEqual([200, 200, 200]);
    const gpuMemory = p.baseBytes + p.tempBytes + 200 * d * 2 + 1000;
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, { targetWorkgroups: 3, targetWorkgroupsSmall: 3, targetWorkgroupsTiny: 3 });
    const index = await GpuFlatIndex.create(d, 'ip', { ...opts, gpuMemory });
    try {
      await index.add(base);
      expect(index.plan!.digits).toBe(true);
      expect(index.plan!.shards[0]!.digitTiles).toBe(1);
      const shard = shardsOf(index)[0]! as Shard & { digitBytes: number; tempBytes: number };
      // Below f32MinBatch the f32 kernels take every tile.
      const few = tensorTuning.f32MinBatch - 1;
      expect(index.gpuK(k, few)).toBe(k);
      await expectExact(index, base, q.subarray(0, few * d), d, k);
      expect(shard.digitBytes).toBe(0);
      // From f32MinBatch the mix (call q1: faster than the f32 kernels alone from 9 queries), the
      // 16-query block too.
      const small = 12;
      expect(index.gpuK(k, small)).toBeGreaterThan(k);
      await expectExact(index, base, q.subarray(0, small * d), d, k);
      expect(shard.digitBytes).toBe(200 * d * 2);
      const kp = index.gpuK(k, nq);
      expect(kp).toBeGreaterThan(k);
      expect(shard.scorerFor(nq, kp).key).toMatch(/stage\d+p4preuWcm/);
      await expectExact(index, base, q, d, k);
      expect(shard.digitBytes).toBe(200 * d * 2);
      expect(shard.uncertifiedQueries).toBe(0);
      // The planner's model of a mixed batch's temporary bytes (the lists at k', the tensor path's
      // extras, the exact tiles' lists of k), at the largest of the batches run, covers what the
      // shard holds (its buffers kept from batch to batch); the plan's own figure too.
      const scratch = c.scratchBytes ?? 256 << 20; // flat-index's default scratch budget
      const modelled = (b: number) => tempBytes(d, index.gpuK(k, b), b, scratch, 2 ** 31, p.tiles, 'f32') + tensorExtraBytes(d, k, b, index.gpuK(k, b), 200, true);
      expect(shard.tempBytes).toBeLessThanOrEqual(Math.max(modelled(small), modelled(nq)));
      expect(shard.tempBytes).toBeLessThanOrEqual(index.plan!.tempBytes);
      // 20 rows more take part of the room the planes had: none planned now (their buffer freed), the f32 kernels alone.
      const more = normalizeRows(clusteredVectors(20, d, 5, 217), d);
      await index.add(more);
      expect(index.plan!.digits).toBe(false);
      expect(shard.digitBytes).toBe(0);
      const all = new Float32Array((n + 20) * d);
      all.set(base);
      all.set(more, n * d);
      await expectExact(index, all, q, d, k);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it('digit planes for the first tile only: warmUp(k) compiles the f32 kernels of the other tiles for the caller\'s k beside the tensor path\'s k\' and the f32 kernels of the smaller batches: searches of 1 to 37 queries compile none, exact', async () => {
    const d = 64, n = 600, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 218), d);
    const opts = { precision: 'f32' as const, digitPlanes: true, maxTileBytes: 200 * d * 4, debugPoison: true };
    const probe = await GpuFlatIndex.create(d, 'ip', opts);
    await probe.add(base);
    const p = probe.plan!.shards[0]!;
    await probe.dispose();
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, { targetWorkgroups: 3, targetWorkgroupsSmall: 3, targetWorkgroupsTiny: 3 });
    const index = await GpuFlatIndex.create(d, 'ip', { ...opts, gpuMemory: p.baseBytes + p.tempBytes + 200 * d * 2 + 1000 });
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.digitTiles).toBe(1);
      index.warmUp(k);
      const shard = shardsOf(index)[0]! as Shard & { pipelineCount: number };
      const compiled = shard.pipelineCount;
      for (const nq of [1, tensorTuning.f32MinBatch - 1, tensorTuning.f32MinBatch, 12, 16, 37]) {
        const q = normalizeRows(clusteredVectors(nq, d, 10, 219 + nq), d);
        await expectExact(index, base, q, d, k);
        expect(shard.pipelineCount, `${nq} queries`).toBe(compiled);
      }
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it('three shards (devices) of two tiles each: each certifies its own lists for the caller\'s k, the index merges their best (exact ids)', async () => {
    const d = 64, n = 900, nq = 21, k = 6;
    const base = normalizeRows(clusteredVectors(n, d, 12, 204), d);
    const q = normalizeRows(clusteredVectors(nq, d, 12, 205), d);
    const saved = { ...tensorTuning };
    Object.assign(tensorTuning, { targetWorkgroupsSmall: 4, targetWorkgroupsTiny: 4 });
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, devicesPerGpu: 3, maxTileBytes: 160 * d * 4, debugPoison: true });
    try {
      await index.add(base);
      const shards = shardsOf(index) as (Shard & { tileCount: number })[];
      expect(shards.length).toBe(3);
      for (const shard of shards) {
        expect(shard.tileCount).toBeGreaterThanOrEqual(2);
        expect(shard.scorerFor(nq, index.gpuK(k, nq)).approximate).toBe('dims');
      }
      await expectExact(index, base, q, d, k);
      for (const shard of shards) expect(shard.uncertifiedQueries).toBe(0);
    } finally {
      Object.assign(tensorTuning, saved);
      await index.dispose();
    }
  }, 120_000);

  it('rows added while searches run: each search is exact for the rows before or after the add, and the next one for all', async () => {
    const d = 64, n = 300, nq = 20, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 208), d);
    // The new rows are copies of the queries, scaled: each query's best row is among them.
    const q = normalizeRows(clusteredVectors(nq, d, 10, 209), d);
    const more = q.map((v) => 2 * v);
    const all = new Float32Array((n + nq) * d);
    all.set(base);
    all.set(more, n * d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes: 64 * d * 4, debugPoison: true });
    try {
      await index.add(base);
      await index.search(q, k);
      // Searches and an add (which grows the last tile and makes new digits) in flight together.
      const [before, , after] = await Promise.all([index.search(q, k), index.add(more), index.search(q, k)]);
      const oldWant = bruteForce(base, q, d, k, 'ip');
      const newWant = bruteForce(all, q, d, k, 'ip');
      for (const got of [before, after]) {
        const same = (want: typeof oldWant) => Array.from(got.labels).every((id, i) => Number(id) === want.labels[i]);
        expect(same(oldWant) || same(newWant)).toBe(true);
      }
      await expectExact(index, all, q, d, k);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('one pass over the rows per version gives both the score-range check and the code steps (an add makes one more)', async () => {
    const d = 64, n = 300, nq = 20, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 212), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 213), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(base.subarray(0, 200 * d));
      const shard = shardsOf(index)[0]! as unknown as { deviceRanges(): Promise<unknown> };
      const passes = vi.spyOn(shard, 'deviceRanges');
      await expectExact(index, base.subarray(0, 200 * d), q, d, k);
      await index.search(q, k);
      expect(passes).toHaveBeenCalledTimes(1);
      await index.add(base.subarray(200 * d));
      await expectExact(index, base, q, d, k);
      expect(passes).toHaveBeenCalledTimes(2);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('warmUp makes the steps and digit planes and compiles every pipeline: the first search compiles none', async () => {
    const d = 64, n = 300, nq = 32, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 206), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 207), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(base);
      index.warmUp(k);
      const shard = shardsOf(index)[0]! as Shard & { pipelineCount: number; digitBytes: number };
      const compiled = shard.pipelineCount;
      await expectExact(index, base, q, d, k);
      expect(shard.pipelineCount).toBe(compiled);
      expect(shard.digitBytes).toBeGreaterThanOrEqual(n * d * 2);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('k 40: k\' capped at the lists\' 64 (certified, so fewer candidates than 4k suffice), exact ids', async () => {
    const d = 64, n = 600, nq = 20, k = 40;
    const base = normalizeRows(clusteredVectors(n, d, 10, 210), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 211), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(base);
      expect(index.gpuK(k, nq)).toBe(tensorTuning.maxK);
      expect(index.gpuK(60, nq)).toBe(60); // 64 < 60 + 8: the f32 kernels, for k alone
      await expectExact(index, base, q, d, k);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('rows offset from 0 in a few dimensions (BERT-style outlier dimensions): digits centred on each dimension\'s range certify every query (digits scaled from 0 certified none), exact ids', async () => {
    const d = 256, n = 3000, nq = 12, k = 10;
    const { base, q } = outlierRows(n, nq, d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(base);
      const shard = shardsOf(index)[0]!;
      expect(shard.scorerFor(nq, index.gpuK(k, nq)).key).toContain('int8-mma-emulated');
      await expectExact(index, base, q, d, k);
      expect(shard.uncertifiedQueries).toBe(0);
    } finally {
      await index.dispose();
    }
  }, 300_000);

  it('lists the certificate cannot vouch for (more tied best rows than k\') are searched again by the f32 kernels', async () => {
    const d = 64, n = 400, nq = 20, k = 3;
    const base = normalizeRows(clusteredVectors(n, d, 8, 198), d);
    const q = normalizeRows(clusteredVectors(nq, d, 8, 199), d);
    // 60 copies of the first query at ids 100-159: every query's list of k' = 19 holds only copies
    // where its best rows are copies, the floor equals its k-th key, and no bound is below zero.
    for (let c = 0; c < 60; c++) base.set(q.subarray(0, d), (100 + c) * d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(base);
      expect(index.gpuK(k, nq)).toBe(19);
      const shard = shardsOf(index)[0]!;
      expect(shard.scorerFor(nq, 19).key).toContain('int8-mma-emulated');
      const got = await index.search(q, k);
      expect(shard.uncertifiedQueries).toBeGreaterThanOrEqual(1);
      // Query 0 finds its copies, lowest ids first (the exact kernels' order of ties).
      expect(Array.from(got.labels.subarray(0, k))).toEqual([100n, 101n, 102n]);
      await expectExact(index, base, q, d, k);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('digit planes the device cannot hold: the shard keeps the f32 kernels (exact ids) and says why', async () => {
    const d = 64, n = 300, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 202), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 203), d);
    const spy: GpuSpy = { buffers: [], oomLabel: /digits/ };
    const said: string[] = [];
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, gpu: wrapGpu((await resolveGpu())!, spy), debugPoison: true, onNotice: (m) => said.push(m) });
    try {
      await index.add(base);
      expect(index.gpuK(k, nq)).toBeGreaterThan(k);
      // Two searches in flight meet the same refused allocation: both go on (the second threw it).
      const both = await Promise.all([index.search(q, k), index.search(q, k)]);
      expect([...both[1].labels]).toEqual([...both[0].labels]);
      await expectExact(index, base, q, d, k);
      const shard = shardsOf(index)[0]! as Shard & { digitsRefused?: string };
      expect(shard.digitsRefused).toMatch(/could not allocate tessera f32 digits .* injected/);
      expect(index.digitsRefused).toBe(shard.digitsRefused);
      // Said once, through onNotice.
      expect(said.filter((m) => /digit planes did not fit/.test(m))).toEqual([expect.stringMatching(/^adapter 0: the digit planes did not fit beside the rows \(.*injected.*\); from now on f32 runs the f32 kernels, with the same results/)]);
      expect(index.gpuK(k, nq)).toBe(k);
      await expectExact(index, base, q, d, k);
    } finally {
      await index.dispose();
    }
    // f16 goes on through the tensor cores, converting its rows as it reads them.
    const f16 = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', digitPlanes: true, gpu: wrapGpu((await resolveGpu())!, spy), debugPoison: true });
    try {
      await f16.add(base);
      const got = await f16.search(q, k);
      const shard = shardsOf(f16)[0]! as Shard & { digitsRefused?: string };
      expect(shard.digitsRefused).toMatch(/could not allocate tessera f16 digits/);
      expect(f16.gpuK(k, nq)).toBeGreaterThan(k);
      expect(shard.scorerFor(nq, f16.gpuK(k, nq)).key).toMatch(/stage\d+p4preuFcm/);
      const rows = base.map((v) => fromHalfBits(toHalfBits(v)));
      expect(recallAtK(got, bruteForce(rows, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.97);
    } finally {
      await f16.dispose();
    }
  }, 120_000);

  it('an index filled by several adds holds the planes its plan counts (its rows\' planes, not its grown tile\'s capacity), exact ids', async () => {
    const d = 64, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(300, d, 10, 206), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 207), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      // Three adds: the tile starts at 1024 rows and holds 300.
      for (let i = 0; i < 3; i++) await index.add(base.subarray(i * 100 * d, (i + 1) * 100 * d));
      expect(index.gpuK(k, nq)).toBeGreaterThan(k);
      await expectExact(index, base, q, d, k);
      const shard = shardsOf(index)[0]! as Shard & { digitBytes: number };
      expect(shard.digitBytes).toBe(300 * d * 2);
      expect(shard.digitBytes).toBe(index.plan!.shards[0]!.digitBytes);
      // One more add: the planes are made again for the 310 rows.
      const more = normalizeRows(clusteredVectors(10, d, 10, 208), d);
      await index.add(more);
      const all = new Float32Array(310 * d);
      all.set(base);
      all.set(more, 300 * d);
      await expectExact(index, all, q, d, k);
      expect(shard.digitBytes).toBe(310 * d * 2);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('f32 planes that fit only in part (a plan counting more than the device holds, as 79.6 GiB on an 80 GB H100): the first tiles keep theirs, one fewer than allocated, the f32 kernels score the rest, exact ids, said once; f16 and a cut before tile 2 refuse them whole', async () => {
    const d = 64, n = 1000, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 218), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 219), d);
    const maxTileBytes = 200 * d * 4;
    // Tiles 0-2's planes allocate, tile 3's does not: planes kept for tiles 0-1 (tile 2's freed for the searches' buffers).
    let planeAttempts = 0;
    const cutAt3 = { test: (label: string) => (/f32 digits/.test(label) && planeAttempts++, /f32 digits [3-9]/.test(label)) } as RegExp;
    const spy: GpuSpy = { buffers: [], oomLabel: cutAt3 };
    const said: string[] = [];
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes, gpu: wrapGpu((await resolveGpu())!, spy), debugPoison: true, onNotice: (m) => said.push(m) });
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([200, 200, 200, 200, 200]);
      expect(index.plan!.shards[0]!.digitTiles).toBe(5);
      const kp = index.gpuK(k, nq);
      expect(kp).toBeGreaterThan(k);
      await expectExact(index, base, q, d, k);
      const shard = shardsOf(index)[0]! as Shard & { digitBytes: number; digitsCut?: string; digitTilesPlanned: number };
      expect(shard.digitBytes).toBe(2 * 200 * d * 2);
      expect(shard.digitTilesPlanned).toBe(2);
      expect(shard.digitsCut).toMatch(/^adapter 0: digit planes for 2 of the 5 planned tiles fit beside the rows \(tile 3's: the GPU could not allocate tessera f32 digits 3 of \d+ bytes on adapter 0: injected: [^;]*\)$/);
      expect(index.digitsRefused).toBeUndefined();
      expect(index.digitsCut).toBe(shard.digitsCut);
      // The tensor path stays on for the first tiles; the f32 kernels' lists of the others join them (shaders/list_widen.wgsl).
      expect(index.gpuK(k, nq)).toBe(kp);
      expect(shard.uncertifiedQueries).toBe(0);
      await expectExact(index, base, q, d, k);
      // Said once; the planes are not tried again for the same rows.
      expect(said.filter((m) => /planned tiles fit/.test(m))).toEqual([expect.stringMatching(/^adapter 0: digit planes for 2 of the 5 planned tiles fit beside the rows .*; the f32 kernels score the other tiles in the same searches, with the same results/)]);
      expect(planeAttempts).toBe(4);
    } finally {
      await index.dispose();
    }
    // Nothing kept when the cut comes at tile 1 (one tile's planes, freed for the searches): refused whole.
    const early = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes, gpu: wrapGpu((await resolveGpu())!, { buffers: [], oomLabel: /f32 digits [1-9]/ }), debugPoison: true });
    try {
      await early.add(base);
      await expectExact(early, base, q, d, k);
      expect(early.digitsRefused).toMatch(/could not allocate tessera f32 digits 1/);
      expect(early.digitsCut).toBeUndefined();
      expect(early.gpuK(k, nq)).toBe(k);
    } finally {
      await early.dispose();
    }
    // f16's code plane is for every tile or none: a cut at tile 3 refuses it whole (it converts while staging).
    const f16 = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', digitPlanes: true, maxTileBytes: 200 * d * 2, gpu: wrapGpu((await resolveGpu())!, { buffers: [], oomLabel: /f16 digits [3-9]/ }), debugPoison: true });
    try {
      await f16.add(base);
      const got = await f16.search(q, k);
      expect(f16.digitsRefused).toMatch(/could not allocate tessera f16 digits 3/);
      expect(f16.digitsCut).toBeUndefined();
      const rows = base.map((v) => fromHalfBits(toHalfBits(v)));
      expect(recallAtK(got, bruteForce(rows, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.97);
    } finally {
      await f16.dispose();
    }
  }, 120_000);

  it('digit planes refused at warmUp: said once then (the serving start-up), and searches go on exactly without them', async () => {
    const d = 64, n = 300, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 204), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 205), d);
    const spy: GpuSpy = { buffers: [], oomLabel: /digits/ };
    const said: string[] = [];
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, gpu: wrapGpu((await resolveGpu())!, spy), debugPoison: true, onNotice: (m) => said.push(m) });
    try {
      await index.add(base);
      index.warmUp(k);
      await vi.waitFor(() => expect(index.digitsRefused).toMatch(/could not allocate tessera f32 digits/), { timeout: 20_000 });
      expect(said.filter((m) => /digit planes did not fit/.test(m))).toHaveLength(1);
      expect(index.gpuK(k, nq)).toBe(k);
      await expectExact(index, base, q, d, k);
      expect(said.filter((m) => /digit planes did not fit/.test(m))).toHaveLength(1);
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('f32TensorCores false, or fewer than f32MinBatch queries: the f32 kernels answer for k alone', async () => {
    const d = 64, n = 300, nq = 37, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 200), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 201), d);
    const off = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', f32TensorCores: false, debugPoison: true });
    const on = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await off.add(base);
      await on.add(base);
      expect(off.gpuK(k, nq)).toBe(k);
      expect(shardsOf(off)[0]!.scorerFor(nq, 20).key).not.toContain('int8-mma');
      await expectExact(off, base, q, d, k);
      expect(on.gpuK(k, tensorTuning.f32MinBatch - 1)).toBe(k);
      await expectExact(on, base, q.subarray(0, (tensorTuning.f32MinBatch - 1) * d), d, k);
    } finally {
      await off.dispose();
      await on.dispose();
    }
  }, 120_000);
});

describe.skipIf(!hasGpu)('tensor hook pre-pass (int8_mma_prep.wgsl)', () => {
  it('quantises every query as the CPU does in float32, pads the block with zeros and writes every word', async () => {
    const ctx = await acquireDevice();
    try {
      const device = ctx.device;
      const d = 96, nq = 37, q4 = d / 4;
      const p = planTensorHook(
        { precision: 'int8', metric: 'ip', rowWords: d / 16, configs: [EMULATED_CONFIG], features: new Set([SUBGROUP_MATRIX_FEATURE]), subgroupSize: 32, maxWorkgroupStorage: 49152 },
        nq,
        10,
      );
      if (!('shape' in p)) throw new Error(p.reason);
      const { prep } = hookShape(p.shape, nq);
      const nqPad = 64;
      expect(prep).toEqual({ bytes: nqPad * d + nqPad * 16, groups: [nqPad, 1] });
      const r = rng(5);
      const q = new Float32Array(nq * d).map(() => r() * 2 - 1);
      q.fill(0, 7 * d, 8 * d); // a zero query: scale 1, codes 0
      const sq = new Float32Array(2 * d);
      for (let j = 0; j < d; j++) {
        sq[j] = r() - 0.5;
        sq[d + j] = j % 17 === 0 ? 0 : (r() + 0.01) / 255;
      }
      const buf = (data: ArrayBufferView & { byteLength: number }, usage: number) => {
        const b = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage: usage | BufferUsage.COPY_DST });
        device.queue.writeBuffer(b, 0, data as Uint8Array<ArrayBuffer>);
        return b;
      };
      const params = buf(new Uint32Array([nq, 0, d / 16, q4, 10, 0, 0, 0, 0, 0, 0, 0]), BufferUsage.UNIFORM);
      const qBuf = buf(q, BufferUsage.STORAGE);
      const sqBuf = buf(sq, BufferUsage.STORAGE);
      // Poisoned: any word the pass leaves unwritten stands out.
      const out = buf(new Uint32Array(prep!.bytes / 4).fill(0xdeadbeef), BufferUsage.STORAGE | BufferUsage.COPY_SRC);
      const read = device.createBuffer({ size: prep!.bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      const pipe = prepPipeline(device, p.shape);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipe);
      pass.setBindGroup(0, device.createBindGroup({
        layout: pipe.getBindGroupLayout(0),
        entries: [params, qBuf, sqBuf, out].map((b, binding) => ({ binding, resource: { buffer: b } })),
      }));
      pass.dispatchWorkgroups(...prep!.groups);
      pass.end();
      enc.copyBufferToBuffer(out, 0, read, 0, prep!.bytes);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const words = new Uint32Array(read.getMappedRange().slice(0));
      read.unmap();
      expect(words.indexOf(0xdeadbeef)).toBe(-1);
      const codes = new Int8Array(words.buffer, 0, nqPad * d);
      const meta = new DataView(words.buffer, nqPad * d);
      const f = Math.fround;
      const roundEven = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
      let off = 0;
      for (let i = 0; i < nqPad; i++) {
        const scale = meta.getFloat32(16 * i, true);
        const qv = meta.getFloat32(16 * i + 4, true);
        const suma = meta.getInt32(16 * i + 8, true);
        expect(meta.getUint32(16 * i + 12, true)).toBe(0);
        const row = Array.from(codes.subarray(i * d, (i + 1) * d));
        if (i >= nq) {
          expect([scale, qv, suma], `padded query ${i}`).toEqual([0, 0, 0]);
          expect(row.every((c) => c === 0)).toBe(true);
          continue;
        }
        const y = Array.from({ length: d }, (_, j) => f(q[i * d + j]! * sq[d + j]!));
        const m = Math.max(...y.map(Math.abs));
        const s = m > 0 ? f(m / 127) : 1;
        // WGSL's f32 division is within 2.5 ulp, not correctly rounded.
        expect(Math.abs(scale - s)).toBeLessThanOrEqual(4 * Math.max(s * 2 ** -23, 1e-45));
        expect(suma, `query ${i}: sum a`).toBe(row.reduce((a, c) => a + c, 0));
        let v = 0;
        for (let j = 0; j < d; j++) v += q[i * d + j]! * sq[j]!;
        expect(Math.abs(qv - v)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v)));
        for (let j = 0; j < d; j++) {
          const want = Math.max(-127, Math.min(127, roundEven(f(y[j]! / scale))));
          if (row[j] !== want) off++;
          expect(Math.abs(row[j]! - want)).toBeLessThanOrEqual(1);
        }
      }
      // Off-by-one codes only where y / s lands on a rounding tie within the division's error.
      expect(off).toBeLessThanOrEqual(2);
    } finally {
      ctx.destroy();
    }
  });
});

/**
 * The hook kernel dispatched by itself (emulated matrices) on one tile: every (query, segment) list
 * equals the CPU's best k rows of that segment by the integer dot product of the pre-pass's codes
 * with the rows' i8 codes (ties to the lower id), ids exact, keys the f32 formula, empty slots marked,
 * lists placed at segAt. Tie-heavy data (codes 127..129, queries of +-1 and 0) makes most keys equal,
 * so an insertion order that differs from the row order shows up as different ids. Several segments,
 * a partial last block, a partial query block; 32-dim chunks over 128 dims (4 chunks: prefetch crosses
 * chunks). Every selection x prefetch variant.
 */
describe.skipIf(!hasGpu)('tensor hook kernel lists (emulated matrices)', () => {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await acquireDevice();
  });
  afterAll(() => ctx?.destroy());

  const variants = (['row', 'mask'] as const).flatMap((select) => [false, true].flatMap((prefetch) => (['ties', 'random'] as const).map((data) => ({ select, prefetch, data, rowTiles: 2 }))));
  // 64-row tiles (the default from bigBatch queries): two mask groups a block, the last segment's
  // second group past its end.
  variants.push({ select: 'mask', prefetch: true, data: 'ties', rowTiles: 4 }, { select: 'mask', prefetch: true, data: 'random', rowTiles: 4 });
  // Several warps a workgroup, each its own 32 queries against the shared staged rows (offsets from
  // subgroup_id, emulated as lid / 32): 100 queries are two blocks of 64 (the second: warp 0 full,
  // warp 1 4 live queries) or one of 128 (the last warp idle). A wrong warp offset in the query
  // fragments or the scores tile gives some query another query's (or no) lists.
  const warpVariants: { select: 'row' | 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; warps?: number; branch?: boolean; lists?: 'reg' | 'wg' }[] = [
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, warps: 2 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 2, warps: 2 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, warps: 2 },
    { select: 'row', prefetch: false, data: 'random', rowTiles: 2, warps: 4 },
    // (4 warps with 64-row tiles need 42 KiB of workgroup memory: over the software adapter's 32 KiB.)
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, warps: 4 },
    // warpBranch: each warp's multiplies and stores in its own `if (sid == w)` branch, constant
    // offsets. (4 warps: the emulated kernel takes lavapipe ~80-110 s to compile; the device bench
    // checks those lists against the 1-warp kernel's.)
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, warps: 2, branch: true },
    // Lists in workgroup memory (tensorTuning.lists 'wg').
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, lists: 'wg' },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, lists: 'wg' },
    { select: 'mask', prefetch: false, data: 'random', rowTiles: 2, lists: 'wg' },
  ];
  // The 16-query block (tensorTuning.block16): two invocations a query, alternate rows, the two lists
  // merged at the end of the segment. 1..16 queries (a partial block: part 0 of the dead queries
  // writes nothing), k' from 16 to 60 of 64-row segments (the last segment 44 rows: empty slots at
  // k' 60), tie data (equal keys of the two halves must merge in id order).
  const block16Variants: { select: 'row' | 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; block16: true; nq: number; k: number }[] = [
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, block16: true, nq: 16, k: 16 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 2, block16: true, nq: 16, k: 60 },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, block16: true, nq: 1, k: 60 },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 4, block16: true, nq: 11, k: 40 },
    { select: 'mask', prefetch: false, data: 'random', rowTiles: 2, block16: true, nq: 5, k: 1 },
    { select: 'row', prefetch: true, data: 'ties', rowTiles: 2, block16: true, nq: 13, k: 40 },
  ];
  // Queries held in workgroup memory for the segment (tensorTuning.queries 'hold': the pre-pass's
  // codes copied once, only rows staged a chunk) and the flat insertion (tensorTuning.insert
  // 'flat'), alone and together, with both selections, both tile heights, a partial query block
  // (40 = 32 + 8) and k' up to 60 of 64-row segments (empty slots).
  const holdVariants: { select: 'row' | 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; queries?: 'pre' | 'hold'; insert?: 'chain' | 'flat'; k?: number; block16?: boolean; nq?: number }[] = [
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, queries: 'hold' },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, queries: 'hold' },
    { select: 'row', prefetch: false, data: 'random', rowTiles: 2, queries: 'hold' },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, insert: 'flat' },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, insert: 'flat', k: 60 },
    { select: 'row', prefetch: false, data: 'ties', rowTiles: 2, insert: 'flat' },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 4, queries: 'hold', insert: 'flat', k: 40 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 2, queries: 'hold', insert: 'flat', k: 1 },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, insert: 'flat', block16: true, nq: 13, k: 40 },
  ];
  // Packed lists (tensorTuning.lists 'packed': key << bits | slot in registers, ids in workgroup
  // memory at their slot): ties (equal keys must keep id order through the packed compares), k' 60
  // (6 slot bits, empty slots in the last segment), 40, 16, 1 (one slot bit), chain and flat.
  const packedVariants: { select: 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; lists: 'packed'; insert?: 'chain' | 'flat'; k?: number }[] = [
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, lists: 'packed' },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, lists: 'packed', k: 60 },
    { select: 'mask', prefetch: false, data: 'ties', rowTiles: 4, lists: 'packed', k: 40 },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 2, lists: 'packed', insert: 'flat', k: 40 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 2, lists: 'packed', insert: 'flat', k: 1 },
  ];
  // The scores tile stored and selected 32 rows at a time (tensorTuning.selectRows) with 64-row
  // tiles: the second part's rows must keep their ids (row offset 32) and the segment's end (the
  // last segment's second part past segEnd), ties in id order across the parts.
  const partVariants: { select: 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; selectRows: number; insert?: 'chain' | 'flat'; k?: number; lists?: 'wg' }[] = [
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 4, selectRows: 32 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, selectRows: 32, insert: 'flat', k: 60 },
    { select: 'mask', prefetch: false, data: 'ties', rowTiles: 4, selectRows: 32, insert: 'flat', k: 40 },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 4, selectRows: 32, lists: 'wg' },
  ];
  // Shared bounds (tensorTuning.share: B buckets at the end of out, m = ceil(k / B)). 'kth': every
  // bucket starts at the query's true k-th best key (a bound the kernel may only use, never raise
  // past it), so each list must be exactly its segment's rows scoring >= that key, best first;
  // 'zero': no bound at first (what the shard's clear gives), the lists are prefixes of their
  // segment's top k, together they hold the query's top k, and bucket b ends at the largest m-th key
  // of the segments s = b mod B. Ties (equal keys at the bound), k 40 of 64-row segments, 3 buckets.
  const shareVariants: { select: 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; selectRows?: number; insert?: 'chain' | 'flat'; k?: number; share: number; bound: 'kth' | 'zero'; nq?: number }[] = [
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, selectRows: 32, insert: 'flat', k: 16, share: 8, bound: 'kth' },
    { select: 'mask', prefetch: true, data: 'ties', rowTiles: 4, selectRows: 32, insert: 'flat', k: 16, share: 8, bound: 'kth' },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 2, insert: 'chain', k: 40, share: 3, bound: 'kth', nq: 37 },
    { select: 'mask', prefetch: true, data: 'random', rowTiles: 4, selectRows: 32, insert: 'flat', k: 16, share: 8, bound: 'zero' },
    { select: 'mask', prefetch: false, data: 'ties', rowTiles: 2, insert: 'flat', k: 40, share: 3, bound: 'zero' },
  ];
  it.each([...variants, ...warpVariants, ...block16Variants, ...holdVariants, ...packedVariants, ...partVariants, ...shareVariants])('select $select, prefetch $prefetch, $rowTiles row tiles, $data data, warps $warps, branch $branch, lists $lists, block16 $block16 nq $nq k $k, queries $queries, insert $insert, selectRows $selectRows, share $share bound $bound: lists equal the CPU integer top-k', async (c: { select: 'row' | 'mask'; prefetch: boolean; data: 'ties' | 'random'; rowTiles: number; warps?: number; branch?: boolean; lists?: 'reg' | 'wg' | 'packed'; block16?: boolean; nq?: number; k?: number; queries?: 'pre' | 'hold'; insert?: 'chain' | 'flat'; selectRows?: number; share?: number; bound?: 'kth' | 'zero' }) => {
    const device = ctx!.device;
    const warps = c.warps ?? 1;
    const d = 128, rowWords = d / 16, q4 = d / 4, n = 300, nq = c.nq ?? (warps > 1 ? 100 : 40), k = c.k ?? 16;
    const segLen = 64, nseg = Math.ceil(n / segLen), segAt = 2, nsegTotal = nseg + 3, idBase = 1000;
    const saved = { ...tensorTuning };
    tensorTuning.select = c.select;
    tensorTuning.prefetch = c.prefetch;
    tensorTuning.kc = 32;
    tensorTuning.rowTiles = c.rowTiles;
    tensorTuning.rowTilesBig = c.rowTiles;
    tensorTuning.warps = warps;
    tensorTuning.warpBranch = c.branch ?? false;
    tensorTuning.lists = c.lists ?? 'reg';
    tensorTuning.block16 = c.block16 ?? false;
    tensorTuning.block16MaxK = 64;
    tensorTuning.minBatch = 1;
    tensorTuning.queries = c.queries ?? 'pre';
    tensorTuning.insert = c.insert ?? 'chain';
    tensorTuning.insertFrom = 0;
    tensorTuning.selectRows = c.selectRows ?? 0;
    tensorTuning.share = c.share ?? 0;
    // 100 queries (several warps) are past midBatch: the case's tiles there too.
    tensorTuning.rowTilesMid = c.rowTiles;
    const plan = planTensorHook(
      { precision: 'int8', metric: 'ip', rowWords, configs: [EMULATED_CONFIG], features: new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups']), subgroupSize: 32, maxWorkgroupStorage: 49152 },
      nq,
      k,
    );
    Object.assign(tensorTuning, saved);
    if (!('shape' in plan)) throw new Error(plan.reason);
    const shape = plan.shape;
    expect(shape.stage).toMatchObject({ select: c.select, prefetch: c.prefetch, kc: 32, queries: c.queries ?? 'pre' });
    expect(shape.stage?.insert ?? 'chain').toBe(c.insert ?? 'chain');
    expect(shape.stage?.selectRows).toBe(c.selectRows);
    expect(shape.stage?.share).toBe(c.share);
    if (c.insert === 'flat') expect(hookSource(shape)).toContain(c.lists === 'packed' ? 'let fs0 = pk > kk_0;' : 'let fs0 = key > kk_0;');
    expect(shape.rowTiles).toBe(c.rowTiles);
    expect(shape.sgQueries).toBe(warps);
    expect(!!shape.stage?.warpBranch).toBe(!!c.branch);
    expect(shape.stage?.lists ?? 'reg').toBe(c.lists ?? 'reg');
    expect(shape.queryTiles).toBe(c.block16 ? 1 : 2);
    if (c.branch) {
      // Every matrix offset a constant expression: no `wq0` / `wr0` (sid-derived) left.
      const src = hookSource(shape);
      expect(src).toContain(`if (sid == ${warps - 2}u) {`);
      expect(src).not.toMatch(/\bw[qr]0\b/);
    }
    const r = rng(c.data === 'ties' ? 7 : 8);
    const codes = new Uint8Array(n * d).map(() => (c.data === 'ties' ? 127 + Math.floor(r() * 3) : Math.floor(r() * 256)));
    const q = new Float32Array(nq * d).map(() => (c.data === 'ties' ? Math.floor(r() * 3) - 1 : r() * 2 - 1));
    const sq = new Float32Array(2 * d);
    for (let j = 0; j < d; j++) {
      sq[j] = r() - 0.5;
      sq[d + j] = c.data === 'ties' ? 1 : (r() + 0.01) / 255;
    }
    const bufs: GPUBuffer[] = [];
    const buf = (data: ArrayBufferView & { byteLength: number }, usage: number) => {
      const b = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage: usage | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
      device.queue.writeBuffer(b, 0, data as Uint8Array<ArrayBuffer>);
      bufs.push(b);
      return b;
    };
    try {
      const { prep, BQ, scratch } = hookShape(shape, nq);
      expect(BQ).toBe(c.block16 ? 16 : 32 * warps);
      const nqPad = Math.ceil(nq / BQ) * BQ;
      const prepParams = buf(new Uint32Array([nq, 0, rowWords, q4, k, 0, 0, 0, 0, 0, 0, 0]), BufferUsage.UNIFORM);
      const params = buf(new Uint32Array([nq, n, rowWords, q4, k, segLen, nsegTotal, idBase, segAt, 0, 0, 0]), BufferUsage.UNIFORM);
      const tile = buf(codes, BufferUsage.STORAGE);
      const qBuf = buf(q, BufferUsage.STORAGE);
      const sqBuf = buf(sq, BufferUsage.STORAGE);
      const prepBuf = buf(new Uint8Array(prep!.bytes), BufferUsage.STORAGE);
      const outWords = nq * nsegTotal * k * 2;
      // share: B x nqPad words of bounds after the lists (the shard zeroes them before a batch).
      const buckets = c.share ? Math.min(c.share, k) : 0;
      const shWords = buckets * Math.ceil(nq / BQ) * BQ;
      expect(scratch ?? 0).toBe(shWords / 2);
      const outInit = new Uint32Array(outWords + shWords).fill(0xdeadbeef);
      outInit.fill(0, outWords);
      const out = buf(outInit, BufferUsage.STORAGE);
      // CPU integer keys of every row for every query (the pre-pass's codes, read back below, are
      // the CPU's too: the pre-pass test checks them), for the 'kth' bounds written before the run.
      const cpuKeys = (a: Int8Array, i: number) => Array.from({ length: n }, (_, id) => {
        let key = 0;
        for (let j = 0; j < d; j++) key += a[i * d + j]! * (codes[id * d + j]! - 128);
        return key;
      });
      const prepPipe = prepPipeline(device, shape);
      const pipe = hookPipeline(device, shape, emulateMatrices);
      // The pre-pass first (its codes give the CPU keys, and the 'kth' bounds written before the hook).
      const readPrep = device.createBuffer({ size: prep!.bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      const readOut = device.createBuffer({ size: (outWords + shWords) * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      bufs.push(readOut, readPrep);
      const enc0 = device.createCommandEncoder();
      const pass0 = enc0.beginComputePass();
      pass0.setPipeline(prepPipe);
      pass0.setBindGroup(0, device.createBindGroup({ layout: prepPipe.getBindGroupLayout(0), entries: [prepParams, qBuf, sqBuf, prepBuf].map((b, binding) => ({ binding, resource: { buffer: b } })) }));
      pass0.dispatchWorkgroups(...prep!.groups);
      pass0.end();
      enc0.copyBufferToBuffer(prepBuf, 0, readPrep, 0, prep!.bytes);
      device.queue.submit([enc0.finish()]);
      await readPrep.mapAsync(MapMode.READ);
      const pre = readPrep.getMappedRange().slice(0);
      const a = new Int8Array(pre, 0, nqPad * d);
      const meta = new DataView(pre, nqPad * d);
      // Per query: every row's key, the rows best first (key desc, id asc) and the k-th best key.
      const keys = Array.from({ length: nq }, (_, i) => cpuKeys(a, i));
      const order = keys.map((ks) => ks.map((key, id) => ({ id, key })).sort((x, y) => y.key - x.key || x.id - y.id));
      const kth = order.map((o) => o[k - 1]!.key);
      const enc = (key: number) => (key ^ 0x80000000) >>> 0;
      if (c.bound === 'kth') {
        const init = new Uint32Array(shWords);
        for (let b = 0; b < buckets; b++) for (let i = 0; i < nq; i++) init[b * nqPad + i] = enc(kth[i]!);
        device.queue.writeBuffer(out, outWords * 4, init);
      }
      const enc1 = device.createCommandEncoder();
      const pass = enc1.beginComputePass();
      pass.setPipeline(pipe);
      pass.setBindGroup(0, device.createBindGroup({
        layout: pipe.getBindGroupLayout(0),
        entries: [params, tile, prepBuf, sqBuf, out].map((b, binding) => ({ binding, resource: { buffer: b } })),
      }));
      pass.dispatchWorkgroups(nseg, nqPad / BQ);
      pass.end();
      enc1.copyBufferToBuffer(out, 0, readOut, 0, (outWords + shWords) * 4);
      device.queue.submit([enc1.finish()]);
      await readOut.mapAsync(MapMode.READ);
      const got = new Uint32Array(readOut.getMappedRange().slice(0));
      const gotF = new Float32Array(got.buffer);
      let ties = 0;
      let cut = 0;
      for (let i = 0; i < nq; i++) {
        const scale = meta.getFloat32(16 * i, true);
        const qv = meta.getFloat32(16 * i + 4, true);
        const shift = 128 * meta.getInt32(16 * i + 8, true);
        const m = buckets ? Math.ceil(k / buckets) : 0;
        const bucketWant = Array.from({ length: buckets }, () => (c.bound === 'kth' ? kth[i]! : -(2 ** 31)));
        for (let s = 0; s < nsegTotal; s++) {
          const at = (i * nsegTotal + s) * k * 2;
          const mine = s >= segAt && s < segAt + nseg;
          if (!mine) {
            // Lists of other tiles are not written.
            expect(got.subarray(at, at + 2 * k).every((w) => w === 0xdeadbeef), `query ${i} list ${s}`).toBe(true);
            continue;
          }
          const seg = s - segAt;
          const rows = Array.from({ length: Math.min(n, (seg + 1) * segLen) - seg * segLen }, (_, x) => seg * segLen + x);
          const ref = rows.map((id) => ({ id, key: keys[i]![id]! }));
          ref.sort((x, y) => y.key - x.key || x.id - y.id);
          for (let j = 1; j < Math.min(k, ref.length); j++) if (ref[j]!.key === ref[j - 1]!.key) ties++;
          // share: the list starts with the segment's rows scoring >= the query's k-th best key (all
          // of them up to k: rows of its top k are never cut), best first; 'kth': nothing else.
          // 'zero': rows cut under a bound that rose mid-segment may leave room for lower rows seen
          // before it rose, so the rest is any of the segment's rows, best first.
          let len = k;
          let list = ref;
          if (buckets) {
            len = 0;
            while (len < k && got[at + 2 * len + 1] !== 0xffffffff) len++;
            const sure = ref.filter((e) => e.key >= kth[i]!).slice(0, k);
            if (c.bound === 'kth') expect(len, `query ${i} segment ${seg} length`).toBe(sure.length);
            const rest = Array.from({ length: len - sure.length }, (_, j) => got[at + 2 * (sure.length + j) + 1]! - idBase).map((id) => ({ id, key: keys[i]![id]! }));
            rest.forEach((e, j) => {
              expect(e.id >= rows[0]! && e.id <= rows[rows.length - 1]! && e.key < kth[i]!, `query ${i} segment ${seg} slot ${sure.length + j}: row ${e.id}`).toBe(true);
              const prev = j === 0 ? sure[sure.length - 1] : rest[j - 1];
              if (prev) expect(prev.key > e.key || (prev.key === e.key && prev.id < e.id), `query ${i} segment ${seg} order at ${sure.length + j}`).toBe(true);
            });
            list = [...sure, ...rest];
            if (len >= m) bucketWant[seg % buckets] = Math.max(bucketWant[seg % buckets]!, list[m - 1]!.key);
            cut += Math.min(k, ref.length) - len;
          }
          for (let j = 0; j < k; j++) {
            const e = j < len ? list[j] : undefined;
            const gotId = got[at + 2 * j + 1]!;
            if (!e) {
              expect([got[at + 2 * j], gotId], `query ${i} segment ${seg} slot ${j}`).toEqual([0xff7fffff, 0xffffffff]);
              continue;
            }
            expect(gotId, `query ${i} segment ${seg} slot ${j}`).toBe(idBase + e.id);
            const want = Math.fround(qv + Math.fround(scale * (e.key + shift)));
            expect(Math.abs(gotF[at + 2 * j]! - want), `query ${i} segment ${seg} slot ${j} key`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want)));
          }
        }
        // Bucket b ends at the largest m-th key of the segments b mod B (or the bound it started at).
        for (let b = 0; b < buckets; b++) expect(got[outWords + b * nqPad + i], `query ${i} bucket ${b}`).toBe(enc(bucketWant[b]!));
      }
      // 'kth' bounds cut lists (the bound has teeth); the tie data really ties inside the lists.
      if (c.bound === 'kth') expect(cut).toBeGreaterThan(nq * nseg);
      if (c.data === 'ties') expect(ties).toBeGreaterThan(nq * nseg * 4);
    } finally {
      for (const b of bufs) b.destroy();
    }
  }, 120_000);
});
