/**
 * backend 'auto' under Node's permission model (--permission; --experimental-permission on Node 20):
 * Dawn's WebGPU is a native addon, which Node refuses without --allow-addons (ERR_DLOPEN_DISABLED),
 * and the 'auto' probe's child is refused without --allow-child-process. The notice said only
 * 'no usable WebGPU adapter'; it now says why and names the flag. With --allow-addons alone the
 * refused child no longer counts as no adapter: the probe looks in-process and finds Dawn's.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuForTests } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '../..');
const src = (p: string) => JSON.stringify(join(root, p));
const run = promisify(execFile);
/** Node 22.13+ and 23.5+ take --permission; Node 20 only the experimental flag. */
const PERMISSION = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
const hasGpu = await gpuForTests("backend 'auto' under Node's permission model");

describe.runIf(hasGpu)("backend 'auto' under Node's permission model", () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-dawn-permission-'));
    // The script imports Dawn's package as the published one does, from a node_modules beside it.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(root, 'node_modules/webgpu'), join(dir, 'node_modules/webgpu'), 'dir');
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import ${src('src/node.js')};
import { indexFactory } from ${src('src/index.js')};
const notices: string[] = [];
const index = await indexFactory(8, 'Flat', 'ip', { onNotice: (m) => notices.push(m) });
console.log(JSON.stringify({ backend: index.backend, notices }));
await index.dispose();
`,
    );
    script = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: script, loader: { '.wgsl': 'text' }, external: ['webgpu'], logLevel: 'error' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function auto(flags: string[]): Promise<{ backend: string; notices: string[] }> {
    const { stdout } = await run(process.execPath, [PERMISSION, ...flags, script], { encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { backend: string; notices: string[] };
  }

  it('without --allow-addons: WASM, and the notice names the refused addon and --allow-addons', async () => {
    const out = await auto(['--allow-fs-read=*']);
    expect(out.backend).toBe('wasm');
    expect(out.notices).toHaveLength(1);
    expect(out.notices[0]).toMatch(
      /^no usable WebGPU adapter \(Dawn's webgpu package failed to load: .*[^.]: Node's permission model \(--permission, --experimental-permission\) is on without --allow-addons, and Dawn's WebGPU is a native addon: run node with --allow-addons for the GPU, or use backend 'wasm'\): "Flat" runs on the WASM \(CPU\) backend$/,
    );
  }, 40_000);

  it("without read access to Dawn's package: the notice names --allow-fs-read and --allow-addons", async () => {
    const out = await auto([`--allow-fs-read=${dir}`]);
    expect(out.backend).toBe('wasm');
    expect(out.notices[0]).toMatch(/^no usable WebGPU adapter \(Dawn's webgpu package failed to load: .*[^.]: Node's permission model refused reading Dawn's webgpu package: allow it \(--allow-fs-read=.*\) and native addons \(--allow-addons\) .*\): "Flat" runs on the WASM \(CPU\) backend$/);
  }, 40_000);

  it('with --allow-addons but no --allow-child-process: the adapter is found in-process', async () => {
    // Before: the refused child was taken as no adapter ('no usable WebGPU adapter'). Here the
    // adapter is found: the GPU where it is hardware, WASM with the software-renderer notice on lavapipe.
    const out = await auto(['--allow-fs-read=*', '--allow-addons']);
    expect(out.notices.join('\n')).not.toMatch(/no usable WebGPU adapter/);
    if (out.backend === 'wasm') expect(out.notices).toEqual([expect.stringMatching(/^the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM: "Flat" runs on the WASM \(CPU\) backend/)]);
    else expect(out.backend).toBe('gpu');
  }, 40_000);
});
