/** Node entry: readIndex and inspectIndex take a file: URL (pathToFileURL, import.meta.url-relative) as the path it names. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { indexFactory, inspectIndex, readIndex } from '../../src/node.js';

it('reads an index from a file: URL through the file system', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera file url '));
  try {
    const path = join(dir, 'a b.index');
    const index = await indexFactory(4, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    await index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
    await index.save(path);
    await index.dispose();
    const url = pathToFileURL(path);
    expect((await inspectIndex(url)).ntotal).toBe(2);
    const back = await readIndex(url, { backend: 'wasm', threads: 1 });
    expect(Array.from((await back.search(new Float32Array([0, 1, 0, 0]), 1)).labels)).toEqual([1n]);
    await back.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
