/**
 * Index files without file paths, through the universal entry (what browsers and Deno import):
 * save into memorySink() and read back from the bytes (memorySource) or from a Blob (blobSource),
 * for every index type, with progress that reaches the file's size.
 */
import { describe, expect, it } from 'vitest';
import { type ProgressEvent, blobSource, indexFactory, inspectIndex, isTesseraError, memorySink, memorySource, readIndex, writeIndex } from '../../src/index.js';

const d = 16;
const n = 300;
const vectors = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
const queries = vectors.slice(0, 3 * d);

describe('index files as bytes (no file system)', () => {
  it.each(['Flat', 'HNSW16', 'IVF8,Flat', 'SQ8'])('%s: save(memorySink()) then readIndex of the bytes and of a Blob', async (factory) => {
    const index = await indexFactory(d, factory, 'ip', { backend: 'wasm', threads: 1, seed: 3 });
    await index.train(vectors);
    await index.add(vectors);
    const opts = { nprobe: 8, efSearch: 64 };
    const want = await index.search(queries, 5, opts);
    const sink = memorySink();
    await writeIndex(index, sink);
    await index.dispose();
    const bytes = sink.bytes();
    expect(bytes.length).toBeGreaterThan(n * d);

    for (const source of [memorySource(bytes), blobSource(new Blob([bytes]))]) {
      const events: ProgressEvent[] = [];
      const back = await readIndex(source, { backend: 'wasm', threads: 1, onProgress: (e) => events.push(e) });
      const got = await back.search(queries, 5, opts);
      expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
      await back.dispose();
      const last = events.at(-1);
      expect(last?.total).toBeGreaterThan(0);
      expect(last?.done).toBe(last?.total);
    }
  });

  it('a path where there is no file system names memorySink and memorySource', async () => {
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await index.add(vectors);
    const err = await index.save('copy.index').catch((e: unknown) => e);
    await index.dispose();
    expect(isTesseraError(err) && err.code).toBe('UNSUPPORTED');
    expect((err as Error).message).toMatch(/memorySink\(\)/);
    expect((err as Error).message).toMatch(/http\(s\) URL/);
  });

  it('readIndex and inspectIndex take bytes, an ArrayBuffer, a Blob or a File as they are', async () => {
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await index.add(vectors);
    const want = await index.search(queries, 4);
    const sink = memorySink();
    await index.save(sink);
    await index.dispose();
    const bytes = sink.bytes();
    for (const input of [bytes, bytes.buffer, new Blob([bytes]), new File([bytes], 'x.index')]) {
      expect((await inspectIndex(input)).ntotal).toBe(n);
      const back = await readIndex(input, { backend: 'wasm', threads: 1 });
      expect(Array.from((await back.search(queries, 4)).labels)).toEqual(Array.from(want.labels));
      await back.dispose();
    }
    await expect(readIndex({} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/Blob or File/) });
  });
});
