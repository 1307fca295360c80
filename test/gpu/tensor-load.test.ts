/**
 * GpuFlatIndex loads its tensor-core scorer (src/gpu/tensor/hook.ts, a chunk of its own in the
 * package) only once a device offers subgroup matrices, and before its first search: a page that
 * never opens such a device never downloads it (test/runtimes/bundle.test.ts checks the chunk), and
 * one that does still searches on it. This file imports nothing that loads hook.ts itself; the
 * software adapter lacks the feature, so a wrapper reports it (and keeps it from the real request).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { TesseraError } from '../../src/core/errors.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { SUBGROUP_MATRIX_FEATURE } from '../../src/gpu/tensor/choose.js';
import { normalizeRows, clusteredVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { TensorInt8Flat } from '../../src/gpu/tensor/tensor-flat.js';

const loads = vi.hoisted(() => ({ count: 0, fail: false, scorerFail: false }));
vi.mock('../../src/gpu/tensor/hook.js', async (importOriginal) => {
  // A page whose request for the chunk fails (offline, a deploy that dropped it).
  if (loads.fail) throw new TypeError('Failed to fetch dynamically imported module: hook-X.js');
  loads.count++;
  return await importOriginal();
});

vi.mock('../../src/gpu/tensor/int8-scorer.js', async (importOriginal) => {
  // TensorInt8Flat's scorer chunk, likewise.
  if (loads.scorerFail) throw new TypeError('Failed to fetch dynamically imported module: int8-scorer-X.js');
  return await importOriginal();
});

const hasGpu = await gpuForTests('tensor scorer loading');

/** A GPU whose adapters and devices report the subgroup-matrix feature (the devices are the real ones otherwise). */
function withMatrixFeature(gpu: GPU): GPU {
  const plus = (features: GPUSupportedFeatures): GPUSupportedFeatures =>
    new Proxy(features, {
      get(target, prop) {
        if (prop === 'has') return (f: string) => f === SUBGROUP_MATRIX_FEATURE || target.has(f);
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  const bound = <T extends object>(target: T, prop: string | symbol) => {
    const v = Reflect.get(target, prop, target) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  };
  const device = (d: GPUDevice): GPUDevice =>
    new Proxy(d, { get: (t, p) => (p === 'features' ? plus(t.features) : bound(t, p)), set: (t, p, v) => Reflect.set(t, p, v, t) });
  const adapter = (a: GPUAdapter): GPUAdapter =>
    new Proxy(a, {
      get(t, p) {
        if (p === 'features') return plus(t.features);
        if (p === 'requestDevice') {
          return async (desc?: GPUDeviceDescriptor) => device(await t.requestDevice({ ...desc, requiredFeatures: [...(desc?.requiredFeatures ?? [])].filter((f) => (f as string) !== SUBGROUP_MATRIX_FEATURE) }));
        }
        return bound(t, p);
      },
    });
  return {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const a = await gpu.requestAdapter(o);
      return a && adapter(a);
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  } as GPU;
}

describe.skipIf(!hasGpu)('tensor scorer loading', () => {
  const made: GpuFlatIndex[] = [];
  afterAll(async () => {
    for (const index of made) await index.dispose();
  });

  it('is not loaded for devices without subgroup matrices, allowExperimental or not', async () => {
    made.push(await GpuFlatIndex.create(16, 'ip', { precision: 'int8' }));
    made.push(await GpuFlatIndex.create(16, 'ip', { precision: 'int8', allowExperimental: true }));
    expect(loads.count).toBe(0);
  });

  it('a failed load fails the create, naming what failed and what to do', async () => {
    const gpu = withMatrixFeature((await resolveGpu())!);
    loads.fail = true;
    try {
      const err = await GpuFlatIndex.create(32, 'ip', { precision: 'int8', allowExperimental: true, gpu }).then(
        () => undefined,
        (e: unknown) => e as TesseraError,
      );
      expect(err?.code).toBe('GPU_UNAVAILABLE');
      // The fix names the bundler's output too (a bundled page has no dist/: core/lazy.ts, a27de73).
      expect(err?.message).toMatch(
        /^loading the tensor-core scorer for devices opened with allowExperimental failed: .+; leave allowExperimental off, or serve every chunk file beside the script that imports it \(tessera's dist\/\*\.js; in a bundled page all of the bundler's output, e\.g\. vite's assets\/\*\.js\), then call again \(.+\)$/,
      );
    } finally {
      loads.fail = false;
    }
    expect(loads.count).toBe(0);
  });

  it("TensorInt8Flat: a failed load of its scorer fails the create naming the chunk and the fix, and the next create loads it", async () => {
    loads.scorerFail = true;
    try {
      const err = await TensorInt8Flat.create({ d: 32 }).then(
        (made) => (made.dispose(), undefined),
        (e: unknown) => e as TesseraError,
      );
      expect(err?.code).toBe('GPU_UNAVAILABLE');
      expect(err?.message).toMatch(
        /^loading TensorInt8Flat's scorer failed: .+; serve every chunk file beside the script that imports it \(tessera's dist\/\*\.js; in a bundled page all of the bundler's output, e\.g\. vite's assets\/\*\.js\), then call again \(.+\)$/,
      );
    } finally {
      loads.scorerFail = false;
    }
    const index = await TensorInt8Flat.create({ d: 32 });
    index.dispose();
  }, 60_000);

  it('is loaded and registered before the first search on a device that offers them', async () => {
    const gpu = withMatrixFeature((await resolveGpu())!);
    // After the failed load above: this create tries again.
    const index = await GpuFlatIndex.create(32, 'ip', { precision: 'int8', allowExperimental: true, gpu });
    made.push(index);
    expect(loads.count).toBe(1);
    // The registered scorer is asked about the batch (it declines: the adapter lists no matrix configs).
    const hook = await import('../../src/gpu/tensor/hook.js');
    const asked = vi.spyOn(hook.tensorChunkScorer, 'accepts');
    const d = 32, n = 300, nq = 8, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 6, 7), d);
    const q = normalizeRows(clusteredVectors(nq, d, 6, 8), d);
    await index.add(base);
    const got = await index.search(q, k);
    expect(asked).toHaveBeenCalled();
    expect(recallAtK(got, bruteForce(base, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.95);
    // A second index reuses the loaded module.
    made.push(await GpuFlatIndex.create(32, 'ip', { precision: 'int8', allowExperimental: true, gpu }));
    expect(loads.count).toBe(1);
  }, 120_000);
});
