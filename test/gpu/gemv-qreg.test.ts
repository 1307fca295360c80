/**
 * flat_gemv's one-query path with the query in registers (kernelTuning.qr for f32, hqr for f16),
 * inside the batched reduction (tr / htr): exact ids against the float64 oracle (over the
 * half-rounded rows for f16), output poisoned before every search. lavapipe's subgroups have 8
 * lanes, so f32 rows of <= 48 words (d <= 192) and f16 rows of <= 24 words (d <= 192) take the
 * register path, longer rows the shared one (a dropped term of the last word fails d = 192).
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

describe.skipIf(!hasGpu)('flat_gemv, one query, query in registers', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it.each([
    // d, metric, tr (f32 and f16): f32 rows of 4 / 16 / 38 / 48 words, f16 2 / 8 / 19 / 24 (register
    // path); d = 768 (192 / 96 words) the shared path.
    [13, 'ip', 4],
    [61, 'l2', 2],
    [150, 'ip', 8],
    [192, 'l2', 4],
    [192, 'ip', 2],
    [768, 'l2', 8],
  ] as const)('d=%i %s tr=%i: f32 and f16 exact ids vs float64, random and clustered, segments ending inside a batch', async (d, metric, tr) => {
    Object.assign(kernelTuning, { qr: 1, hqr: 1, tr, htr: tr, ru: 1, uw: 0, hru: 1, huw: 0, gemvTargetF16: 0, targetWorkgroups: 3 });
    const n = 1537;
    for (const clustered of [false, true]) {
      const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
      const q = clustered ? clusteredVectors(1, d, 5, seed++) : randomVectors(1, d, seed++);
      const halves = base.map((x) => fromHalfBits(toHalfBits(x)));
      for (const [precision, rows, noShaderF16] of [['f32', base, true], ['f16', halves, true], ['f16', halves, false]] as const) {
        const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16, maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
        try {
          await index.add(base);
          expect(shardsOf(index)[0]!.scorerFor(1, 10).key).toMatch(new RegExp(`^gemv:${precision === 'f32' ? 0 : 1}:.*:1:1:\\d+:0:0:${tr}$`));
          for (const k of clustered ? [10] : [1, 37]) {
            const got = await index.search(q, k);
            expectMatchesOracle(got, bruteForce(rows, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, q, d, metric);
          }
        } finally {
          await index.dispose();
        }
      }
    }
  });

  it('qr / hqr are inert where they do not apply: tr 1, several rows a pass', async () => {
    const d = 40;
    const base = randomVectors(300, d, seed++);
    for (const [precision, knobs, want] of [
      ['f32', { qr: 1, tr: 4, ru: 1 }, '1'],
      ['f32', { qr: 0, tr: 4, ru: 1 }, '0'],
      ['f32', { qr: 1, tr: 1, ru: 1 }, '0'],
      ['f16', { hqr: 1, htr: 4, hru: 1 }, '1'],
      ['f16', { hqr: 1, htr: 4, hru: 2 }, '0'],
      ['f16', { hqr: 1, htr: 1, hru: 1 }, '0'],
    ] as const) {
      Object.assign(kernelTuning, defaults, { gemvMultiFrom: 5 }, knobs); // several queries on flat_gemv
      const index = await GpuFlatIndex.create(d, 'ip', { precision, noShaderF16: true });
      try {
        await index.add(base);
        // One pipeline serves 1-4 queries (the shader takes the register path for one).
        expect(shardsOf(index)[0]!.scorerFor(3, 10).key.split(':')[6], `${precision} ${JSON.stringify(knobs)}`).toBe(want);
      } finally {
        await index.dispose();
      }
    }
  });
});
