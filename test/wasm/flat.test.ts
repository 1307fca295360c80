import { describe, expect, it, vi } from 'vitest';
import '../../src/wasm/register.js';
import { indexFactory } from '../../src/core/factory.js';
import { memorySink } from '../../src/io/byte-reader.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { pauseEveryBreathe, turnsDuring } from '../helpers/timer-gap.js';

describe.each([1, 2])('wasm flat, %i thread(s)', (threads) => {
  describe.each(['ip', 'l2'] as const)('%s', (metric) => {
    it.each([
      [1, 50, 3, 1],
      [3, 200, 7, 10],
      [100, 1000, 9, 100],
      [768, 300, 5, 10],
      [769, 301, 6, 305],
    ])('d=%i n=%i nq=%i k=%i random and clustered', async (d, n, nq, k) => {
      for (const [base, q] of [
        [randomVectors(n, d, 1 + d), randomVectors(nq, d, 2 + d)],
        [clusteredVectors(n, d, 5, 3 + d), clusteredVectors(nq, d, 5, 4 + d)],
      ] as const) {
        const index = await WasmFlatIndex.create(d, metric, { threads });
        await index.add(base.subarray(0, Math.floor(n / 2) * d));
        await index.add(base.subarray(Math.floor(n / 2) * d));
        expect(index.ntotal).toBe(n);
        const got = await index.search(q, k);
        const want = bruteForce(base, q, d, k, metric);
        expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 4 * d : d), base, q, d, metric);
        await index.dispose();
      }
    });
  });
});

describe('wasm flat edges', () => {
  it('duplicate vectors tie to the lower id', async () => {
    const d = 4;
    const v = [1, 2, 3, 4];
    const base = new Float32Array([...v, 0, 0, 0, 1, ...v, ...v]);
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm' });
    await index.add(base);
    const r = await index.search(new Float32Array(v), 4);
    expect(Array.from(r.labels)).toEqual([0n, 2n, 3n, 1n]);
    await index.dispose();
  });

  it('rejects bad input and use after dispose', async () => {
    const index = await WasmFlatIndex.create(3, 'l2', { threads: 1 });
    await expect(index.search(new Float32Array(3), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await index.add(new Float32Array(6));
    await expect(index.add(new Float32Array(4))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(index.search(new Float32Array(3), 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await index.dispose();
    await index.dispose();
    await expect(index.search(new Float32Array(3), 1)).rejects.toThrow(/disposed/);
    await expect(WasmFlatIndex.create(3, 'l2', { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('wasm flat train and add on the calling thread (threads: 1)', () => {
  // The checks and the copy into the module ran whole: an add of millions of rows held the event loop
  // (a server answering /retrieve, a progress bar, Ctrl-C's handler) for seconds. Every breathe()
  // here pauses (turnsDuring), so each piece boundary lets the loop come round.
  const d = 32;
  const rows = randomVectors(100_000, d, 41);

  /** Starts index.add(x) and resolves once it is paused after copying its first rows in. */
  async function addPausedAtCopy(index: WasmFlatIndex, x: Float32Array): Promise<{ add: Promise<void>; settled: () => boolean }> {
    const heap = (index as unknown as { heap: { f32(ptr: number, length: number): Float32Array } }).heap;
    const copies = vi.spyOn(heap, 'f32');
    let done = false;
    const add = index.add(x).finally(() => (done = true));
    try {
      while (!done && copies.mock.calls.length === 0) await new Promise((r) => setImmediate(r));
    } finally {
      copies.mockRestore();
    }
    // the premise: the add stopped after its first piece of rows was copied in
    expect(done).toBe(false);
    return { add, settled: () => done };
  }

  /** The index's rows as saved (rowChunks), in one array. */
  function stored(index: WasmFlatIndex): Float32Array {
    const out = new Float32Array(index.ntotal * index.d);
    let at = 0;
    for (const c of index.rowChunks()) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  it('pause between pieces, with the rows of one copy', async () => {
    const index = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
    try {
      // 3.2M values: 4 pieces of checks in train; 4 each checked and copied in add
      expect(await turnsDuring(() => index.train(rows))).toBeGreaterThanOrEqual(3);
      expect(await turnsDuring(() => index.add(rows))).toBeGreaterThanOrEqual(3);
      expect(index.ntotal).toBe(100_000);
      expect(Buffer.from(stored(index).buffer).equals(Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength))).toBe(true);
    } finally {
      await index.dispose();
    }
  });

  it('a bad value is named by its row in the whole input, and nothing is added', async () => {
    const index = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
    try {
      const bad = rows.slice();
      bad[70_000 * d + 3] = Infinity;
      await expect(index.train(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 70000, dimension 3/) });
      await expect(index.add(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 70000, dimension 3/) });
      expect(index.ntotal).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it('a row the caller changes during the pauses is checked as it is copied: a NaN put in after the add began is refused, not stored', async () => {
    // Before, every row was checked, then every row copied, the two passes pauses apart: a row
    // changed between them went in unchecked (a NaN row, maxima that did not cover it).
    const clock = pauseEveryBreathe();
    const index = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
    try {
      const x = rows.slice(0, 90_000 * d);
      const { add } = await addPausedAtCopy(index, x);
      x[89_999 * d + 5] = Number.NaN;
      await expect(add).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 89999, dimension 5/) });
      expect(index.ntotal).toBe(0);
    } finally {
      clock.mockRestore();
      await index.dispose();
    }
  });

  describe('calls made during a paused add', () => {
    const first = rows.subarray(0, 20_000 * d);
    const rest = rows.subarray(20_000 * d, 90_000 * d);
    const more = rows.subarray(90_000 * d);

    /** An index holding `first`, adding `rest`: resolves once that add is paused part way through its copy. */
    async function pausedAdd(): Promise<{ index: WasmFlatIndex; add: Promise<void>; settled: () => boolean }> {
      const index = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
      await index.add(first);
      const { add, settled } = await addPausedAtCopy(index, rest);
      expect(index.ntotal).toBe(20_000);
      return { index, add, settled };
    }

    it('a search, a save and a second add wait for it: the search sees all its rows, the second add writes after them', async () => {
      const clock = pauseEveryBreathe();
      let paused: Awaited<ReturnType<typeof pausedAdd>> | undefined;
      try {
        paused = await pausedAdd();
        const { index } = paused;
        const file = memorySink();
        // rows of `rest`, each its own nearest row (distance 0): a search that saw only `first` finds others
        const q = rows.subarray(85_000 * d, 85_010 * d);
        const [got] = await Promise.all([index.search(q, 1), index.save(file), index.add(more), paused.add]);
        expect(Array.from(got.labels, Number)).toEqual(Array.from({ length: 10 }, (_, i) => 85_000 + i));
        expect(index.ntotal).toBe(100_000);
        expect(Buffer.from(stored(index).buffer).equals(Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength))).toBe(true);
        // the save ran after the first add and before the second: its file holds 90k rows
        const want = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
        await want.add(rows.subarray(0, 90_000 * d));
        const wantFile = memorySink();
        await want.save(wantFile);
        await want.dispose();
        expect(Buffer.from(file.bytes()).equals(Buffer.from(wantFile.bytes()))).toBe(true);
      } finally {
        clock.mockRestore();
        await paused?.index.dispose();
      }
    });

    it('dispose waits for the add to end', async () => {
      const clock = pauseEveryBreathe();
      try {
        const { index, add, settled } = await pausedAdd();
        await index.dispose();
        expect(settled()).toBe(true);
        await add;
        expect(index.ntotal).toBe(90_000);
        await expect(index.search(rows.subarray(0, d), 1)).rejects.toThrow(/disposed/);
      } finally {
        clock.mockRestore();
      }
    });
  });
});
