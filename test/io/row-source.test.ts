/** Rows by id for exact re-ranking: from memory, from a file by offset (Node and plain sources), in segments. */
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { ByteSource } from '../../src/core/types.js';
import { readFlatLayout, writeFlatIndex } from '../../src/io/faiss/flat.js';
import { openFileSource, scatteredReads } from '../../src/io/node-fs.js';
import { FileRows, FunctionRows, MemoryRows, readScattered, RowStore } from '../../src/io/row-source.js';

const d = 5;
const n = 1000;
const base = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) * 10);
const dir = mkdtempSync(join(tmpdir(), 'tessera-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectRows(out: Float32Array, ids: number[], from = base): void {
  ids.forEach((id, i) => expect(Array.from(out.subarray(i * d, (i + 1) * d)), `row ${id}`).toEqual(Array.from(from.subarray(id * d, (id + 1) * d))));
}

describe('row sources', () => {
  const ids = [0, 1, 2, 17, 18, 500, 998, 999];

  it('MemoryRows serves rows across appended chunks', async () => {
    const m = new MemoryRows(d);
    m.append(base.subarray(0, 300 * d), 300);
    m.append(base.subarray(300 * d), n - 300);
    expect(m.count).toBe(n);
    expect(m.hostBytes).toBe(n * d * 4);
    const out = new Float32Array(ids.length * d);
    await m.read(Uint32Array.from([...ids, 299, 300].sort((a, b) => a - b)), ids.length, out);
    const sorted = [...ids, 299, 300].sort((a, b) => a - b).slice(0, ids.length);
    expectRows(out, sorted);
  });

  it('FileRows reads rows of a flat file by offset through the Node source (retained handle, merged runs)', async () => {
    const file = join(dir, 'rows.index');
    await writeFlatIndex(file, d, 'ip', n, base);
    const source = await openFileSource(file);
    const layout = await readFlatLayout(source);
    const rows = FileRows.open(source, layout.dataOffset, d, n);
    await source.close(); // the reader holds its own owner of the handle
    const out = new Float32Array(ids.length * d);
    await rows.read(Uint32Array.from(ids), ids.length, out);
    expectRows(out, ids);
    expect(rows.hostBytes).toBe(0);
    await rows.close();
    await expect(rows.read(Uint32Array.from([0]), 1, out)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reads that look like a disk (slow) switch to the thread pool: same rows, truncation still FORMAT', async () => {
    const file = join(dir, 'pool.index');
    await writeFlatIndex(file, d, 'ip', n, base);
    const saved = { ...scatteredReads };
    Object.assign(scatteredReads, { probeRuns: 2, slowRunMs: -1, inFlight: 3 });
    try {
      const source = await openFileSource(file);
      const layout = await readFlatLayout(source);
      const rows = FileRows.open(source, layout.dataOffset, d, n);
      const many = Array.from({ length: 300 }, (_, i) => i * 3 + (i % 2));
      const out = new Float32Array(many.length * d);
      await rows.read(Uint32Array.from(many), many.length, out);
      expectRows(out, many);
      truncateSync(file, layout.dataOffset + 500 * d * 4);
      await expect(rows.read(Uint32Array.from(many), many.length, out)).rejects.toMatchObject({ code: 'FORMAT' });
      await rows.close();
      await source.close();
    } finally {
      Object.assign(scatteredReads, saved);
    }
  });

  it('a file truncated under an open FileRows: FORMAT, never stale or zero rows', async () => {
    const file = join(dir, 'short.index');
    await writeFlatIndex(file, d, 'ip', n, base);
    const source = await openFileSource(file);
    const layout = await readFlatLayout(source);
    const rows = FileRows.open(source, layout.dataOffset, d, n);
    truncateSync(file, layout.dataOffset + 100 * d * 4);
    const out = new Float32Array(ids.length * d);
    await expect(rows.read(Uint32Array.from(ids), ids.length, out)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/changed after it was opened/) });
    await rows.close();
    await source.close();
  });

  it('readScattered on a plain ByteSource: ascending reads, adjacent rows merged, short reads are FORMAT', async () => {
    const bytes = new Uint8Array(base.buffer.slice(0));
    const calls: [number, number][] = [];
    const plain: ByteSource = {
      size: bytes.length,
      read: async (offset, length) => {
        calls.push([offset, length]);
        return bytes.subarray(offset, Math.min(bytes.length, offset + length));
      },
      close: async () => undefined,
    };
    const pos = Float64Array.from(ids, (id) => id * d * 4);
    const out = new Uint8Array(ids.length * d * 4);
    await readScattered(plain, pos, ids.length, d * 4, out);
    expectRows(new Float32Array(out.buffer), ids);
    // 0,1,2 | 17,18 | 500 | 998,999: four reads.
    expect(calls.map((c) => c[0] / (d * 4))).toEqual([0, 17, 500, 998]);
    const past = Float64Array.from([bytes.length - 4]);
    await expect(readScattered(plain, past, 1, d * 4, new Uint8Array(d * 4))).rejects.toMatchObject({ code: 'FORMAT' });
  });

  it('RowStore: a file segment, then memory, then generated rows, by global id', async () => {
    const file = join(dir, 'seg.index');
    await writeFlatIndex(file, d, 'ip', 400, base.subarray(0, 400 * d));
    const source = await openFileSource(file);
    const layout = await readFlatLayout(source);
    const store = new RowStore(d);
    store.push(FileRows.open(source, layout.dataOffset, d, 400));
    await source.close();
    store.memory().append(base.subarray(400 * d, 700 * d), 300);
    store.memory().append(base.subarray(700 * d, 900 * d), 200); // appends to the same memory segment
    store.push(new FunctionRows(d, 100, (id, out) => out.set(base.subarray((900 + id) * d, (901 + id) * d))));
    expect(store.count).toBe(n);
    expect(store.hostBytes).toBe(500 * d * 4);
    const all = [0, 399, 400, 401, 699, 700, 899, 900, 950, 999];
    const out = new Float32Array(all.length * d);
    await store.read(Uint32Array.from(all), all.length, out);
    expectRows(out, all);
    await expect(store.read(Uint32Array.from([n]), 1, new Float32Array(d))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await store.close();
  });
});
