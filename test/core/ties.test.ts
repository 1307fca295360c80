/**
 * Exact ties through the public API on every backend and precision: copies of a few vectors (so
 * every score is tied many times), searched with k = ntotal and k = 1, on GPU tiles of a few rows,
 * two devices, f16 and int8 as well as f32, and the WASM indexes. Ties go to the lower id everywhere
 * (README), so every backend returns the float64 oracle's list exactly. HNSW is left out: an
 * approximate search need not visit every tied copy (test/wasm/hnsw.test.ts checks they are reachable).
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { bruteForce } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('exact ties on the GPU backend');
const d = 8;
const n = 240;
// Six distinct vectors on a 1/4 grid (float32 sums exact) repeated out of order: rows i and
// i + 6k are copies, so each query ties with 40 rows.
const pool = new Float32Array([1, 0, 0, 0, 0, 0, 0, 0.5, 0.25, 0.5, 0, 0, 1, 0, 0, 0, 0, 0, 0.75, 0, 0, 0.5, 0, 0, -1, 0, 0, 0.25, 0, 0, 0, 1, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const base = new Float32Array(n * d);
for (let i = 0; i < n; i++) base.set(pool.subarray(((i * 5) % 6) * d, (((i * 5) % 6) + 1) * d), i * d);
const queries = pool.slice(0, 3 * d);

const cases: { name: string; factory: string; opts: Record<string, unknown>; train?: boolean; search?: Record<string, unknown> }[] = [
  { name: 'wasm Flat', factory: 'Flat', opts: { backend: 'wasm', threads: 1 } },
  { name: 'wasm IVF3,Flat (all lists probed)', factory: 'IVF3,Flat', opts: { backend: 'wasm', threads: 1 }, train: true, search: { nprobe: 3 } },
  ...(hasGpu
    ? (['f32', 'f16', 'int8'] as const).flatMap((precision) => [
        { name: `gpu ${precision}, tiles of 7 rows`, factory: 'Flat', opts: { backend: 'gpu', precision, maxTileBytes: 7 * 32, debugPoison: true } },
        { name: `gpu ${precision}, 2 devices`, factory: 'Flat', opts: { backend: 'gpu', precision, devicesPerGpu: 2 } },
      ])
    : []),
];

describe.each(cases)('$name', (c) => {
  it.each(['ip', 'l2'] as const)('%s: tied rows come lower id first, for k = ntotal and k = 1', async (metric) => {
    const index = await indexFactory(d, c.factory, metric, c.opts);
    try {
      if (c.train) await index.train(base);
      // Two adds: the second lands inside a tile.
      await index.add(base.subarray(0, 101 * d));
      await index.add(base.subarray(101 * d));
      for (const k of [n, 1]) {
        const got = await index.search(queries, k, c.search);
        expect(Array.from(got.labels, Number), `k=${k}`).toEqual(Array.from(bruteForce(base, queries, d, k, metric).labels));
      }
    } finally {
      await index.dispose();
    }
  });
});

describe.each(cases)('$name', (c) => {
  it('l2: an exact match is at distance +0, not -0 (1 / d is +Infinity, as on WASM and in FAISS)', async () => {
    const index = await indexFactory(d, c.factory, 'l2', c.opts);
    try {
      if (c.train) await index.train(base);
      await index.add(base);
      const got = await index.search(queries, 1, c.search);
      for (let q = 0; q < 3; q++) expect(Object.is(got.distances[q], 0), `query ${q}: ${Object.is(got.distances[q], -0) ? '-0' : got.distances[q]}`).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});
