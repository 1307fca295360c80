/** core/lazy.ts: a chunk loaded on demand loads once; a failed load says what it was for and is not kept: the next call imports again. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTesseraError } from '../../src/core/errors.js';
import { lazyChunk } from '../../src/core/lazy.js';

describe('lazyChunk', () => {
  it('loads once and hands every caller the same module', async () => {
    let loads = 0;
    const load = lazyChunk('a test', async () => ({ n: ++loads }));
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    expect(await load()).toBe(a);
    expect(loads).toBe(1);
  });

  it('a failed load is NOT_FOUND naming the code and the fix, and the next call tries again', async () => {
    let calls = 0;
    const load = lazyChunk("tessera's code for vector files", async () => {
      if (++calls === 1) throw new TypeError('Failed to fetch dynamically imported module: https://example.test/on-demand-X.js');
      return { ok: true };
    });
    const e = await load().catch((err: unknown) => err);
    expect(isTesseraError(e, 'NOT_FOUND')).toBe(true);
    expect((e as Error).message).toMatch(/^loading tessera's code for vector files failed: Failed to fetch .*on-demand-X\.js; serve every chunk file beside the script that imports it \(tessera's dist\/\*\.js; in a bundled page all of the bundler's output, e\.g\. vite's assets\/\*\.js\), then call again \(a runtime that remembers a failed import, as Deno and older browsers do, loads it only after a reload or restart\)$/);
    expect((e as Error).cause).toBeInstanceOf(TypeError);
    expect(await load()).toEqual({ ok: true });
    expect(calls).toBe(2);
  });

  it("a failed load takes the caller's code (GPU code: GPU_UNAVAILABLE, which backend 'auto' leaves for WASM)", async () => {
    const load = lazyChunk('a GPU chunk', () => Promise.reject(new TypeError('Failed to fetch dynamically imported module: gpu-X.js')), 'leave it off', 'GPU_UNAVAILABLE');
    const e = await load().catch((err: unknown) => err);
    expect(isTesseraError(e, 'GPU_UNAVAILABLE')).toBe(true);
    expect((e as Error).message).toMatch(/^loading a GPU chunk failed: Failed to fetch .*gpu-X\.js; leave it off, then call again/);
  });

  it('with a real import(): a chunk file that was missing loads at the next call once it is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-lazy-'));
    try {
      const url = pathToFileURL(join(dir, 'chunk.mjs')).href;
      const load = lazyChunk('a test chunk', () => import(/* @vite-ignore */ url) as Promise<{ x: number }>);
      await expect(load()).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('loading a test chunk failed') });
      writeFileSync(join(dir, 'chunk.mjs'), 'export const x = 7;');
      expect((await load()).x).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
