/**
 * backend 'auto' and a software WebGPU adapter (Mesa's llvmpipe here and in CI; Chromium's
 * SwiftShader in browsers): the WGSL kernels would run on the CPU, 13-30x slower than the WASM
 * backend on the same cores (README "CPU-only machines"), so 'auto' takes WASM and says why once.
 * 'gpu', a GPU object the caller passes, or a hardware adapter keep the GPU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory, readIndex, writeFlatIndex } from '../../src/index.js';
import { autoTakesSoftwareAdapters, resolveGpu } from '../../src/gpu/device.js';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { defaultAdapterIsSoftware, gpuForTests } from '../helpers/gpu.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce } from '../helpers/oracle.js';

const hasGpu = await gpuForTests("backend 'auto' on a software adapter");
// Read from the adapter itself, not through the code under test (gpu/device.ts softwareAdapterNote).
const ownAdapter = hasGpu ? await (await resolveGpu())!.requestAdapter({ powerPreference: 'high-performance' }) : null;
const software = (ownAdapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter === true;

async function flatBytes(base: Float32Array, d: number): Promise<Uint8Array> {
  const sink = memorySink();
  await writeFlatIndex(sink, d, 'ip', base.length / d, base);
  return sink.bytes();
}

describe.skipIf(!hasGpu)("backend 'auto' and the runtime's own adapter", () => {
  const d = 24;
  afterEach(() => autoTakesSoftwareAdapters(false));

  it.each([
    ['random', randomVectors(300, d, 41), randomVectors(4, d, 42)],
    ['clustered', clusteredVectors(300, d, 6, 43), clusteredVectors(4, d, 6, 44)],
  ])('indexFactory: WASM on a software adapter, saying why once; the GPU on a hardware one (%s data)', async (_name, base, queries) => {
    const notices: string[] = [];
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'auto', onNotice: (m) => notices.push(m) });
    try {
      const adapter = (await (await resolveGpu())!.requestAdapter({ powerPreference: 'high-performance' }))!;
      if (software) {
        expect(index.backend).toBe('wasm');
        expect(notices).toHaveLength(1);
        const name = adapter.info.description || adapter.info.device || adapter.info.vendor;
        expect(notices[0]).toBe(`the only WebGPU adapter is a software renderer on the CPU (${name}), slower than WASM: "Flat" runs on the WASM (CPU) backend (backend 'gpu' uses the adapter anyway)`);
      } else {
        expect(index.backend).toBe('gpu');
        expect(notices).toEqual([]);
      }
      await index.add(base);
      const got = await index.search(queries, 5);
      const want = bruteForce(base, queries, d, 5, 'ip');
      expect([...got.labels].map(Number)).toEqual([...want.labels]);
    } finally {
      await index.dispose();
    }
  });

  it('readIndex decides the same way, before reading the rows', async () => {
    const base = randomVectors(200, d, 45);
    const notices: string[] = [];
    const index = await readIndex(memorySource(await flatBytes(base, d)), { backend: 'auto', onNotice: (m) => notices.push(m) });
    try {
      expect(index.backend).toBe(software ? 'wasm' : 'gpu');
      expect(notices).toHaveLength(software ? 1 : 0);
      if (software) expect(notices[0]).toMatch(/software renderer on the CPU .*IndexFlatIP|software renderer on the CPU .*runs on the WASM \(CPU\) backend/);
    } finally {
      await index.dispose();
    }
  });

  it("backend 'gpu', a GPU object passed in, and autoTakesSoftwareAdapters keep the adapter, without a notice", async () => {
    const gpu = (await resolveGpu())!;
    const base = randomVectors(100, d, 46);
    const queries = randomVectors(2, d, 47);
    const cases: [string, Parameters<typeof indexFactory>[3]][] = [
      ["backend 'gpu'", { backend: 'gpu' }],
      ['gpu passed', { backend: 'auto', gpu }],
      ['gpus passed', { backend: 'auto', gpus: [gpu] }],
    ];
    for (const [what, opts] of cases) {
      const notices: string[] = [];
      const index = await indexFactory(d, 'Flat', 'ip', { ...opts, onNotice: (m) => notices.push(m) });
      try {
        expect(index.backend, what).toBe('gpu');
        expect(notices, what).toEqual([]);
        await index.add(base);
        expect([...(await index.search(queries, 3)).labels].map(Number), what).toEqual([...bruteForce(base, queries, d, 3, 'ip').labels]);
      } finally {
        await index.dispose();
      }
    }
    autoTakesSoftwareAdapters(true);
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'auto' });
    try {
      expect(index.backend).toBe('gpu');
    } finally {
      await index.dispose();
    }
  });

  it('the software test reads the adapter as the library does (CI: lavapipe, a software renderer)', async () => {
    expect(await defaultAdapterIsSoftware()).toBe(software);
    if (process.env.REQUIRE_WEBGPU === '1' && /llvmpipe|lavapipe/i.test(ownAdapter?.info.description ?? '')) expect(software).toBe(true);
  });

  it("HNSW and IVF have no GPU backend: 'auto' says nothing about the adapter", async () => {
    const notices: string[] = [];
    const index = await indexFactory(d, 'HNSW16', 'ip', { backend: 'auto', threads: 1, onNotice: (m) => notices.push(m) });
    try {
      expect(index.backend).toBe('wasm');
      expect(notices).toEqual([]);
    } finally {
      await index.dispose();
    }
  });
});
