/**
 * A load that fails after its index was created (the file ends early while rows, codes or lists
 * stream in) names the file and disposes what it made, for every single-instance WASM loader.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { ByteSource } from '../../src/core/types.js';
import { memorySink } from '../../src/io/byte-reader.js';
import { readIndex } from '../../src/io/read-index.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { WasmIvfIndex } from '../../src/wasm/ivf-index.js';
import { WasmSqIndex } from '../../src/wasm/sq-index.js';

/** A file source that says it holds all of `bytes` but reads nothing past `cut` (a file that shrank). */
function shrunkSource(bytes: Uint8Array, cut: number, label: string): ByteSource & { label: string } {
  return {
    size: bytes.length,
    label,
    async read(offset: number, length: number) {
      return bytes.subarray(Math.min(offset, cut), Math.min(offset + length, cut));
    },
    async close() {},
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WASM loaders on a file that ends while its payload streams in', () => {
  it.each([
    ['Flat', WasmFlatIndex],
    ['HNSW8', WasmHnswIndex],
    ['IVF4,Flat', WasmIvfIndex],
    ['IVF4,SQ8', WasmIvfIndex],
    ['SQ8', WasmSqIndex],
  ] as const)('%s: FORMAT naming the file; the half-built index is disposed', async (factory, cls) => {
    const d = 8;
    const x = new Float32Array(200 * d).map((_, i) => Math.sin(i * 0.61));
    const built = await indexFactory(d, factory, 'l2', { backend: 'wasm', threads: 1, seed: 3 });
    await built.train(x);
    await built.add(x);
    const sink = memorySink();
    await built.save(sink);
    await built.dispose();
    const bytes = sink.bytes();
    const dispose = vi.spyOn(cls.prototype, 'dispose');
    const err = await readIndex(shrunkSource(bytes, bytes.length - 12, 'shrunk.index'), { backend: 'wasm', threads: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/^shrunk\.index: truncated: .*byte offset \d+/) });
    expect(dispose).toHaveBeenCalledTimes(1);
  });
});
