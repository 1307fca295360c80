/**
 * Saving an IVF index with a direct map streams the map to the sink a bounded chunk at a time: the
 * whole map (a hashtable: 16 bytes a vector, 336 MB at 21M rows; an array: 8 bytes, 168 MB) was
 * built in memory before the first write. The bytes are those of the whole-map encoders before
 * (kept here as the references), and FAISS reads the file and reconstructs through the map.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { ByteSink, Index } from '../../src/core/types.js';
import { memorySink } from '../../src/io/byte-reader.js';
import { readIndex } from '../../src/io/read-index.js';
import { directMapChunks, encodeDirectMap } from '../../src/io/faiss/ivf.js';
import { WasmIvfIndex } from '../../src/wasm/ivf-index.js';
import { shardedIndex } from '../../src/wasm/shards.js';
import { randomVectors } from '../helpers/data.js';
import { faissPython } from './faiss-python.js';

/** The hashtable direct map as the encoder before streaming wrote it: every pair in one array, in list order. */
function wholeHashtable(sizes: ArrayLike<number>, idsOf: (list: number) => ArrayLike<number>): Uint8Array {
  let m = 0;
  for (let l = 0; l < sizes.length; l++) m += sizes[l]!;
  const out = new Uint8Array(1 + 8 + 8 + 16 * m);
  const v = new DataView(out.buffer);
  v.setUint8(0, 2);
  v.setBigUint64(1, 0n, true);
  v.setBigUint64(9, BigInt(m), true);
  let p = 17;
  for (let l = 0; l < sizes.length; l++) {
    const ids = idsOf(l);
    for (let o = 0; o < sizes[l]!; o++, p += 16) {
      v.setBigInt64(p, BigInt(ids[o]!), true);
      v.setBigInt64(p + 8, (BigInt(l) << 32n) | BigInt(o), true);
    }
  }
  return out;
}

/** The array direct map as the encoder before streaming wrote it: every entry in one array, by id, -1 where no list has it, the last place of an id twice. */
function wholeArray(ntotal: number, sizes: ArrayLike<number>, idsOf: (list: number) => ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(1 + 8 + 8 * ntotal);
  const v = new DataView(out.buffer);
  v.setUint8(0, 1);
  v.setBigUint64(1, BigInt(ntotal), true);
  for (let i = 0; i < ntotal; i++) v.setBigInt64(9 + 8 * i, -1n, true);
  for (let l = 0; l < sizes.length; l++) {
    const ids = idsOf(l);
    for (let o = 0; o < sizes[l]!; o++) v.setBigInt64(9 + 8 * ids[o]!, (BigInt(l) << 32n) | BigInt(o), true);
  }
  return out;
}

/** The whole map of `type` (2 hashtable, 1 array) as the encoders before streaming wrote it. */
function wholeMap(type: 1 | 2, ntotal: number, sizes: ArrayLike<number>, idsOf: (list: number) => ArrayLike<number>): Uint8Array {
  return type === 2 ? wholeHashtable(sizes, idsOf) : wholeArray(ntotal, sizes, idsOf);
}

/** Shuffles `x` in place, the same way for the same seed. */
function shuffle(x: number[], seed: number): void {
  for (let i = x.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [x[i], x[j]] = [x[j]!, x[i]!];
  }
}

/** A sink that keeps the bytes and the largest single write. */
function recordingSink(): ByteSink & { bytes(): Uint8Array; largest: number } {
  const inner = memorySink();
  const sink = {
    largest: 0,
    closed: false,
    async write(chunk: Uint8Array) {
      sink.largest = Math.max(sink.largest, chunk.length);
      await inner.write(chunk);
    },
    async close() {
      await inner.close();
    },
    bytes: () => inner.bytes(),
  };
  return sink;
}

/** `withNone` (the same index saved with no direct map) with its 9-byte empty map replaced by `map`. */
function spliceMap(withNone: Uint8Array, withMap: Uint8Array, map: Uint8Array): Uint8Array {
  // the files agree up to the map's type byte (0 there, 2 here)
  let at = 0;
  while (withNone[at] === withMap[at]) at++;
  expect(withNone.subarray(at, at + 9)).toEqual(new Uint8Array(9));
  return Buffer.concat([withNone.subarray(0, at), map, withNone.subarray(at + 9)]);
}

describe('IVF direct map on save', () => {
  const d = 8;
  const n = 150_000;
  const rows = randomVectors(n, d, 31);

  it('directMapChunks: the bytes of the whole map, in chunks of at most 1 MiB (uneven list sizes, an empty list)', () => {
    const sizes = [70_000, 0, 3, 80_000, 1];
    let next = 0;
    const ids = sizes.map((s) => Int32Array.from({ length: s }, () => (next = (next * 7 + 13) % 2 ** 31)));
    const chunks = [...directMapChunks(2, next, sizes, (l) => ids[l]!)];
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1 << 20);
    expect(chunks.length).toBeGreaterThan(2);
    const want = wholeHashtable(sizes, (l) => ids[l]!);
    expect(Buffer.concat(chunks).equals(want)).toBe(true);
    expect(Buffer.from(encodeDirectMap(2, next, sizes, (l) => ids[l]!)).equals(want)).toBe(true);
  });

  it('directMapChunks, array: the bytes of the whole map in chunks of at most 1 MiB (ids ascending, shuffled, twice, missing; parts with offsets; an empty list)', () => {
    const ntotal = 400_000;
    // ids dealt round-robin to 5 lists (ascending in each), list 3 then shuffled, list 1 left empty
    const lists: number[][] = [[], [], [], [], []];
    for (let id = 0; id < ntotal; id++) if (id % 1000 !== 999) lists[[0, 2, 3, 4][id % 4]!]!.push(id);
    shuffle(lists[3]!, 5);
    // an id twice: in an ascending list and in the shuffled one (the later place wins), and twice in a row
    lists[4]!.splice(10, 0, lists[4]![10]!);
    lists[3]!.push(lists[0]![50]!);
    const sizes = lists.map((x) => x.length);
    const ids = lists.map((x) => Int32Array.from(x));
    const want = wholeArray(ntotal, sizes, (l) => ids[l]!);
    // 400k entries are 3.1 MiB: before, one write of all of them
    const chunks = [...directMapChunks(1, ntotal, sizes, (l) => ids[l]!)];
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1 << 20);
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.concat(chunks).equals(want)).toBe(true);
    expect(Buffer.from(encodeDirectMap(1, ntotal, sizes, (l) => ids[l]!)).equals(want)).toBe(true);
    // the same lists as parts (a sharded index's), each part's ids less its offset
    const asParts = (l: number) => {
      const x = ids[l]!;
      const cut = Math.floor(x.length / 3);
      return { parts: [{ ids: x.subarray(0, cut), offset: 0 }, { ids: x.subarray(cut).map((id) => id - 7), offset: 7 }] };
    };
    expect(Buffer.concat([...directMapChunks(1, ntotal, sizes, asParts)]).equals(want)).toBe(true);
  });

  it('directMapChunks, array: a list out of order is read a few times over, not once a chunk (FAISS update_vectors leaves lists so)', () => {
    // 24 chunks of 131072 ids: ids dealt round-robin to 4 lists, list 2 shuffled and counted
    const ntotal = 24 << 17;
    const lists: number[][] = [[], [], [], []];
    for (let id = 0; id < ntotal; id++) lists[id % 4]!.push(id);
    shuffle(lists[2]!, 9);
    const sizes = lists.map((x) => x.length);
    const ids = lists.map((x) => Int32Array.from(x));
    let reads = 0;
    const counted = new Proxy(ids[2]!, {
      get(t, p) {
        if (typeof p === 'string' && /^\d+$/.test(p)) reads++;
        return Reflect.get(t, p);
      },
    });
    const chunks = [...directMapChunks(1, ntotal, sizes, (l) => (l === 2 ? counted : ids[l]!))];
    // before: the list scanned whole for each of the 24 chunks (24 reads an id, 19 s at 21M ids)
    expect(reads).toBeLessThanOrEqual(5 * sizes[2]!);
    expect(Buffer.concat(chunks).equals(wholeArray(ntotal, sizes, (l) => ids[l]!))).toBe(true);
  });

  it('directMapChunks, array: an id outside 0..ntotal-1 throws when the map is asked for, before any chunk', () => {
    let asked = 0;
    expect(() => directMapChunks(1, 300_000, [200_000, 1], (l) => (asked++, l === 0 ? Int32Array.from({ length: 200_000 }, (_, i) => i) : [300_000]))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/list 1 holds id 300000, outside 0\.\.299999/) }),
    );
    expect(asked).toBe(2);
  });

  it.each([2, 1] as const)('type %i: a single index writes the map in bounded chunks, bytes as before, and FAISS reconstructs through it', async (type) => {
    const index = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dmstream-'));
    try {
      await index.train(rows.subarray(0, 20_000 * d));
      await index.add(rows);
      const none = memorySink();
      await index.save(none);
      index.directMap = type;
      const sink = recordingSink();
      await index.save(sink);
      // 150k pairs are 2.3 MiB, 150k array entries 1.2 MiB: each was one write before
      expect(sink.largest).toBeLessThanOrEqual(1 << 20);
      const L = index.invertedLists();
      const map = wholeMap(type, n, L.sizes, (l) => new Int32Array(L.bytes.buffer, L.idPtr[l]!, L.sizes[l]!));
      const got = sink.bytes();
      expect(Buffer.from(got).equals(spliceMap(none.bytes(), got, map))).toBe(true);

      const file = join(dir, `map${type}.index`);
      await index.save(file);
      expect(readFileSync(file).equals(Buffer.from(got))).toBe(true);
      const picks = [0, 1, 77_777, n - 1];
      const script = [
        'import faiss, json, sys',
        'index = faiss.read_index(sys.argv[1])',
        'ivf = faiss.extract_index_ivf(index)',
        'print(json.dumps({"type": int(ivf.direct_map.type), "rows": [index.reconstruct(i).tolist() for i in json.loads(sys.argv[2])]}))',
      ].join('\n');
      writeFileSync(join(dir, 'view.py'), script);
      const view = JSON.parse(execFileSync(faissPython(), [join(dir, 'view.py'), file, JSON.stringify(picks)], { encoding: 'utf8' })) as { type: number; rows: number[][] };
      expect(view.type).toBe(type);
      expect(view.rows).toEqual(picks.map((i) => Array.from(rows.subarray(i * d, (i + 1) * d))));
    } finally {
      await index.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('type 1: a FAISS file whose update_vectors left its lists out of order is saved with the map FAISS holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dmupdate-'));
    let loaded: Index | undefined;
    try {
      // 300k ids are 3 chunks of the map; update_vectors moves every 3rd id to the end of a list
      const script = [
        'import faiss, numpy as np, sys',
        'mode, a, b = sys.argv[1:4]',
        'if mode == "make":',
        '    rng = np.random.default_rng(3)',
        '    x = rng.random((300_000, 4), dtype="float32")',
        '    ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(4), 4, 8)',
        '    ivf.train(x[:20_000]); ivf.add(x); ivf.make_direct_map(True)',
        '    ids = np.arange(0, 300_000, 3, dtype="int64")',
        '    ivf.update_vectors(ids, rng.random((len(ids), 4), dtype="float32"))',
        '    il = ivf.invlists',
        '    out = [bool((np.diff(faiss.rev_swig_ptr(il.get_ids(l), il.list_size(l))) >= 0).all()) for l in range(8)]',
        '    faiss.write_index(ivf, a); print(sum(out))',
        'else:',
        '    x, y = faiss.read_index(a), faiss.read_index(b)',
        '    mx, my = (faiss.vector_to_array(faiss.extract_index_ivf(i).direct_map.array) for i in (x, y))',
        '    print(int(faiss.extract_index_ivf(y).direct_map.type), bool(np.array_equal(mx, my)), bool(np.array_equal(x.reconstruct_n(0, x.ntotal), y.reconstruct_n(0, y.ntotal))))',
      ].join('\n');
      writeFileSync(join(dir, 'update.py'), script);
      const py = (...args: string[]) => execFileSync(faissPython(), [join(dir, 'update.py'), ...args], { encoding: 'utf8' }).trim();
      const a = join(dir, 'a.index');
      const b = join(dir, 'b.index');
      expect(py('make', a, b)).toBe('0'); // the premise: no list ascends
      loaded = await readIndex(a, { backend: 'wasm', threads: 1 });
      await loaded.save(b);
      expect(py('check', a, b)).toBe('1 True True');
    } finally {
      await loaded?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([2, 1] as const)('type %i: a search during the save that grows the memory leaves the map as it was (a non-shared memory detaches its old buffer on grow)', async (type) => {
    const index = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    try {
      await index.train(rows.subarray(0, 20_000 * d));
      await index.add(rows);
      const L = index.invertedLists();
      const map = wholeMap(type, n, L.sizes, (l) => new Int32Array(L.bytes.buffer, L.idPtr[l]!, L.sizes[l]!).slice());
      const none = memorySink();
      await index.save(none);
      index.directMap = type;
      const before = (index as unknown as { arena: { byteLength: number } }).arena.byteLength;
      // searches and saves run together (core/call-order.ts): a search between two chunks of the
      // map, whose scratch (2000 queries x k 1000) needs more memory than the index holds
      const inner = recordingSink();
      let writes = 0;
      const sink: ByteSink = {
        async write(chunk) {
          if (++writes === 3) await index.search(rows.subarray(0, 2000 * d), 1000);
          await inner.write(chunk);
        },
        close: () => inner.close(),
      };
      await index.save(sink);
      expect((index as unknown as { arena: { byteLength: number } }).arena.byteLength).toBeGreaterThan(before);
      const got = inner.bytes();
      expect(Buffer.from(got).equals(spliceMap(none.bytes(), got, map))).toBe(true);
    } finally {
      await index.dispose();
    }
  });

  it.each([2, 1] as const)('type %i: a sharded index writes the map in bounded chunks, bytes as before', async (type) => {
    const index = shardedIndex(d, 'IVF16,Flat', 'l2', { threads: 1, shardBytes: 2 << 20 });
    try {
      await index.train(rows.subarray(0, 20_000 * d));
      await index.add(rows);
      expect(index.shardCount).toBeGreaterThan(1);
      const none = memorySink();
      await index.save(none);
      index.directMap = type;
      const sink = recordingSink();
      await index.save(sink);
      expect(sink.largest).toBeLessThanOrEqual(1 << 20);
      // each list's entries in shard order, ids offset by each shard's first row
      const parts = Array.from({ length: index.shardCount }, (_, i) => ({ L: (index.shard(i) as WasmIvfIndex).invertedLists(), off: index.shardOffset(i) }));
      const sizes = Array.from({ length: 16 }, (_, l) => parts.reduce((s, { L }) => s + L.sizes[l]!, 0));
      const map = wholeMap(type, n, sizes, (l) => parts.flatMap(({ L, off }) => Array.from(new Int32Array(L.bytes.buffer, L.idPtr[l]!, L.sizes[l]!), (id) => id + off)));
      const got = sink.bytes();
      expect(Buffer.from(got).equals(spliceMap(none.bytes(), got, map))).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});
