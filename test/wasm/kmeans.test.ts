/** k-means as FAISS trains coarse quantizers: sampling cap, seeded determinism, empty-cluster splits. */
import { describe, expect, it } from 'vitest';
import { kmeans, NativeAssigner, nearestCentroids, randomPermutation, splitEmptyClusters, seededRandom } from '../../src/wasm/kmeans.js';
import { breather } from '../../src/wasm/worker-pool.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { longestTimerGap, turnsDuring } from '../helpers/timer-gap.js';

describe('k-means', () => {
  it('finds well separated clusters and is deterministic for a seed', async () => {
    const d = 8;
    const x = clusteredVectors(2000, d, 5, 21);
    const a = await kmeans(x, d, 20, 'l2', { seed: 9, threads: 1 });
    const b = await kmeans(x, d, 20, 'l2', { seed: 9, threads: 2 });
    expect(Array.from(a)).toEqual(Array.from(b));
    const objective = (c: Float32Array) => {
      const assign = new Int32Array(2000);
      const dist = new Float32Array(2000);
      nearestCentroids(x, d, c, 'l2', assign, dist);
      return dist.reduce((s, v) => s + v, 0) / 2000;
    };
    // Lloyd iterations lower the objective; with more centroids than clusters every point ends near one
    expect(objective(a)).toBeLessThan(objective(await kmeans(x, d, 20, 'l2', { seed: 9, niter: 1 })) + 1e-9);
    expect(objective(a)).toBeLessThan(0.2);
  });

  it('native assignment equals the JS reference (ip and l2)', async () => {
    const d = 13;
    const x = randomVectors(500, d, 2);
    const c = randomVectors(17, d, 3);
    for (const metric of ['ip', 'l2'] as const) {
      const want = new Int32Array(500);
      nearestCentroids(x, d, c, metric, want);
      const got = new Int32Array(500);
      const a = await NativeAssigner.create(x, d, 17, 1);
      await a.assign(c, metric, got);
      await a.dispose();
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it('subsamples to 256 x k points and needs n >= k', async () => {
    const d = 4;
    await expect(kmeans(randomVectors(3, d, 1), d, 4, 'l2')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // with maxPointsPerCentroid 2 and k 3, only 6 of 1000 points are used: centroids are means of sample points
    const x = randomVectors(1000, d, 5);
    const c = await kmeans(x, d, 3, 'l2', { maxPointsPerCentroid: 2, niter: 1, seed: 1 });
    expect(c.length).toBe(3 * d);
  });

  it('splits empty clusters from a large one (FAISS split_clusters)', () => {
    const d = 2;
    const centroids = new Float32Array([1, 1, 5, 5, 9, 9]);
    const counts = new Float64Array([10, 0, 0]);
    const nsplit = splitEmptyClusters(centroids, d, 3, 10, counts, seededRandom(1));
    expect(nsplit).toBe(2);
    expect(Array.from(counts).reduce((s, v) => s + v, 0)).toBe(10);
    expect(Array.from(counts).every((v) => v > 0)).toBe(true);
    // copies are perturbed by 1/1024, not identical
    expect(new Set(Array.from(centroids)).size).toBeGreaterThan(2);
  });

  it('duplicate points: no centroid is left empty-and-unsplit', async () => {
    const d = 3;
    const x = new Float32Array(300 * d).fill(1);
    x.set(randomVectors(10, d, 4), 0);
    const c = await kmeans(x, d, 8, 'l2', { seed: 2 });
    expect(c.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('lets timers run through its passes over wide rows (threads: 1)', async () => {
    // The copy of the sample into the module and each iteration's centroid sums were whole passes
    // over the rows: at 160k x 768 here 2.8 s and 0.6 s without a tick of a 10 ms interval (at
    // 1M x 768, seconds an iteration), so Ctrl-C waited through them. k = 2 keeps the assignment short.
    const d = 768;
    const x = randomVectors(160_000, d, 5);
    const longest = await longestTimerGap(() => kmeans(x, d, 2, 'ip', { niter: 1, threads: 1, maxPointsPerCentroid: 1e6 }));
    expect(longest).toBeLessThan(300);
  });
});

describe('randomPermutation', () => {
  it('pauses between pieces of a large shuffle and draws the permutation one loop does', async () => {
    // 21M training rows shuffled in one loop held the event loop for about a second. Every
    // breathe() here pauses (the clock moves 1 s a read), so each piece boundary lets a macrotask run.
    const n = 2_500_017;
    const want = new Int32Array(n);
    for (let i = 0; i < n; i++) want[i] = i;
    const random = seededRandom(77);
    for (let i = n - 1; i > 0; i--) {
      const j = random() % (i + 1);
      const t = want[i]!;
      want[i] = want[j]!;
      want[j] = t;
    }
    let got: Int32Array | undefined;
    const turns = await turnsDuring(async () => {
      got = await randomPermutation(n, seededRandom(77), breather());
    });
    expect(Buffer.from(got!.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    // 3 pieces to fill, 3 to shuffle
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
