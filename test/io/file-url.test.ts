/** Node entry: readIndex, inspectIndex and readVectors take a file: URL (pathToFileURL, import.meta.url-relative), or its string, as the path it names; save and writeVectors take the string. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { indexFactory, inspectIndex, readIndex, readVectors, writeVectors } from '../../src/node.js';

it('reads an index from a file: URL through the file system', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera file url '));
  try {
    const path = join(dir, 'a b.index');
    const index = await indexFactory(4, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    await index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
    await index.save(path);
    await index.dispose();
    await writeVectors(join(dir, 'q.npy'), new Float32Array([0, 1, 0, 0]), 4);
    const url = pathToFileURL(path);
    expect((await inspectIndex(url)).ntotal).toBe(2);
    // The same URL as a string (import.meta.resolve's form): it was read as a path, "file not found".
    expect((await inspectIndex(url.href)).ntotal).toBe(2);
    const fromString = await readIndex(url.href, { backend: 'wasm', threads: 1 });
    expect(fromString.ntotal).toBe(2);
    await fromString.dispose();
    expect((await readVectors(pathToFileURL(join(dir, 'q.npy')).href)).n).toBe(1);
    const back = await readIndex(url, { backend: 'wasm', threads: 1 });
    expect(Array.from((await back.search(new Float32Array([0, 1, 0, 0]), 1)).labels)).toEqual([1n]);
    await back.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('saves an index and writes vectors to a file: URL string, as they are read from one', async () => {
  // "file:///dir/x.index" was taken as a relative path: "the directory file:///dir does not exist"
  const dir = mkdtempSync(join(tmpdir(), 'tessera file url '));
  try {
    const index = await indexFactory(4, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    await index.add(new Float32Array([1, 0, 0, 0]));
    const url = pathToFileURL(join(dir, 'a b.index')).href;
    await index.save(url);
    await index.dispose();
    expect(existsSync(join(dir, 'a b.index'))).toBe(true);
    expect((await inspectIndex(url)).ntotal).toBe(1);
    const vectors = pathToFileURL(join(dir, 'q.npy')).href;
    await writeVectors(vectors, new Float32Array([0, 1, 0, 0]), 4);
    expect((await readVectors(vectors)).n).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses a file: URL naming another host rather than reading the local path under it', async () => {
  // file://server/share/x.index read /share/x.index on this machine: the host was dropped
  for (const target of ['file://server/share/x.index', new URL('file://server/share/x.index')]) {
    await expect(inspectIndex(target)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('file://server/share/x.index names a file on host "server"') });
  }
  const index = await indexFactory(4, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
  await expect(index.save('file://server/share/x.index')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  await index.dispose();
});
