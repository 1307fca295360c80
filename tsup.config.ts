import { defineConfig } from 'tsup';
import { wgslTextPlugin } from './scripts/wgsl-text.js';

// WGSL is imported as text so Node, Deno and browsers load the same build without file reads; its
// comments are left out of that text (scripts/wgsl-text.ts says why and what stays).
export default defineConfig([
  {
    entry: { index: 'src/index.ts', node: 'src/node.ts', 'cli/main': 'src/cli/main.ts' },
    format: 'esm',
    target: 'es2022',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts', node: 'src/node.ts' } },
    sourcemap: true,
    clean: true,
    splitting: true,
    esbuildPlugins: [wgslTextPlugin],
    // esbuild is a dev dependency that `tessera bench` loads from a checkout; bundled, it shipped
    // 100 KB of JavaScript that cannot run without its native binary.
    external: ['webgpu', 'onnxruntime-node', 'esbuild'],
  },
]);
