/**
 * The CPU-only laptop path in Node: the published package, installed without Dawn (its optional
 * dependency missing) or with Dawn but no Vulkan driver, picks the WASM backend for 'auto', says so
 * once, and answers like the oracle. The README's Node snippet runs as written in both setups.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { parseChild, runChild, writeSearchJob } from './helpers/child.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';

/** Points the Vulkan loader at no driver: Dawn loads but finds no adapter, as on a machine without a GPU. */
const NO_VULKAN = { VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' };

let noDawn: BuiltPackage;
let withDawn: BuiltPackage;

beforeAll(async () => {
  noDawn = await buildPackage({ omit: ['webgpu'] });
  withDawn = await buildPackage();
}, 180_000);
afterAll(() => {
  noDawn?.cleanup();
  withDawn?.cleanup();
});

const setups = [
  ['Dawn not installed', () => noDawn, {}],
  ['Dawn installed, no Vulkan driver', () => withDawn, NO_VULKAN],
] as const;

describe.each(setups)('Node, %s', (_name, pkg, env) => {
  it('has no webgpu package where Dawn is left out, and Dawn where it is not', async () => {
    // Resolved from the package's folder, as the package itself would resolve it.
    const probe = await runChild(process.execPath, ['--input-type=module', '-e', `import('webgpu').then(() => console.log('dawn'), (e) => console.log(e.code))`], pkg().dir, env);
    expect(probe.stdout.trim()).toBe(pkg() === noDawn ? 'ERR_MODULE_NOT_FOUND' : 'dawn');
  });

  it.each([
    ['random', randomVectors(3000, 48, 11), randomVectors(7, 48, 12)],
    ['clustered', clusteredVectors(3000, 48, 12, 13), clusteredVectors(7, 48, 12, 14)],
  ])("indexFactory 'auto' runs Flat on WASM, says so once, and matches the oracle (%s data)", async (name, base, queries) => {
    const d = 48;
    const k = 10;
    const args = writeSearchJob(pkg().consumer, `auto-${name}`, { d, description: 'Flat', metric: 'ip', backend: 'auto', k, base, queries });
    const got = parseChild(await runChild(process.execPath, args, pkg().consumer, env));
    expect(got.backend).toBe('wasm');
    expect(got.notices).toHaveLength(1);
    expect(got.notices[0]).toMatch(/WebGPU/);
    expect(got.notices[0]).toMatch(/WASM/);
    expectMatchesOracle(got.result, bruteForce(base, queries, d, k, 'ip'), distanceTolerance(d, 4), base, queries, d, 'ip');
  });

  it("backend 'gpu' fails with GPU_UNAVAILABLE and a message that names the fix", async () => {
    const base = randomVectors(100, 8, 1);
    const args = writeSearchJob(pkg().consumer, 'gpu', { d: 8, description: 'Flat', metric: 'ip', backend: 'gpu', k: 1, base, queries: base.slice(0, 8) });
    const out = await runChild(process.execPath, args, pkg().consumer, env);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/GPU_UNAVAILABLE/);
    expect(out.stderr).toMatch(/wasm/i);
  });

  it('runs the README Node snippet (examples/node/quickstart.mjs) as written', async () => {
    const file = join(pkg().consumer, 'quickstart.mjs');
    copyFileSync(join(repoRoot, 'examples/node/quickstart.mjs'), file);
    const out = await runChild(process.execPath, [file], pkg().consumer, env);
    // No JavaScript error. (With Dawn but no driver, the Vulkan loader prints its own warnings on stderr.)
    expect(out.stderr).not.toMatch(/TesseraError|^\w*Error:|Uncaught/m);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('notice: '))).toHaveLength(1);
    expect(lines).toContain('backend: wasm');
    expect(out.stdout).toMatch(/^query 0 -> 0 \d+ \d+ \(\d+\.\d\d\)$/m);
    expect(out.stdout).toMatch(/^query 1 -> 1 \d+ \d+$/m);
  });
});

