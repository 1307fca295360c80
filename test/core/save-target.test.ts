/**
 * index.save(target) with a target that is neither a file path nor a ByteSink: every index type
 * refuses it with INVALID_ARGUMENT saying what a target is, before writing anything; readIndex and
 * inspectIndex likewise for null or undefined.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { indexFactory, inspectIndex, memorySink, readIndex, shardedIndex, type ByteSink, type Index, type SourceInput } from '../../src/node.js';
import { randomVectors } from '../helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-save-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = 4;
const rows = randomVectors(40, d, 1);

async function make(kind: string): Promise<Index> {
  const index = kind === 'sharded SQ8' ? shardedIndex(d, 'SQ8', 'ip', { threads: 1 }) : await indexFactory(d, kind, 'ip', { backend: 'wasm', threads: 1 });
  await index.train(rows);
  await index.add(rows);
  return index;
}

describe('save to something that is not a target', () => {
  it.each(['Flat', 'HNSW8', 'IVF2,Flat', 'SQ8', 'sharded SQ8'])('%s', async (kind) => {
    const index = await make(kind);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // '' failed at the final rename with a raw ENOENT naming the temp file
      await expect(index.save('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('empty path') });
      // null and {} failed with a TypeError from inside the writer ("reading 'abort'", "sink.write is not a function")
      for (const [target, got] of [[null, 'got null'], [{}, 'got an object without write()'], [{ write: async () => {} }, 'got an object without close()']] as const) {
        await expect(index.save(target as unknown as ByteSink)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`a file path or a ByteSink ({ write(chunk), close() }, e.g. memorySink()), ${got}`) });
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
      await index.dispose();
    }
  });
});

it('readIndex and inspectIndex of null or undefined name what they read', async () => {
  // a TypeError before: "Cannot read properties of null (reading 'read')"
  for (const target of [null, undefined] as unknown as SourceInput[]) {
    for (const read of [readIndex, inspectIndex]) {
      await expect(read(target)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('give a path (Node), a URL, a Uint8Array or ArrayBuffer') });
    }
  }
});

it('readIndex and inspectIndex take bytes and an ArrayBuffer made in another realm (an iframe, node:vm, a jsdom test)', async () => {
  const index = await make('Flat');
  const sink = memorySink();
  await index.save(sink);
  const want = Array.from((await index.search(rows.subarray(0, d), 3)).labels);
  await index.dispose();
  const foreign = runInNewContext('(b) => { const u = new Uint8Array(b.length + 3); u.set(b, 3); return u.subarray(3); }')(sink.bytes()) as Uint8Array;
  // instanceof fails across realms: these were "cannot read [object Uint8Array]: give ... a Uint8Array or ArrayBuffer"
  expect(foreign instanceof Uint8Array).toBe(false);
  // and a SharedArrayBuffer (a cross-origin isolated page's memory): "cannot read [object SharedArrayBuffer]"
  const shared = new SharedArrayBuffer(foreign.length);
  new Uint8Array(shared).set(foreign);
  for (const target of [foreign, runInNewContext('(u) => u.slice().buffer')(foreign) as ArrayBuffer, shared as unknown as ArrayBuffer]) {
    expect((await inspectIndex(target)).ntotal).toBe(40);
    const loaded = await readIndex(target, { backend: 'wasm', threads: 1 });
    expect(Array.from((await loaded.search(rows.subarray(0, d), 3)).labels)).toEqual(want);
    await loaded.dispose();
  }
});
