/**
 * f32 digit planes cut part way (FlatShard.keepDigitsBefore, 3505c0a): the tiles past the cut are
 * scored by the f32 kernels into their own lists (region X of the candidate buffer, FlatShard
 * candLayout) beside the tensor tiles' lists. The plan counts region X for every f32 plan with
 * planes (planner exactListBytes, one list a row of the largest tile), so the cut needs no new plan;
 * these tests hold a batch after the cut to the plan's candidate share (candCap) even where that
 * share is tight: fewer lists a query (listBudget), then smaller batches (batchLimit), which weigh
 * region X too, also on the first search, whose batches are sized before the cut is found.
 */
import { describe, expect, it } from 'vitest';
import { resolveGpu } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { registerChunkScorer } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, normalizeRows } from '../helpers/data.js';
import { emulatedHookScorer } from '../helpers/emulate-matrices.js';
import { type GpuSpy, gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { expectExactIp as expectExact } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('f32 digit planes cut part way, within the plan');

type Layout = { total: number; rest?: unknown };
type Shard = {
  candCap: number | undefined;
  digitTilesPlanned: number;
  uncertifiedQueries: number;
  scratch: { cand?: GPUBuffer };
  scorerFor(nq: number, k: number): { key: string; approximate?: string };
  candLayout(nqb: number, k: number, scorer: unknown, certifyK: number, floors: boolean, lists: number): Layout;
  submitBatch(q: Float32Array, nqb: number, ...rest: unknown[]): Promise<unknown>;
};
const shardOf = (index: GpuFlatIndex) => (index as unknown as { shards: Shard[] }).shards[0]!;

describe.skipIf(!hasGpu)('f32 digit planes cut part way: batches within the plan\'s candidate bytes', () => {
  registerChunkScorer(emulatedHookScorer());
  const d = 64, n = 1000, nq = 37, k = 4;
  const base = normalizeRows(clusteredVectors(n, d, 10, 231), d);
  const q = normalizeRows(clusteredVectors(nq, d, 10, 232), d);
  // 5 tiles of 200 rows; tile 3's planes fail to allocate: planes kept for tiles 0-1, the f32 kernels score 2-4.
  const create = async (spy: GpuSpy) => GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes: 200 * d * 4, maxBatch: nq, gpu: wrapGpu((await resolveGpu())!, spy), debugPoison: true });

  it('the plan\'s own share, then a share holding one list a query a tile for 37 queries and one just short of it for 19: the candidate buffer stays within each, the batches as large as fit, the oracle\'s ids', async () => {
    // The plan's share: the cut batch (with region X) within it, and what the cut layout needs at its fewest lists.
    const probe = await create({ buffers: [], oomLabel: /f32 digits [3-9]/ });
    let caps: (readonly [number, number])[];
    try {
      await probe.add(base);
      expect(probe.plan!.shards[0]!.digitTiles).toBe(5);
      await expectExact(probe, base, q, d, k);
      const shard = shardOf(probe);
      expect(probe.digitsCut).toMatch(/digit planes for 2 of the 5 planned tiles fit/);
      expect(shard.digitTilesPlanned).toBe(2);
      expect(shard.scratch.cand!.size).toBeLessThanOrEqual(shard.candCap!);
      // Candidate bytes of a cut batch at one list a query a tile (its fewest), region X included.
      const need = (nqb: number) => {
        const kp = probe.gpuK(k, nqb);
        const layout = shard.candLayout(nqb, kp, shard.scorerFor(nqb, kp), k, true, 0);
        expect(layout.rest).toBeDefined();
        return layout.total * 8;
      };
      // 37 queries at their fewest lists, one batch; a pair short of 19 (batchLimit halves 37 to 19,
      // then 10): batches of 10, where a limit blind to region X takes 19 and passes the share.
      caps = [[need(nq), nq], [need(19) - 8, 10]];
      expect(caps[1]![0]).toBeLessThan(caps[0]![0]);
    } finally {
      await probe.dispose();
    }
    for (const [cap, most] of caps) {
      // Fresh index: its first search sizes the batches before the cut is found (the planes are made in it).
      const index = await create({ buffers: [], oomLabel: /f32 digits [3-9]/ });
      try {
        await index.add(base);
        const shard = shardOf(index);
        shard.candCap = cap;
        const batches: number[] = [];
        const submit = shard.submitBatch.bind(shard);
        shard.submitBatch = (qs, nqb, ...rest) => (batches.push(nqb), submit(qs, nqb, ...rest));
        for (let i = 0; i < 2; i++) await expectExact(index, base, q, d, k);
        expect(index.digitsCut).toMatch(/digit planes for 2 of the 5 planned tiles fit/);
        expect(shard.uncertifiedQueries).toBe(0);
        expect(shard.scratch.cand!.size, `cap ${cap}`).toBeLessThanOrEqual(cap);
        expect(Math.max(...batches)).toBe(most);
        expect(batches.reduce((s, b) => s + b, 0)).toBe(2 * nq);
      } finally {
        await index.dispose();
      }
    }
  }, 300_000);
});
