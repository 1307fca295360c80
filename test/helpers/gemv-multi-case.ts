/**
 * The frame of a flat_gemv_multi knob test (test/gpu/gemv-multi-*.test.ts): the same rows and
 * queries searched at f32 and at f16 (the portable kernels: halves unpacked in f32), each index with
 * its candidate lists poisoned before every search and recorded as the shard resolves them, and the
 * check against the float64 oracle over what the index stores (f16: the rows rounded to halves).
 */
import type { Metric, SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import type { FlatShard } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from './oracle.js';
import { type ShardLists, recordShardLists } from './shard-lists.js';

export interface PrecisionCase {
  precision: 'f32' | 'f16';
  /** The rows as the index stores them (f16: rounded to halves): the oracle's base. */
  rows: Float32Array;
  index: GpuFlatIndex;
  shard: FlatShard;
  lists: ShardLists['lists'];
}

/** Runs `body` over an index of `base` at f32, then at f16, in tiles of `tileRows` rows where given; disposes each index. */
export async function forEachPrecision(d: number, metric: Metric, base: Float32Array, tileRows: number | undefined, body: (c: PrecisionCase) => Promise<void>): Promise<void> {
  for (const precision of ['f32', 'f16'] as const) {
    const rows = precision === 'f16' ? base.map((x) => fromHalfBits(toHalfBits(x))) : base;
    const rowBytes = Math.ceil(d / (precision === 'f32' ? 4 : 8)) * 16;
    const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16: true, debugPoison: true, ...(tileRows ? { maxTileBytes: rowBytes * tileRows } : {}) });
    const { shard, lists } = recordShardLists(index);
    try {
      await index.add(base);
      await body({ precision, rows, index, shard, lists });
    } finally {
      await index.dispose();
    }
  }
}

/** Exact ids against the float64 oracle over `rows`, distances within the f32 kernels' rounding. */
export function expectOracle(got: SearchResult, rows: Float32Array, q: Float32Array, d: number, k: number, metric: Metric): void {
  expectMatchesOracle(got, bruteForce(rows, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, q, d, metric);
}
