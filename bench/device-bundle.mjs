#!/usr/bin/env node
// One self-contained file of a benchmark for the device machine (node_modules does not travel),
// with the WGSL text the package ships: tsup.config.ts's esbuild plugin (scripts/wgsl-text.ts), so
// the kernels a device call times are the package's text, comments dropped, not shaders/ as written
// (H100 call h12 met a rewrite that counted a comment). Only `webgpu` (Dawn's binding, from the
// device pack) stays outside.
//   node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h14/flat.mjs
import { basename, dirname, extname } from 'node:path';
import { build } from 'tsup';

const [entry, outFile] = process.argv.slice(2);
if (!entry || !outFile || extname(outFile) !== '.mjs') {
  console.error('usage: node bench/device-bundle.mjs <entry.ts> <out/dir/name.mjs>');
  process.exit(2);
}
// tsup's build() reads tsup.config.ts (its plugin) and lets these options override the rest.
await build({
  entry: { [basename(outFile, '.mjs')]: entry },
  outDir: dirname(outFile),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: false,
  sourcemap: false,
  clean: false,
  splitting: false,
  minify: true,
  silent: true,
  // Every package but Dawn's binding goes into the file.
  noExternal: [/^(?!webgpu$)/],
  external: ['webgpu'],
  outExtension: () => ({ js: '.mjs' }),
});
console.log(`wrote ${outFile}`);
