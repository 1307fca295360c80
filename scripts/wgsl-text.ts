import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';
import { compactWgsl } from '../src/gpu/wgsl-compact.js';

// The text itself (comments dropped, directives kept) is src/gpu/wgsl-compact.ts's, which the
// multi-tile rewrite (tiles-source.ts) uses too; here, the build's and the tests' loaders.
export { compactWgsl };

/** esbuild (and tsup) plugin: `.wgsl` imports become their compactWgsl text (a string default export). */
export const wgslTextPlugin: Plugin = {
  name: 'wgsl-text',
  setup(build) {
    build.onLoad({ filter: /\.wgsl$/ }, async ({ path }) => ({ contents: compactWgsl(await readFile(path, 'utf8'), path), loader: 'text' }));
  },
};
