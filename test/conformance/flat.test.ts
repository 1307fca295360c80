/**
 * One conformance suite for exact flat search over every backend (gpu, wasm) and both metrics,
 * against the float64 brute-force oracle: random and clustered data, awkward dimensions, N not a
 * multiple of the tile, N spanning several 128 MiB tiles, k from 1 to beyond N, duplicate vectors.
 * GPU scratch buffers are poisoned before every search (debugPoison), so an unwritten candidate
 * shows up as a wrong id or distance instead of a stale right one.
 */
import { describe, expect, it } from 'vitest';
import '../../src/gpu/register.js';
import '../../src/wasm/register.js';
import { indexFactory, type IndexOptions } from '../../src/core/factory.js';
import type { Backend, Index, Metric, SearchResult } from '../../src/core/types.js';
import { clusteredVectors, randomVectors, rng } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, type OracleResult } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('flat conformance suite (gpu backend)');
const backends: Backend[] = hasGpu ? ['gpu', 'wasm'] : ['wasm'];

/**
 * Data and oracles made once for every backend (and data for every metric) that asks for them (same
 * seeds, same arrays; adds copy them): 700001 x 100 random floats took 1.5-3.5 s each of four times.
 */
const made = new Map<string, unknown>();
function once<T>(key: string, make: () => T): T {
  if (!made.has(key)) made.set(key, make());
  return made.get(key) as T;
}

/** Options per backend: the GPU one poisons its scratch and, where asked, uses small tiles. */
function options(backend: Backend, tileBytes?: number): IndexOptions {
  if (backend === 'wasm') return { backend, threads: 1 };
  return { backend, debugPoison: true, ...(tileBytes ? { maxTileBytes: tileBytes } : {}) } as IndexOptions;
}

async function build(backend: Backend, d: number, metric: Metric, base: Float32Array, tileBytes?: number): Promise<Index> {
  const index = await indexFactory(d, 'Flat', metric, options(backend, tileBytes));
  // Two adds, so the second lands in the middle of a tile.
  const half = Math.floor(base.length / d / 2) * d;
  await index.add(base.subarray(0, half));
  await index.add(base.subarray(half));
  return index;
}

function tolerance(d: number, metric: Metric, scale: number): number {
  return distanceTolerance(d, metric === 'l2' ? 4 * d * scale : d * scale);
}

function expectWellFormed(r: SearchResult, n: number): void {
  for (let i = 0; i < r.labels.length; i++) {
    const l = r.labels[i]!;
    expect(l >= -1n && l < BigInt(n), `label ${l} at ${i} out of range`).toBe(true);
    if (l >= 0n) expect(Number.isFinite(r.distances[i]!), `distance at ${i} not finite`).toBe(true);
  }
}

/** float64 top-k by selection (the sorting oracle is too slow for millions of rows). */
function bigOracle(base: Float32Array, queries: Float32Array, d: number, k: number, metric: Metric): OracleResult {
  const n = base.length / d;
  const nq = queries.length / d;
  const distances = new Float64Array(nq * k);
  const labels = new Int32Array(nq * k);
  const sign = metric === 'ip' ? 1 : -1; // larger key is better
  for (let q = 0; q < nq; q++) {
    const best: { key: number; id: number }[] = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const a = queries[q * d + j]!;
        const b = base[i * d + j]!;
        s += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      const key = sign * s;
      if (best.length === k && key <= best[k - 1]!.key) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.key < key) at--;
      best.splice(at, 0, { key, id: i });
      if (best.length > k) best.pop();
    }
    best.forEach((b, j) => {
      distances[q * k + j] = sign * b.key;
      labels[q * k + j] = b.id;
    });
  }
  return { nq, k, distances, labels };
}

describe.each(backends)('flat conformance: %s', (backend) => {
  describe.each(['ip', 'l2'] as const)('%s', (metric) => {
    it.each([1, 3, 64, 100, 768, 769])('d=%i, random and clustered, N not a multiple of the tile', async (d) => {
      const n = d >= 768 ? 1531 : 2999;
      const nq = 5;
      // 97 rows a tile (256 at d <= 4: the 4 KiB floor): 12 to 31 tiles, the last one partly filled.
      const tileBytes = backend === 'gpu' ? Math.max(4096, Math.ceil(d / 4) * 16 * 97) : undefined;
      for (const [set, [base, q, scale]] of once(`tiles ${d}`, () => [
        [randomVectors(n, d, 11 + d), randomVectors(nq, d, 12 + d), 1],
        [clusteredVectors(n, d, 7, 13 + d), clusteredVectors(nq, d, 7, 14 + d), 2],
      ] as const).entries()) {
        const index = await build(backend, d, metric, base, tileBytes);
        try {
          expect(index.ntotal).toBe(n);
          for (const k of [1, 10]) {
            const got = await index.search(q, k);
            expectWellFormed(got, n);
            expectMatchesOracle(got, once(`tiles ${d} ${set} ${metric} ${k}`, () => bruteForce(base, q, d, k, metric)), tolerance(d, metric, scale), base, q, d, metric);
          }
        } finally {
          await index.dispose();
        }
      }
    });

    it.each([1, 10, 100, 257, 262])('k=%i near and beyond N=257 (clustered, d=64)', async (k) => {
      const d = 64;
      const n = 257;
      const base = clusteredVectors(n, d, 4, 21);
      const q = clusteredVectors(3, d, 4, 22);
      const index = await build(backend, d, metric, base, backend === 'gpu' ? 16 * 16 * 50 : undefined);
      try {
        const got = await index.search(q, k);
        expectWellFormed(got, n);
        expectMatchesOracle(got, bruteForce(base, q, d, k, metric), tolerance(d, metric, 2), base, q, d, metric);
        if (k > n) expect(Array.from(got.labels.subarray(n, k))).toEqual(new Array(k - n).fill(-1n));
      } finally {
        await index.dispose();
      }
    });

    it('duplicate vectors and ties: lower id first, across tile and add boundaries', async () => {
      const d = 5;
      const r = rng(31);
      const distinct = 40;
      const pool = new Float32Array(distinct * d).map(() => Math.round(r() * 8 - 4) / 4);
      const n = 1000;
      const base = new Float32Array(n * d);
      for (let i = 0; i < n; i++) base.set(pool.subarray((i % distinct) * d, (i % distinct + 1) * d), i * d);
      const q = pool.slice(0, 4 * d);
      const index = await build(backend, d, metric, base, backend === 'gpu' ? 32 * 37 : undefined);
      try {
        for (const k of [1, 10, 30, 100]) {
          const got = await index.search(q, k);
          const want = bruteForce(base, q, d, k, metric);
          // Values on a 1/4 grid: float32 sums are exact, so ids must equal the oracle's exactly.
          expect(Array.from(got.labels, Number)).toEqual(Array.from(want.labels));
        }
      } finally {
        await index.dispose();
      }
    });

    it('N spanning several 128 MiB tiles (d=100, 700001 rows, default tile size)', async () => {
      const d = 100;
      const n = 700_001;
      const base = once('big base', () => randomVectors(n, d, 41));
      const q = once('big queries', () => randomVectors(2, d, 42));
      const index = await build(backend, d, metric, base);
      try {
        if (backend === 'gpu') {
          const tiles = (index as unknown as { tilesPerShard: number[] }).tilesPerShard;
          expect(tiles.reduce((s, t) => s + t, 0), 'tiles at the adapter limit').toBeGreaterThanOrEqual(Math.min(3, Math.ceil((n * 400) / 2 ** 31)));
        }
        const k = 10;
        const got = await index.search(q, k);
        expectWellFormed(got, n);
        expectMatchesOracle(got, once(`big oracle ${metric}`, () => bigOracle(base, q, d, k, metric)), tolerance(d, metric, 1), base, q, d, metric);
      } finally {
        await index.dispose();
      }
    });
  });
});
