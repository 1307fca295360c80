/**
 * `disableRobustness`: Dawn opened with `disable_robustness` drops every bounds clamp Tint adds and
 * Vulkan's robustBufferAccess, so the kernels must stay in bounds on their own. The flat kernels
 * (flat_gemv, flat_fused in its shapes, merge_lists, fill_random, f16 / int8 decoding) run here on
 * such a device with poisoned candidate buffers: results equal, bit for bit, those of a default
 * device, and f32 matches the float64 oracle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { acquireDevice, dawnFlags } from '../../src/gpu/device.js';
import { GpuFlatIndex, type GpuFlatOptions } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import type { Metric, SearchResult } from '../../src/core/types.js';
import { randomVectors } from '../helpers/data.js';
import { syntheticRow } from '../../bench/gpu-flat/synthetic.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, recallAtK } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU kernels without robustness');
const defaults = { ...kernelTuning };
let seed = 9100;

/** Searches the same rows on a default device and on one without robustness; returns both. */
async function both(d: number, metric: Metric, base: Float32Array, q: Float32Array, k: number, opts: GpuFlatOptions): Promise<[SearchResult, SearchResult]> {
  const out: SearchResult[] = [];
  for (const disableRobustness of [false, true]) {
    const index = await GpuFlatIndex.create(d, metric, { ...opts, disableRobustness, debugPoison: true });
    try {
      await index.add(base);
      out.push(await index.search(q, k));
    } finally {
      await index.dispose();
    }
  }
  return [out[0]!, out[1]!];
}

function expectSame(a: SearchResult, b: SearchResult, what: string): void {
  expect(Array.from(b.labels), what).toEqual(Array.from(a.labels));
  expect(Array.from(new Uint32Array(b.distances.buffer, b.distances.byteOffset, b.distances.length)), what).toEqual(
    Array.from(new Uint32Array(a.distances.buffer, a.distances.byteOffset, a.distances.length)),
  );
}

describe('dawnFlags', () => {
  it('names the toggles in one enable-dawn-features flag, none by default', () => {
    expect(dawnFlags({})).toEqual([]);
    expect(dawnFlags({ allowExperimental: true })).toEqual(['enable-dawn-features=allow_unsafe_apis']);
    expect(dawnFlags({ disableRobustness: true })).toEqual(['enable-dawn-features=disable_robustness']);
    expect(dawnFlags({ allowExperimental: true, disableRobustness: true })).toEqual(['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
  });
});

describe.skipIf(!hasGpu)('gpu flat kernels with disable_robustness', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('the option opens its own Dawn instance with the toggle; a given GPU object is used as it is', async () => {
    const ctx = await acquireDevice({ disableRobustness: true });
    try {
      expect(ctx.gpu).toBe(await loadDawnGpu(['enable-dawn-features=disable_robustness']));
    } finally {
      ctx.destroy();
    }
    const plain = await loadDawnGpu([]);
    const given = await acquireDevice({ gpu: plain, disableRobustness: true });
    try {
      expect(given.gpu).toBe(plain);
    } finally {
      given.destroy();
    }
  });

  // nq 1 / 4: flat_gemv (subgroups) or the small flat_fused block; 33: the mid block; 70: the
  // compute-bound 4 x 8 block. d not a multiple of 4; 3 tiles with a partial last segment and block.
  it.each([
    [1, 13, 'ip'],
    [1, 770, 'l2'], // a row longer than a subgroup covers in one pass (flat_gemv without query registers)
    [4, 30, 'l2'],
    [33, 99, 'ip'],
    [70, 131, 'l2'],
  ] as const)('nq=%i d=%i %s: f32 equals the default device bit for bit and the float64 oracle (both subgroup paths)', async (nq, d, metric) => {
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const want = bruteForce(base, q, d, 10, metric);
    kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = 4; // segments of several blocks
    for (const noSubgroups of [false, true]) {
      const [robust, bare] = await both(d, metric, base, q, 10, { maxTileBytes: Math.ceil(d / 4) * 16 * 600, noSubgroups });
      expectSame(robust, bare, `noSubgroups=${noSubgroups}`);
      expectMatchesOracle(bare, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
    }
  });

  it('f16 (native and packed) and int8 (folded ip, decoded l2; KC 8 over an odd row) equal the default device', async () => {
    const d = 45; // f16: 6 words a row; int8: 3 words (a KC 8 step runs past the row)
    const n = 900;
    const base = randomVectors(n, d, seed++);
    for (const nq of [2, 64]) {
      const q = randomVectors(nq, d, seed++);
      for (const [precision, metric, noShaderF16, kc] of [['f16', 'ip', false, 4], ['f16', 'l2', true, 4], ['int8', 'ip', false, 4], ['int8', 'l2', false, 8]] as const) {
        kernelTuning.kc = kc;
        const [robust, bare] = await both(d, metric, base, q, 10, { precision, noShaderF16, maxTileBytes: 1 << 13 });
        expectSame(robust, bare, `${precision} ${metric} nq=${nq} packed=${noShaderF16} kc=${kc}`);
      }
    }
    // f16 rows of several words a lane (flat_gemv loads the lane's share of one row; d = 770: 97 words).
    const long = randomVectors(600, 770, seed++);
    const q = randomVectors(3, 770, seed++);
    const [robust, bare] = await both(770, 'ip', long, q, 10, { precision: 'f16' });
    expectSame(robust, bare, 'f16 d=770');
    expect(recallAtK(bare, bruteForce(long, q, 770, 10, 'ip'))).toBeGreaterThanOrEqual(0.9);
  });

  it('k beyond N pads with -1, k = 1024 over tiles, many merge levels: equal and exact', async () => {
    const d = 6;
    kernelTuning.mergeFanIn = 2;
    for (const [n, k, nq] of [[300, 310, 1], [300, 300, 5], [2500, 1024, 3]] as const) {
      const base = randomVectors(n, d, seed++);
      const q = randomVectors(nq, d, seed++);
      const [robust, bare] = await both(d, 'ip', base, q, k, { maxTileBytes: 16 * 1000 });
      expectSame(robust, bare, `n=${n} k=${k}`);
      expectMatchesOracle(bare, bruteForce(base, q, d, k, 'ip'), distanceTolerance(d, d), base, q, d, 'ip');
    }
  });

  it('rows generated on the GPU (fill_random, f32 / f16 / int8) search the same as on the default device', async () => {
    const d = 37;
    const n = 1200;
    const q = randomVectors(5, d, seed++);
    const row = (id: number, out: Float32Array) => syntheticRow(42, id, d, out); // int8 re-ranks against these
    for (const precision of ['f32', 'f16', 'int8'] as const) {
      const got: SearchResult[] = [];
      for (const disableRobustness of [false, true]) {
        const index = await GpuFlatIndex.create(d, 'ip', { precision, disableRobustness, debugPoison: true, maxTileBytes: 1 << 14 });
        try {
          await index.addGenerated(n, 42, row, Math.sqrt(3 / d) * 1.05);
          got.push(await index.search(q, 8));
        } finally {
          await index.dispose();
        }
      }
      expectSame(got[0]!, got[1]!, precision);
    }
  });
});
