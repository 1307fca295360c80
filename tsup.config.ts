import { defineConfig } from 'tsup';

// WGSL is imported as text so Node, Deno and browsers load the same build without file reads.
const loader = { '.wgsl': 'text' } as const;

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
    loader,
    external: ['webgpu', 'onnxruntime-node'],
  },
]);
