// readIndex parses a file's structure once: what inspecting it read (an HNSW file's levels and
// offsets, 20 bytes a node; an IVF file's centroids and list sizes) is handed to the loader.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { memorySource } from '../../src/io/byte-reader.js';
import { readIndex } from '../../src/io/read-index.js';
import { randomVectors } from '../helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-read-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readIndex reads each byte of a file once', () => {
  it.each([
    ['HNSW8', 3000, 8],
    ['IVF256,Flat', 3000, 8],
    ['IVF256,SQ8', 3000, 8],
    ['SQ8', 3000, 8],
    ['Flat', 3000, 8],
  ])('%s', async (description, n, d) => {
    const index = await indexFactory(d, description, 'l2', { backend: 'wasm', threads: 1 });
    const x = randomVectors(n, d, 1);
    if (!index.isTrained) await index.train(x);
    await index.add(x);
    const path = join(dir, `${description}.index`);
    await index.save(path);
    await index.dispose();
    const bytes = new Uint8Array(readFileSync(path));
    const inner = memorySource(bytes);
    // Each array of the structure is one read of its bytes (small fields go through a 64 KiB buffer).
    const reads = new Map<string, number>();
    const source = {
      ...inner,
      read: (o: number, l: number) => {
        if (l > 4096) reads.set(`${o}+${l}`, (reads.get(`${o}+${l}`) ?? 0) + 1);
        return inner.read(o, l);
      },
    };
    const loaded = await readIndex(source, { backend: 'wasm', threads: 1 });
    try {
      expect(loaded.ntotal).toBe(n);
      expect([...reads].filter(([, times]) => times > 1)).toEqual([]);
    } finally {
      await loaded.dispose();
    }
  });
});
