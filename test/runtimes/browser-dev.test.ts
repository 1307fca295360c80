/**
 * The browser example's vite dev server (`npx vite examples/browser`): its plugin serves the demo
 * files itself and must not ask vite to emit them, which the dev server refuses with one warning a
 * file ("context method emitFile() is not supported in serve mode. This plugin is likely not
 * vite-compatible": seven at every start before the fix).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, createServer } from 'vite';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/package-build.js';

describe('examples/browser under the vite dev server', () => {
  // The config aliases 'tessera' to the built package and builds the demo index with it when not cached.
  const built = existsSync(join(repoRoot, 'dist/node.js'));
  it.skipIf(!built && !process.env.CI)('serves the demo files and page with no warning', async () => {
    const warnings: string[] = [];
    const logger = createLogger('warn', { allowClearScreen: false });
    logger.warn = (msg) => void warnings.push(msg);
    logger.warnOnce = (msg) => void warnings.push(msg);
    logger.error = (msg) => void warnings.push(`error: ${msg}`);
    const server = await createServer({
      configFile: join(repoRoot, 'examples/browser/vite.config.ts'),
      customLogger: logger,
      server: { host: '127.0.0.1', port: 0, strictPort: false },
    });
    try {
      await server.listen();
      const base = server.resolvedUrls!.local[0]!;
      const manifest = (await (await fetch(new URL('demo/manifest.json', base))).json()) as { index: string; modelFiles: string[] };
      expect(manifest.index).toBe('data/index.faiss');
      expect(manifest.modelFiles).toContain('tokenizer.json');
      const index = await fetch(new URL(`demo/${manifest.index}`, base));
      expect(index.status).toBe(200);
      expect(new TextDecoder().decode((await index.arrayBuffer()).slice(0, 4))).toBe('IxFI');
      expect((await fetch(base)).status).toBe(200);
    } finally {
      await server.close();
    }
    expect(warnings).toEqual([]);
  }, 120_000);
});
