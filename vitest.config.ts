import { defineConfig } from 'vitest/config';
import { compactWgsl } from './scripts/wgsl-text.js';

export default defineConfig({
  plugins: [
    {
      // The text the package ships (tsup.config.ts): the kernels without their comments.
      name: 'wgsl-as-text',
      transform(code, id) {
        if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(compactWgsl(code, id))};`, map: null };
        return undefined;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn's native addon is happiest in its own process, one GPU user at a time per file; a fork
    // that hangs can be killed, where a hung worker thread would take the whole run with it.
    pool: 'forks',
    // Generous for 2 shared cores and lavapipe, but finite: a hung test fails with its name.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // A failed toEqual on big typed arrays (100k+ floats) made the Myers diff run for 10+ minutes at
    // 100% CPU with no output: diff only the first lines of each side.
    diff: { truncateThreshold: 400, maxDepth: 6 },
  },
});
