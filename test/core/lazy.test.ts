/** core/lazy.ts: a chunk loaded on demand loads once; a failed load says what it was for and is tried again. */
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
    const load = lazyChunk('vector files', async () => {
      if (++calls === 1) throw new TypeError('Failed to fetch dynamically imported module: https://example.test/on-demand-X.js');
      return { ok: true };
    });
    const e = await load().catch((err: unknown) => err);
    expect(isTesseraError(e, 'NOT_FOUND')).toBe(true);
    expect((e as Error).message).toMatch(/^loading tessera's code for vector files failed: Failed to fetch .*on-demand-X\.js; serve all of tessera's chunk files \(dist\/\*\.js\) beside its entry$/);
    expect((e as Error).cause).toBeInstanceOf(TypeError);
    expect(await load()).toEqual({ ok: true });
    expect(calls).toBe(2);
  });
});
