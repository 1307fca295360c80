/**
 * How much of one 4 GiB WebAssembly memory an HNSW index can fill. Its per-node arrays share one
 * block at the top of the memory that grows in place (the vectors never move; growing by copy needed
 * the old and new arrays at once and failed at 1.4 GiB of d=768 vectors), level 0 is stored once,
 * and an add that cannot fit is OUT_OF_MEMORY naming the fixes and changes nothing. Checked at small
 * sizes through the memoryLimit option and the memory's high-water mark.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import type { WasmHeap } from '../../src/wasm/module.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';

const heapOf = (index: WasmHnswIndex) => (index as unknown as { heap: WasmHeap }).heap;

describe('WASM HNSW memory', () => {
  it('many adds use about the nodes\' bytes once (x1.5 slack at most), not the previous arrays beside the new ones', async () => {
    const [d, M] = [64, 8];
    const x = randomVectors(10_000, d, 5);
    const index = await WasmHnswIndex.create(d, M, 'l2', { threads: 1, efConstruction: 16 });
    try {
      for (let i = 0; i < 20; i++) await index.add(x.subarray(i * 500 * d, (i + 1) * 500 * d));
      // per node: the vector, 2M level-0 slots, level, offset, lock, and about M / (M - 1) upper slots
      const nodeBytes = index.ntotal * (4 * d + 8 * M + 12 + 8);
      expect(index.memoryBytes).toBeLessThan(1.5 * nodeBytes + (256 << 10));
      // the moves between adds kept every array: the rows, and a graph that finds them
      expect(index.vectors().every((v, i) => v === x[i])).toBe(true);
      const r = await index.search(x.subarray(1234 * d, 1235 * d), 10, { efSearch: 256 });
      expect(r.labels).toContain(1234n);
    } finally {
      await index.dispose();
    }
  });

  it('fills its memory to the last add that fits; the one past it is OUT_OF_MEMORY naming shards and the GPU, and changes nothing', async () => {
    const [d, M, chunk] = [32, 8, 1000];
    const memoryLimit = 4 << 20; // a quarter of it stays free for searches
    const x = clusteredVectors(20 * chunk, d, 20, 6);
    const part = (i: number, rows = chunk) => x.subarray(i * chunk * d, (i * chunk + rows) * d);
    const full = await WasmHnswIndex.create(d, M, 'ip', { threads: 1, efConstruction: 8, memoryLimit });
    const twin = await WasmHnswIndex.create(d, M, 'ip', { threads: 1, efConstruction: 8 });
    try {
      let adds = 0;
      let error: unknown;
      for (; adds < 20; adds++) {
        try {
          await full.add(part(adds));
        } catch (e) {
          error = e;
          break;
        }
      }
      expect(error).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/HNSW8 over \d+ vectors of d=32 does not fit its memoryLimit of 4\.0 MiB: .* about \d+ fit\. Split it into shards \(shardedIndex.*GPU backend/) });
      const fit = Number(/about (\d+) fit/.exec((error as Error).message)![1]);
      // the x1.5 slack gave way to exact sizes near the limit: within one add of what fits
      expect(full.ntotal).toBe(adds * chunk);
      expect(full.ntotal).toBeGreaterThan(fit - chunk);
      expect(full.ntotal).toBeLessThanOrEqual(fit);
      expect(heapOf(full).memory.buffer.byteLength).toBeLessThanOrEqual(memoryLimit);
      // nothing of the failed add stayed: the same graph as adds that never failed, and the next
      // add (smaller, fits) draws the levels it would have drawn
      for (let i = 0; i < adds; i++) await twin.add(part(i));
      const extra = Math.min(50, fit - full.ntotal);
      if (extra > 0) {
        await full.add(part(adds, extra));
        await twin.add(part(adds, extra));
      }
      expect(full.graph()).toEqual(twin.graph());
      const q = part(3, 5);
      expect(await full.search(q, 4)).toEqual(await twin.search(q, 4));
      // 4096 queries x k = 500 want 16.5 MB of query and result buffers, more than the 1 MiB left:
      // the batch shrinks to what fits (it was OUT_OF_MEMORY on an index that had taken its vectors)
      const many = x.subarray(0, 4096 * d);
      const big = await full.search(many, 500);
      expect(big.labels.subarray(0, 5000)).toEqual((await twin.search(many, 500)).labels.subarray(0, 5000));
      expect(heapOf(full).memory.buffer.byteLength).toBeLessThanOrEqual(memoryLimit);
    } finally {
      await full.dispose();
      await twin.dispose();
    }
  });

  it.each([1, 2])('works with its arrays past 2 GiB of the memory, threads %i (pointers read back as int32 were negative: RangeError)', async (threads) => {
    const [d, M] = [16, 8];
    const x = clusteredVectors(600, d, 10, 7);
    const index = await WasmHnswIndex.create(d, M, 'l2', { threads });
    try {
      // untouched pages: the memory grows, the process does not pay for them
      heapOf(index).alloc(2 ** 31 + 4096);
      await index.add(x.subarray(0, 300 * d));
      await index.add(x.subarray(300 * d));
      expect(index.vectors()).toEqual(x);
      const r = await index.search(x.subarray(17 * d, 18 * d), 1, { efSearch: 64 });
      expect(r.labels[0]).toBe(17n);
      const sink = memorySink();
      await index.save(sink);
      const back = await WasmHnswIndex.load(memorySource(sink.bytes()), { threads });
      expect(back.graph()).toEqual(index.graph());
      await back.dispose();
    } finally {
      await index.dispose();
    }
  });
});

describe('WASM HNSW when the host refuses memory', () => {
  it('says so (free memory), not that the vectors exceed 4 GiB, and the add changes nothing', async () => {
    const d = 16;
    const index = await WasmHnswIndex.create(d, 8, 'l2', { threads: 1 });
    try {
      await index.add(randomVectors(100, d, 9));
      const memory = heapOf(index).memory;
      memory.grow = () => {
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      };
      await expect(index.add(randomVectors(200_000, d, 10))).rejects.toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/^could not grow WebAssembly memory to .*: free memory/) });
      expect(index.ntotal).toBe(100);
      const r = await index.search(randomVectors(1, d, 11), 3);
      expect(r.labels.every((l) => l >= 0n && l < 100n)).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});

describe('WebAssembly memory limit message', () => {
  it('gives the bytes where the need and the limit round alike ("needs 20.0 MiB, more than its limit of 20.0 MiB")', async () => {
    const { WasmHeap } = await import('../../src/wasm/module.js');
    const heap = await WasmHeap.create(false, 20 << 20);
    expect(() => heap.alloc((20 << 20) - heap.used + 1000)).toThrow(/^WebAssembly memory needs \d+ bytes, more than its limit of 20\.0 MiB \(20971520 bytes\): split/);
    expect(() => heap.alloc(30 << 20)).toThrow(/^WebAssembly memory needs 30\.\d MiB, more than its limit of 20\.0 MiB: split/);
  });
});

describe('WASM HNSW reserveNodes', () => {
  it('reserves room for adds up to it in place, says how many fit past the limit, and refuses a count that is not one', async () => {
    const [d, M] = [16, 8];
    const index = await WasmHnswIndex.create(d, M, 'l2', { threads: 1, memoryLimit: 20 << 20 });
    try {
      index.reserveNodes(2000);
      const used = index.memoryBytes;
      await index.add(randomVectors(2000, d, 8));
      // the nodes were there already: only the upper-level links and the work buffers came on top
      expect(index.memoryBytes - used).toBeLessThan(64 << 10);
      expect(() => index.reserveNodes(1e6)).toThrow(/HNSW8 over 1000000 vectors of d=16 does not fit its memoryLimit of 20\.0 MiB: .* about \d+ fit/);
      expect(index.ntotal).toBe(2000);
      for (const bad of [NaN, -1, 2.5, Infinity]) expect(() => index.reserveNodes(bad)).toThrow(/reserveNodes takes a node count >= 0/);
    } finally {
      await index.dispose();
    }
  });
});
