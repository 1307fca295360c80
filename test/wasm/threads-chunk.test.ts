/**
 * The WebAssembly threads build is a chunk loaded on demand (src/wasm/module.ts): a load that fails
 * is NOT_FOUND naming the build and how to serve tessera's chunks, and is not kept, so the next
 * shared-memory instance loads it again; the SIMD build never waits on it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('../../src/wasm/tessera-wasm-threads.js');
  vi.resetModules();
});

describe('the threads build loaded on demand', () => {
  it('fails naming the build and the fix, then loads at the next call', async () => {
    vi.resetModules();
    let missing = true;
    vi.doMock('../../src/wasm/tessera-wasm-threads.js', async (importOriginal) => {
      if (missing) throw new Error('Failed to fetch dynamically imported module: tessera-wasm-threads.js');
      return importOriginal();
    });
    const { compiledModule } = await import('../../src/wasm/module.js');
    // The SIMD build does not need the chunk.
    await expect(compiledModule(false)).resolves.toBeInstanceOf(WebAssembly.Module);
    await expect(compiledModule(true)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^loading tessera's WebAssembly threads build failed: .+; serve every chunk file beside the script that imports it/),
    });
    missing = false;
    vi.resetModules();
    const module = await compiledModule(true);
    expect(module).toBeInstanceOf(WebAssembly.Module);
    expect(await compiledModule(true)).toBe(module);
  });
});
