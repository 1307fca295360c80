/**
 * flat_gemv's f16 one-query path with the query in registers (kernelTuning.hqr) and two passes'
 * rows loaded together (hrp 2), inside the batched reduction (htr): exact ids against the float64
 * oracle over the half-rounded rows, output poisoned before every search. lavapipe's subgroups have
 * 8 lanes, so rows of <= 24 words (d <= 192) take the register path and longer rows the shared one
 * (a dropped term of the second row's last word fails d = 192).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU flat_gemv query registers');
const defaults = { ...kernelTuning };
const shardsOf = (index: GpuFlatIndex): FlatShard[] => (index as unknown as { shards: FlatShard[] }).shards;
let seed = 91000;

describe.skipIf(!hasGpu)('flat_gemv f16, one query, query in registers', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it.each([
    // d, metric, htr, hrp: rows of 2 / 8 / 19 / 24 words (register path) and 96 (shared path).
    [13, 'ip', 4, 1],
    [61, 'l2', 2, 2],
    [150, 'ip', 8, 2],
    [192, 'l2', 4, 2],
    [192, 'ip', 2, 1],
    [768, 'l2', 8, 2],
  ] as const)('d=%i %s htr=%i hrp=%i: exact ids vs float64 over the half rows, random and clustered, segments ending inside a batch', async (d, metric, htr, hrp) => {
    Object.assign(kernelTuning, { hqr: 1, hrp, htr, hru: 1, huw: 0, gemvTargetF16: 0, targetWorkgroups: 3 });
    const n = 1537;
    for (const clustered of [false, true]) {
      const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
      const q = clustered ? clusteredVectors(1, d, 5, seed++) : randomVectors(1, d, seed++);
      const halves = base.map((x) => fromHalfBits(toHalfBits(x)));
      for (const noShaderF16 of [true, false]) {
        const index = await GpuFlatIndex.create(d, metric, { precision: 'f16', noShaderF16, maxTileBytes: Math.ceil(d / 8) * 16 * 600, debugPoison: true });
        try {
          await index.add(base);
          expect(shardsOf(index)[0]!.scorerFor(1, 10).key).toMatch(new RegExp(`^gemv:1:.*:1${hrp}:1:\\d+:0:0:${htr}$`));
          for (const k of clustered ? [10] : [1, 37]) {
            const got = await index.search(q, k);
            expectMatchesOracle(got, bruteForce(halves, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), halves, q, d, metric);
          }
        } finally {
          await index.dispose();
        }
      }
    }
  });

  it('hqr is inert where it does not apply: f32, several queries, htr 1', async () => {
    Object.assign(kernelTuning, { hqr: 1, hrp: 2, hru: 1, ru: 1 });
    const d = 40;
    const base = randomVectors(300, d, seed++);
    for (const [precision, nq, htr, want] of [['f32', 1, 4, '01'], ['f16', 1, 1, '01'], ['f16', 3, 4, '12'], ['f16', 1, 4, '12']] as const) {
      kernelTuning.htr = htr;
      const index = await GpuFlatIndex.create(d, 'ip', { precision, noShaderF16: true });
      try {
        await index.add(base);
        // One pipeline serves 1-4 queries (the shader takes the path for one): QREG only with f16 and
        // htr > 1, RP 2 only with QREG.
        expect(shardsOf(index)[0]!.scorerFor(nq, 10).key.split(':')[6], `${precision} nq=${nq} htr=${htr}`).toBe(want);
      } finally {
        await index.dispose();
      }
    }
  });
});
