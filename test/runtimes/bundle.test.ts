/**
 * Packaging: browsers and Deno resolve `tessera` to the universal entry and never load Node-only
 * modules (Dawn's `webgpu`, node:fs, onnxruntime-node, the CLI/server stack); what a page downloads
 * at load for core + gpu + wasm stays within its budget (BENCHMARKS.md, section bundle, says why this
 * number), and the tensor-core scorers, vector files and model loading stay in chunks loaded on demand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleReport, measureBundle } from '../../bench/bundle/measure.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';

/**
 * Budget for core + gpu + wasm in a browser app, minified + gzipped: what a page downloads at load
 * (chunks behind a dynamic import() are sized apart), the encoder's packages (onnxruntime-web, the
 * tokenizer) excluded: they are optional and ship their own wasm. The engine's own .wasm (the SIMD
 * build) is inlined as base64 and counted here; its threads build is a chunk loaded on demand. BENCHMARKS.md (section bundle) records the
 * measured size and why this number.
 */
export const BUDGET_GZIP_BYTES = 136 * 1024;
/**
 * Node built-ins that tessera's universal code names as strings, each on a path that checks it runs
 * in Node first. src/wasm/worker-pool.ts starts its WASM worker threads with node:worker_threads
 * behind `process.versions.node` (Web Workers elsewhere). Better: a platform hook installed by
 * src/node.ts, like Dawn's (loadGpu); until then it is listed here, and any new one fails.
 */
const KNOWN_HIDDEN_NODE_REFS = ['node:worker_threads in src/wasm/worker-pool.ts'];
/** Packages a search-only browser app does not pay for: the encoder's runtime and tokenizer. */
const ENCODER_PACKAGES = ['onnxruntime-web', '@huggingface/tokenizers'];

let pkg: BuiltPackage;
const reports: Record<string, BundleReport> = {};

beforeAll(async () => {
  pkg = await buildPackage();
}, 180_000);
afterAll(() => {
  pkg?.cleanup();
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = Object.entries(reports).map(
    ([name, r]) =>
      `${name}: at load ${kib(r.bytes)} min, ${kib(r.gzipBytes)} gzip; ` +
      Object.entries(r.byGroup)
        .sort((a, b) => b[1] - a[1])
        .map(([g, n]) => `${g} ${kib(n)}`)
        .join(', ') +
      `; on demand ${kib(r.lazy.bytes)} min, ${kib(r.lazy.gzipBytes)} gzip` +
      (r.lazy.chunks.length ? ` (${r.lazy.chunks.map((c) => `${kib(c.gzipBytes)}: ${c.inputs.map((i) => i.replace(/^.*\/(?:dist|src|shaders)\//, '')).join(' ') || '(re-exports)'}`).join('; ')})` : ''),
  );
  mkdirSync(join(repoRoot, 'out'), { recursive: true });
  writeFileSync(join(repoRoot, 'out', 'bundle-report.json'), JSON.stringify(reports, (key, v) => (key === 'text' ? undefined : v), 2));
  console.log(`bundle sizes (budget ${kib(BUDGET_GZIP_BYTES)} gzip):\n  ${lines.join('\n  ')}`);
});

describe.each(['browser', 'deno'] as const)('the %s bundle of the published package', (runtime) => {
  it('resolves to dist/index.js and imports no Node built-in or Node-only package', async () => {
    const r = await measureBundle({
      consumerDir: pkg.consumer,
      entrySource: `export * from 'tessera';`,
      runtime,
    });
    reports[`${runtime}: export * from 'tessera' (all, encoder included)`] = r;
    expect(r.offenders).toEqual([]);
    const ours = r.inputs.filter((i) => i.includes('node_modules/tessera/'));
    expect(ours).toContain('node_modules/tessera/dist/index.js');
    expect(ours.some((i) => /dist\/node\.js$|dist\/cli\//.test(i))).toBe(false);
  });
});

describe('browser bundle size', () => {
  it(`core + gpu + wasm stays under ${BUDGET_GZIP_BYTES / 1024} KiB gzipped (encoder packages excluded)`, async () => {
    const r = await measureBundle({
      consumerDir: pkg.consumer,
      entrySource: `export * from 'tessera';`,
      runtime: 'browser',
      exclude: ENCODER_PACKAGES,
    });
    reports['browser: core + gpu + wasm (encoder packages excluded)'] = r;
    expect(r.offenders).toEqual([]);
    // Search needs no third-party package at all: everything here is tessera's own code.
    expect(Object.keys(r.byGroup)).toEqual(['tessera']);
    // Both backends are in: the registration modules were not dropped as "side-effect free"
    // (package.json's sideEffects once listed only dist/node.js, and bundlers removed them).
    expect(r.text).toContain('AGFzbQ'); // the inlined .wasm ("\0asm" in base64)
    expect(r.text).toContain('@compute'); // the WGSL kernels
    // The tensor-core scorers (GpuFlatIndex's hook, TensorInt8Flat's) load on demand, in chunks of their own.
    for (const label of ['int8_mma_hook', 'int8 row sums']) {
      expect(r.text).not.toContain(label);
      expect(r.lazy.text).toContain(label);
    }
    // So do vector files (writeVectors' .npy header), reading a model folder (Encoder.fromDirectory's
    // messages) and starting ONNX Runtime (its .wasm name): src/on-demand.ts.
    for (const label of ['fortran_order', 'all_tensors_to_one_file', 'ort-wasm-simd-threaded']) {
      expect(r.text).not.toContain(label);
      expect(r.lazy.text).toContain(label);
    }
    expect(r.gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });

  it('attributes the bundle to source folders, none of them Node-only (built from src/)', async () => {
    const r = await measureBundle({
      consumerDir: repoRoot,
      entrySource: `export * from './src/index.ts';`,
      runtime: 'browser',
      exclude: ENCODER_PACKAGES,
    });
    reports['browser from src/ (per folder)'] = r;
    expect(r.offenders).toEqual([]);
    expect(Object.keys(r.byGroup)).toEqual(expect.arrayContaining(['core', 'gpu', 'wasm', 'io', 'shaders']));
    // Node-only modules live in io/node-fs.ts and gpu/dawn.ts; neither may reach the universal entry.
    expect(r.inputs.filter((i) => /node-fs\.ts$|dawn\.ts$|src\/node\.ts$|src\/cli\/|src\/server\//.test(i))).toEqual([]);
    // Only pages that open a device with subgroup matrices (allowExperimental) or create a
    // TensorInt8Flat download the tensor-core scorers and their kernel text (flat-index.ts loadTensorScorer).
    const tensorOnly = /src\/gpu\/tensor\/(?:hook|kernel-source|int8-scorer)\.ts$|shaders\/int8_mma_\w+\.wgsl$/;
    expect(r.initialInputs.filter((i) => tensorOnly.test(i))).toEqual([]);
    expect(r.inputs.filter((i) => tensorOnly.test(i))).toHaveLength(8);
    // The WebAssembly threads build loads on demand: only a runtime that can share memory uses it.
    const threads = /src\/wasm\/tessera-wasm-threads\.ts$/;
    expect(r.initialInputs.filter((i) => threads.test(i))).toEqual([]);
    expect(r.inputs.filter((i) => threads.test(i))).toHaveLength(1);
    expect(r.initialInputs.filter((i) => /src\/wasm\/tessera-wasm\.ts$/.test(i))).toHaveLength(1);
    // Code a page that only searches never runs is one chunk loaded on demand (src/on-demand.ts).
    const onDemand = /src\/(?:on-demand|io\/vectors|encoder\/encoder-load|encoder\/runtime-load)\.ts$/;
    expect(r.initialInputs.filter((i) => onDemand.test(i))).toEqual([]);
    expect(r.inputs.filter((i) => onDemand.test(i))).toHaveLength(4);
    // Node built-ins named as strings (bundlers cannot see them): only the known, guarded one.
    expect(r.hiddenNodeRefs.map((o) => `${o.specifier} in ${o.importer}`)).toEqual(KNOWN_HIDDEN_NODE_REFS);
  });
});

describe('the audit itself', () => {
  it('catches a Node built-in and Dawn pulled into a browser bundle', async () => {
    // A consumer that imports the Node entry directly is exactly what the exports map prevents.
    writeFileSync(join(pkg.consumer, 'bad.js'), `import 'node:fs'; export const gpu = () => import('webgpu');`);
    const r = await measureBundle({ consumerDir: pkg.consumer, entrySource: `export * from './bad.js';`, runtime: 'browser' });
    expect(r.offenders.map((o) => o.specifier).sort()).toEqual(['node:fs', 'webgpu']);
  });
});
