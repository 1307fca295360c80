/**
 * gpuLimitShortOf (serve --max-topk, search -k) tells before loading whether the GPU's per-query
 * limit applies, which it does only where readIndex would put the file on the GPU. It asks
 * chooseBackend, the one place that decides (a copy of 'auto's software-adapter rule drifted from it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { chooseBackend, registerIndexType, registration } from '../../src/core/factory.js';
import { autoTakesSoftwareAdapters } from '../../src/gpu/device.js';
import { gpuResultLimit } from '../../src/gpu/flat-shard.js';
import { gpuLimitShortOf } from '../../src/server/files.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('gpuLimitShortOf and the backend choice');
const limit = hasGpu ? await gpuResultLimit() : undefined;
const real = registration('gpu', 'flat')!;

describe.skipIf(!hasGpu)('gpuLimitShortOf', () => {
  // An IndexFlatIP file of more rows than the GPU returns a query, asked for more than that.
  const info = { fourcc: 'IxFI', backends: ['gpu', 'wasm'] as ('gpu' | 'wasm')[], ntotal: limit! + 10 };
  const k = limit! + 1;
  afterEach(() => {
    autoTakesSoftwareAdapters(false);
    registerIndexType('gpu', 'flat', real);
  });

  it("applies the limit where the file would load onto the GPU: always for 'gpu', never for 'wasm', for 'auto' as chooseBackend decides", async () => {
    expect(await gpuLimitShortOf(k, info, 'gpu')).toBe(limit);
    expect(await gpuLimitShortOf(k, info, 'wasm')).toBeUndefined();
    expect(await gpuLimitShortOf(limit!, info, 'gpu')).toBeUndefined(); // k within the limit
    expect(await gpuLimitShortOf(k, { ...info, ntotal: limit! }, 'gpu')).toBeUndefined(); // every row fits the limit
    for (const takes of [false, true]) {
      autoTakesSoftwareAdapters(takes);
      const auto = await chooseBackend('flat', 'a Flat file', { backend: 'auto' });
      expect(await gpuLimitShortOf(k, info, 'auto')).toBe(auto === 'gpu' ? limit : undefined);
    }
    // HNSW has no GPU backend: no limit whatever is asked.
    expect(await gpuLimitShortOf(k, { fourcc: 'IHNf', backends: ['wasm'], ntotal: limit! + 10 }, 'auto')).toBeUndefined();
  });

  it("follows the gpu registration's autoSkip, the rule chooseBackend applies, whichever adapter this is", async () => {
    // 'auto' told to take this adapter (a software one included): its limit applies.
    registerIndexType('gpu', 'flat', { ...real, autoSkip: async () => undefined });
    expect(await chooseBackend('flat', 'a Flat file', { backend: 'auto' })).toBe('gpu');
    expect(await gpuLimitShortOf(k, info, 'auto')).toBe(limit);
    // 'auto' told to pass it over (a hardware one included): WASM serves, no GPU limit.
    registerIndexType('gpu', 'flat', { ...real, autoSkip: async () => 'passed over for this test' });
    expect(await chooseBackend('flat', 'a Flat file', { backend: 'auto' })).toBe('wasm');
    expect(await gpuLimitShortOf(k, info, 'auto')).toBeUndefined();
    // 'gpu' asked for keeps the adapter whatever 'auto' would do.
    expect(await gpuLimitShortOf(k, info, 'gpu')).toBe(limit);
  });
});
