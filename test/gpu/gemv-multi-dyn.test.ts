/**
 * flat_gemv_multi with dynamic chunks (kernelTuning.mdyn / hdyn / h4dyn / m16dyn / h16dyn): workgroups claim
 * chunks of that many iterations' rows from a counter a (query block, tile of the dispatch) instead of scanning one
 * segment each. Against the float64 oracle (exact ids; f16 over the half-rounded rows) with the lists
 * poisoned, and the same lists bit for bit as the fixed segments (0), over one tile and tile
 * groups, one and two query blocks, and more workgroups than chunks. Searching the same batch
 * again must give the same lists: the dispatch's last claim resets its counter, which is checked
 * at zero after each search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BufferUsage, MapMode } from '../../src/gpu/device.js';
import { type FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectSameSearch } from '../helpers/shard-lists.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi dynamic chunks');
const defaults = { ...kernelTuning };
let seed = 97000;

/** The shard's claim counters, read back (all must be 0 between searches). */
async function claimCounters(shard: FlatShard): Promise<number[]> {
  const claims = (shard as unknown as { scratch: { claims?: GPUBuffer } }).scratch.claims;
  expect(claims, 'the claim counters were allocated').toBeDefined();
  const device = shard.ctx.device;
  const read = device.createBuffer({ size: claims!.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(claims!, 0, read, 0, claims!.size);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MapMode.READ);
  const words = [...new Uint32Array(read.getMappedRange().slice(0))];
  read.destroy();
  return words;
}

describe.skipIf(!hasGpu)('flat_gemv_multi dynamic chunks (mdyn)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq, d, metric, k, iterations a chunk (each class's knob), workgroups (targetWorkgroups), tiles a dispatch,
  // clustered, extra knobs. Tiles of 400 / 400 / 217 rows; lavapipe's 8-lane subgroups make an
  // iteration 32-128 rows; chunks of several iterations end inside the tile's last rows, and
  // their checks (mci) fall inside or across chunks.
  it.each([
    [5, 61, 'ip', 10, 1, 3, 1, false, {}],
    [8, 136, 'l2', 10, 2, 2, 3, true, {}], // one dispatch over the three tiles, a counter each
    [3, 45, 'ip', 7, 3, 4, 2, false, { gemvMultiFrom: 2, mq4: 1, mci: 2 }],
    [13, 95, 'ip', 10, 2, 3, 1, true, { mci: 3, h16split: 0, m16split: 0 }], // the block of 16
    [12, 72, 'l2', 10, 1, 3, 3, false, { mq16: 1 }], // two query blocks: a counter each
    [6, 40, 'ip', 12, 1, 64, 2, false, {}], // more workgroups than a tile has chunks
    [7, 30, 'l2', 5, 5, 2, 1, false, { mci: 1 }],
  ] as const)('nq=%i d=%i %s k=%i chunks of %i iterations, %i workgroups, %i tiles a dispatch, clustered=%s %o: the oracle, the fixed segments\' lists, counters back at 0', async (nq, d, metric, k, dyn, target, tiles, clustered, knobs) => {
    const n = 1017;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, metric, base, 400, async ({ precision, rows, index, shard, lists }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mtarget: 0, targetWorkgroups: target, gemvMultiTiles: tiles, mdyn: 0, hdyn: 0, h4dyn: 0, m16dyn: 0, h16dyn: 0 }, knobs);
      const fixed = await index.search(q, k);
      expect(shard.scorerFor(nq, k).key).not.toMatch(/:dyn\d+(:|$)/);
      Object.assign(kernelTuning, { mdyn: dyn, hdyn: dyn, h4dyn: dyn, m16dyn: dyn, h16dyn: dyn });
      expect(shard.scorerFor(nq, k).key, precision).toMatch(new RegExp(`^gemvm:.*:dyn${dyn}(:|$)`));
      for (let round = 0; round < 3; round++) {
        lists.splice(0, lists.length - 1);
        const got = await index.search(q, k);
        expectOracle(got, rows, q, d, k, metric);
        expectSameSearch(got, fixed, lists);
        expect(await claimCounters(shard), `${precision} round ${round}`).toEqual(new Array(32).fill(0));
      }
    });
  });
});
