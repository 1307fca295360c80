/**
 * A CPU-only run on Mesa's lavapipe prints nothing of Dawn's: Dawn writes two warnings about limits
 * it clamps ("... artificially reduced from 1000000 to 16 ...") on stderr from native code whenever
 * it discovers a Vulkan adapter, and backend 'auto' had to discover it to learn that it is a
 * software renderer, so a run that then took WASM printed GPU noise. The probe now runs in a child
 * process (gpu/dawn.ts probeDawnAdapter) and passes on its other stderr lines; a run that does use
 * the adapter (backend 'gpu') still shows Dawn's lines, as it shows any of Dawn's messages.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { DAWN_LIMIT_NOTICE, loadDawnGpu, probeDawnAdapter } from '../../src/gpu/dawn.js';
import { installPlatform, platform } from '../../src/platform.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { wgslTextPlugin } from '../../scripts/wgsl-text.js';
import { gpuForTests } from '../helpers/gpu.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const src = (p: string) => JSON.stringify(join(root, p));

const hasGpu = await gpuForTests('Dawn stderr on a CPU-only run');
// Read from the adapter itself, not through the code under test.
const adapter = hasGpu ? await (await resolveGpu())!.requestAdapter({ powerPreference: 'high-performance' }) : null;
const software = (adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter === true;

describe.skipIf(!software)("backend 'auto' on a software adapter (lavapipe)", () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    // Inside the checkout, so the bundle resolves the `webgpu` package as the package's code does.
    mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
    dir = mkdtempSync(join(root, 'node_modules/.cache/tessera-auto-stderr-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import ${src('src/node.js')};
import { indexFactory } from ${src('src/core/factory.js')};
const backend = process.argv[2] as 'auto' | 'gpu';
const index = await indexFactory(8, 'Flat', 'ip', { backend, onNotice: (m) => console.log('notice: ' + m) });
await index.add(new Float32Array(8 * 20).map((_, i) => Math.sin(i)));
const r = await index.search(new Float32Array(8).fill(1), 3);
console.log('backend: ' + index.backend + ' ' + r.labels.length);
await index.dispose();
`,
    );
    script = join(dir, 'child.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: script, plugins: [wgslTextPlugin], packages: 'external', logLevel: 'error' });
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("'auto' takes WASM, saying why on its notice, and stderr holds no line of Dawn's", async () => {
    const { stdout, stderr } = await run(process.execPath, [script, 'auto'], { cwd: dir, timeout: 60_000 });
    expect(stdout).toMatch(/^notice: the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM/m);
    expect(stdout).toMatch(/^backend: wasm 3$/m);
    expect(stderr.split('\n').filter((l) => DAWN_LIMIT_NOTICE.test(l))).toEqual([]);
    expect(stderr).not.toMatch(/artificially reduced/);
  }, 60_000);

  it("'gpu' runs on the adapter, and Dawn's lines show there (the probe's filter hides them only where Dawn is not used)", async () => {
    const { stdout, stderr } = await run(process.execPath, [script, 'gpu'], { cwd: dir, timeout: 60_000 });
    expect(stdout).toMatch(/^backend: gpu 3$/m);
    // Only where this Dawn prints them at all (a build that stops clamping those limits prints none).
    const own = await probeStderr();
    if (own.some((l) => DAWN_LIMIT_NOTICE.test(l))) expect(stderr.split('\n').filter((l) => DAWN_LIMIT_NOTICE.test(l)).length).toBeGreaterThan(0);
  }, 60_000);

  it('probeDawnAdapter reports the adapter the in-process probe finds', async () => {
    const outside = await probeDawnAdapter();
    expect(outside?.info?.isFallbackAdapter).toBe(true);
    expect(outside?.info?.description).toBe(adapter!.info.description);
  }, 60_000);
});

describe.runIf(hasGpu)('probeDawnAdapter', () => {
  it("passes on the child's other stderr lines to stderr (the driver's, not notices): a Vulkan loader without drivers is told, and no adapter is null", async () => {
    const saved = { icd: process.env.VK_ICD_FILENAMES, driver: process.env.VK_DRIVER_FILES };
    process.env.VK_ICD_FILENAMES = process.env.VK_DRIVER_FILES = '/nonexistent/none.json';
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const notices: string[] = [];
    try {
      expect(await probeDawnAdapter({ onNotice: (m) => notices.push(m) })).toBeNull();
      const told = err.mock.calls.map((c) => String(c[0])).join('');
      expect(told).toMatch(/none\.json/);
      expect(told).not.toMatch(/artificially reduced/);
      expect(notices).toEqual([]);
    } finally {
      err.mockRestore();
      for (const [k, v] of [['VK_ICD_FILENAMES', saved.icd], ['VK_DRIVER_FILES', saved.driver]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 60_000);
});

describe('the platform hooks', () => {
  it('a loadGpu installed in place of Dawn is asked itself: the probe of Dawn goes with Dawn', () => {
    const own = { ...platform() };
    expect(own.probeAdapter).toBe(probeDawnAdapter);
    const other = async () => undefined;
    try {
      installPlatform({ loadGpu: other });
      expect(platform().probeAdapter).toBeUndefined();
      installPlatform({ loadGpu: loadDawnGpu, probeAdapter: probeDawnAdapter });
      expect(platform().probeAdapter).toBe(probeDawnAdapter);
      installPlatform({ cpuCount: () => 1 }); // other hooks leave it
      expect(platform().probeAdapter).toBe(probeDawnAdapter);
    } finally {
      installPlatform(own);
    }
  });
});

describe('probeDawnAdapter under Electron', () => {
  it('starts no child where the RunAsNode fuse may be off (execPath is the app), and one where this process runs as Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-electron-probe-'));
    const started = join(dir, 'started');
    // The app: records that it was started, then exits without answering (as a GUI app would, later)
    const app = join(dir, 'app.sh');
    writeFileSync(app, `#!/bin/sh\necho started >> '${started}'\n`);
    chmodSync(app, 0o755);
    const saved = { execPath: process.execPath, asNode: process.env.ELECTRON_RUN_AS_NODE };
    Object.defineProperty(process.versions, 'electron', { value: '33.0.0', configurable: true, enumerable: true });
    process.execPath = app;
    try {
      delete process.env.ELECTRON_RUN_AS_NODE;
      expect(await probeDawnAdapter()).toBeUndefined();
      expect(existsSync(started)).toBe(false);
      // run as Node itself: the fuse is on, so the child runs as Node too (here the stand-in only
      // records it); only where the webgpu package resolves (without it no child is started at all)
      process.env.ELECTRON_RUN_AS_NODE = '1';
      expect(await probeDawnAdapter()).toBeUndefined();
      if (webgpuResolves()) expect(readFileSync(started, 'utf8')).toBe('started\n');
    } finally {
      process.execPath = saved.execPath;
      if (saved.asNode === undefined) delete process.env.ELECTRON_RUN_AS_NODE;
      else process.env.ELECTRON_RUN_AS_NODE = saved.asNode;
      delete (process.versions as { electron?: string }).electron;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function webgpuResolves(): boolean {
  try {
    createRequire(import.meta.url).resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}

/** What Dawn itself prints discovering the adapter in a bare child (no tessera code). */
async function probeStderr(): Promise<string[]> {
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', "const { create } = await import('webgpu'); await create([]).requestAdapter();"], { cwd: root, timeout: 60_000 });
  return stderr.split('\n');
}
