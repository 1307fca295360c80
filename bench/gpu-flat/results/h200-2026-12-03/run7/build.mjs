// Builds run 7's two bundles from one working tree: out/gf7/gpu-flat.mjs (this tree) and
// out/gf7/gpu-flat-a32.mjs (the same, with shaders/flat_fused.wgsl as of commit a32bc9d, the
// default measured in run 6), so the two differ only in that shader.
// usage (repo root): node bench/gpu-flat/results/h200-2026-12-03/run7/build.mjs
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';

const common = { entryPoints: ['bench/gpu-flat/run.ts'], bundle: true, platform: 'node', format: 'esm', loader: { '.wgsl': 'text' }, external: ['webgpu'], ignoreAnnotations: true, logLevel: 'warning' };
await build({ ...common, outfile: 'out/gf7/gpu-flat.mjs' });
const old = execFileSync('git', ['show', 'a32bc9d:shaders/flat_fused.wgsl'], { encoding: 'utf8' });
const swap = {
  name: 'a32-flat-fused',
  setup(b) {
    b.onLoad({ filter: /shaders[\\/]flat_fused\.wgsl$/ }, () => ({ contents: old, loader: 'text' }));
  },
};
await build({ ...common, outfile: 'out/gf7/gpu-flat-a32.mjs', plugins: [swap] });
