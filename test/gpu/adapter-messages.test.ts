/**
 * gpu/device.ts in a page (document and navigator.gpu stand-ins; this file loads no Node entry, as a
 * browser bundle does not): GPU_UNAVAILABLE names what a page's user can check, not Node's fixes
 * (the `webgpu` package, Mesa lavapipe); and a software adapter that fills only vendor and
 * architecture, as Chromium's SwiftShader does, is named by both in backend 'auto''s notice.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireDevice, softwareAdapterNote } from '../../src/gpu/device.js';

/** A navigator.gpu whose adapter is `adapter` (null: none). */
function fakeGpu(adapter: object | null): GPU {
  return { requestAdapter: async () => adapter } as unknown as GPU;
}

/** acquireDevice's rejection (it must reject: no adapter to open). */
async function refusal(opts: Parameters<typeof acquireDevice>[0] = {}): Promise<Error & { code: string }> {
  return acquireDevice(opts).then(
    () => expect.unreachable('acquireDevice resolved'),
    (err: unknown) => err as Error & { code: string },
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('GPU_UNAVAILABLE fits the runtime', () => {
  it('in a page without navigator.gpu: a browser with WebGPU, chrome://gpu, a secure context, backend "wasm"', async () => {
    vi.stubGlobal('document', {});
    vi.stubGlobal('navigator', {});
    const e = await refusal();
    expect(e.code).toBe('GPU_UNAVAILABLE');
    expect(e.message).toBe(
      'no WebGPU in this page (navigator.gpu is missing): use a browser with WebGPU enabled (chrome://gpu in Chromium says whether it is) and serve the page over HTTPS or from localhost (WebGPU needs a secure context), or use backend "wasm"',
    );
  });

  it('in a page whose navigator.gpu gives no adapter: what blocks it in the browser, and backend "wasm"', async () => {
    vi.stubGlobal('document', {});
    vi.stubGlobal('navigator', { gpu: fakeGpu(null) });
    const e = await refusal();
    expect(e.code).toBe('GPU_UNAVAILABLE');
    expect(e.message).toBe(
      'WebGPU offers no adapter in this browser (no GPU, or the browser blocks this GPU or driver, or hardware acceleration is off: chrome://gpu in Chromium says which): use backend "wasm"',
    );
    expect(e.message).not.toMatch(/lavapipe|webgpu`/);
  });

  it('outside a page (Node, Deno) keeps the driver advice', async () => {
    const e = await refusal({ gpu: fakeGpu(null) });
    expect(e.message).toBe('WebGPU offers no adapter here (no GPU or driver; in CI install Mesa lavapipe): use backend "wasm"');
  });
});

describe("backend 'auto''s software-adapter notice", () => {
  it("names SwiftShader by vendor and architecture (Chromium leaves description and device empty), not '(google)'", async () => {
    vi.stubGlobal('document', {});
    const info = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };
    vi.stubGlobal('navigator', { gpu: fakeGpu({ info }) });
    expect(await softwareAdapterNote({})).toBe('the only WebGPU adapter is a software renderer on the CPU (google swiftshader), slower than WASM');
  });
});
