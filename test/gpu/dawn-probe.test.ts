/**
 * gpu/dawn.ts probeDawnAdapter, the child process backend 'auto' asks about Dawn's adapter: a child
 * that hangs is said while it is waited on and given up with a line naming the cause (it cost 30 s
 * without a word), through the caller's onNotice, not stderr, and leaves nothing that keeps Node
 * alive; runtimes whose process.execPath does
 * not run the child as Node (Bun, Deno, Electron without RunAsNode, a single-executable
 * application) start none.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import { probeChildBlockedBy, probeDawnAdapter, type RuntimeFacts, withoutDebugOptions } from '../../src/gpu/dawn.js';

const node: RuntimeFacts = { versions: { node: '20.20.2' }, env: {}, isSea: () => false };

describe("the probe's child and Node's debugger options", () => {
  it('withoutDebugOptions drops --inspect* and --debug* (with their values) and keeps every other option as written', () => {
    expect(withoutDebugOptions('--inspect-brk=0 --require ./hook.cjs --experimental-vm-modules')).toBe('--require ./hook.cjs --experimental-vm-modules');
    expect(withoutDebugOptions('--inspect --inspect-port 9230 --max-old-space-size=4096')).toBe('--max-old-space-size=4096');
    expect(withoutDebugOptions('--require "/a b/hook.cjs"  --inspect_brk --debug-port=1 --inspect-wait=127.0.0.1:0')).toBe('--require "/a b/hook.cjs"');
    expect(withoutDebugOptions('"--inspect" --inspect-publish-uid=http --debug --debug-brk --inspect-brk-node --trace-warnings')).toBe('--trace-warnings');
    // Only Node's debugger options: an option that merely starts alike stays.
    expect(withoutDebugOptions('--inspector-like --debugger-hook --import=./x.mjs')).toBe('--inspector-like --debugger-hook --import=./x.mjs');
    expect(withoutDebugOptions('--inspect')).toBe('');
  });

  it("a child started under NODE_OPTIONS with --inspect-brk or --inspect answers at once, says nothing, and keeps the --require hook", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-probe-inspect-'));
    const saved = process.env.NODE_OPTIONS;
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      // A stand-in for Dawn's webgpu with Chromium's SwiftShader's info (vendor and architecture only).
      const webgpu = join(dir, 'webgpu.mjs');
      const info = { description: '', device: '', architecture: 'swiftshader', vendor: 'google', isFallbackAdapter: true };
      writeFileSync(webgpu, `export const create = () => ({ requestAdapter: async () => ({ info: ${JSON.stringify(info)} }) });`);
      const hook = join(dir, 'hook.cjs');
      const ran = join(dir, 'ran');
      writeFileSync(hook, `require('node:fs').appendFileSync(${JSON.stringify(ran)}, 'x');`);
      const notices: string[] = [];
      for (const inspect of ['--inspect-brk=0', '--inspect=0']) {
        process.env.NODE_OPTIONS = `${inspect} --require "${hook}"`;
        const t0 = performance.now();
        // Before: --inspect-brk waited for a debugger until the limit (null: 'auto' took WASM), and
        // --inspect's 'Debugger listening on ws://...' lines were passed on to this stderr.
        expect(await probeDawnAdapter({ webgpuUrl: pathToFileURL(webgpu).href, timeoutMs: 8_000, facts: node, onNotice: (m) => notices.push(m) })).toEqual({ info });
        expect(performance.now() - t0).toBeLessThan(6_000);
      }
      expect(notices).toEqual([]);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toBe('');
      expect(readFileSync(ran, 'utf8')).toBe('xx');
    } finally {
      err.mockRestore();
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 25_000);
});

describe('probeDawnAdapter with a child that hangs', () => {
  it('says what it waits on after noticeMs, then stops the child at timeoutMs and answers no adapter, each in one notice, none on stderr', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const t0 = performance.now();
    let got: Awaited<ReturnType<typeof probeDawnAdapter>>;
    const notices: [string, number][] = [];
    const reasons: string[] = [];
    try {
      got = await probeDawnAdapter({ args: ['-e', 'setInterval(() => {}, 1000)'], noticeMs: 300, timeoutMs: 1500, facts: node, onNotice: (m) => notices.push([m, performance.now() - t0]), onGiveUp: (why) => reasons.push(why) });
      // Before: both lines went to process.stderr, which a library caller could not route or silence.
      expect(err).not.toHaveBeenCalled();
    } finally {
      err.mockRestore();
    }
    const took = performance.now() - t0;
    expect(got).toBeNull(); // taken as none: backend 'auto' runs on WASM, not a second discovery that hangs
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(4000);
    expect(notices.map(([m]) => m)).toEqual([
      "waiting for Dawn's WebGPU adapter discovery (a child process for backend 'auto'; given up at 1.5 s): backend 'wasm' (--backend wasm) skips it",
      "Dawn's WebGPU adapter discovery (a child process) gave no answer in 1.5 s (a hung GPU driver?) and was stopped: taken as no adapter, backend 'auto' runs on WASM; backend 'wasm' (--backend wasm) skips the wait",
    ]);
    // The wait is said while it lasts, not with the answer.
    expect(notices[0]![1]).toBeLessThan(1400);
    // and why there is no adapter, for a caller that comes later (gpu/device.ts gpuUnavailableReason)
    expect(reasons).toEqual([
      "the adapter probe gave up after 1.5 s: the GPU driver did not answer (hung?), so no adapter was taken; check the driver (nvidia-smi, vulkaninfo) for the GPU, or use backend 'wasm', which skips the probe",
    ]);
  }, 5_000);

  it('says nothing anywhere without onNotice, as the library\'s other notices', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await probeDawnAdapter({ args: ['-e', 'setInterval(() => {}, 1000)'], noticeMs: 100, timeoutMs: 400, facts: node })).toBeNull();
      expect(err).not.toHaveBeenCalled();
    } finally {
      err.mockRestore();
    }
  }, 5_000);

  it("passes the child's own stderr lines (the driver's) on to stderr, not onNotice, less Dawn's two clamped-limit lines; an onNotice that throws changes no answer", async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const notices: string[] = [];
    try {
      const clamp = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';
      const child = `process.stderr.write(${JSON.stringify(`${clamp}\nWarning: vkCreateInstance: Found no drivers!\n    at CheckVkSuccessImpl\n`)}); process.stdout.write('tessera-adapter-probe null\\n')`;
      expect(await probeDawnAdapter({ args: ['-e', child], facts: node, onNotice: (m) => notices.push(m) })).toBeNull();
      expect(notices).toEqual([]);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toBe('Warning: vkCreateInstance: Found no drivers!\n    at CheckVkSuccessImpl\n');
      err.mockClear();
      const throwing = () => {
        throw new Error('a logger that fails');
      };
      expect(await probeDawnAdapter({ args: ['-e', 'setInterval(() => {}, 1000)'], noticeMs: 100, timeoutMs: 400, facts: node, onNotice: throwing })).toBeNull();
      expect(err).not.toHaveBeenCalled();
    } finally {
      err.mockRestore();
    }
  }, 10_000);

  it('leaves nothing that keeps Node alive once it gave up: a script whose stopped child left a process holding its pipes exits at the answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-probe-exit-'));
    const pidFile = join(dir, 'pid');
    try {
      // The child starts a process that inherits its stdout/stderr (as a child stuck in a driver
      // keeps its own), then hangs; the script prints the answer and has nothing left to do.
      const child = `const g = require('node:child_process').spawn('sleep', ['30'], { stdio: 'inherit' }); require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid)); setInterval(() => {}, 1000)`;
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { probeDawnAdapter } from ${JSON.stringify(join(import.meta.dirname, '../../src/gpu/dawn.js'))};
const got = await probeDawnAdapter({ args: ['-e', ${JSON.stringify(child)}], noticeMs: 300, timeoutMs: 1000, facts: { versions: { node: '20.20.2' }, env: {}, isSea: () => false } });
console.log(JSON.stringify(got));`,
      );
      const script = join(dir, 'entry.mjs');
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: script, external: ['webgpu'], logLevel: 'error' });
      const t0 = performance.now();
      // Before: it stayed up until the sleep ended (30 s; killed here at 15 s).
      const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
      expect(out.trim()).toBe('null');
      expect(performance.now() - t0).toBeLessThan(8_000);
      expect(existsSync(pidFile)).toBe(true); // the stand-in did start the process that holds the pipes
    } finally {
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')));
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('says nothing of a wait for a child that answers in time', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const notices: string[] = [];
    try {
      const answer = `process.stdout.write('tessera-adapter-probe ' + JSON.stringify({ info: { description: 'stand-in' } }) + '\\n')`;
      expect(await probeDawnAdapter({ args: ['-e', answer], noticeMs: 2000, timeoutMs: 4000, facts: node, onNotice: (m) => notices.push(m) })).toEqual({ info: { description: 'stand-in' } });
      expect(notices).toEqual([]);
      expect(err).not.toHaveBeenCalled();
    } finally {
      err.mockRestore();
    }
  }, 5_000);
});

describe('probeChildBlockedBy', () => {
  it("names the runtimes whose execPath would not run the child as Node, and none for Node itself", () => {
    expect(probeChildBlockedBy(node)).toBeUndefined();
    expect(probeChildBlockedBy({ ...node, versions: { node: '22.6.0', bun: '1.2.0' } })).toBe('Bun');
    expect(probeChildBlockedBy({ ...node, versions: { node: '22.0.0', deno: '2.1.0' } })).toBe('Deno');
    expect(probeChildBlockedBy({ ...node, versions: { node: '22.0.0', electron: '33.0.0' } })).toBe('Electron');
    // An Electron process running as Node has the fuse on: its child runs as Node too.
    expect(probeChildBlockedBy({ ...node, versions: { node: '22.0.0', electron: '33.0.0' }, env: { ELECTRON_RUN_AS_NODE: '1' } })).toBeUndefined();
    expect(probeChildBlockedBy({ ...node, isSea: () => true })).toBe('a single-executable application');
  });

  it('asks node:sea only where nothing else decided', () => {
    const isSea = vi.fn(() => true);
    expect(probeChildBlockedBy({ versions: { bun: '1.2.0' }, env: {}, isSea })).toBe('Bun');
    expect(isSea).not.toHaveBeenCalled();
  });

  it("this Node is not a single-executable application (node:sea's answer, read where it exists)", () => {
    expect(probeChildBlockedBy()).toBeUndefined();
  });

  it('probeDawnAdapter starts no child where one is blocked: a single-executable app as execPath is not started again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sea-probe-'));
    const started = join(dir, 'started');
    // The app: records that it was started, then exits without answering.
    const app = join(dir, 'app.sh');
    writeFileSync(app, `#!/bin/sh\necho started >> '${started}'\n`);
    chmodSync(app, 0o755);
    const execPath = process.execPath;
    process.execPath = app;
    try {
      expect(await probeDawnAdapter({ args: ['-e', ''], facts: { ...node, isSea: () => true } })).toBeUndefined();
      expect(existsSync(started)).toBe(false);
      // the control: the same stand-in is started where nothing blocks the child
      expect(await probeDawnAdapter({ args: ['-e', ''], facts: node })).toBeUndefined();
      expect(existsSync(started)).toBe(true);
    } finally {
      process.execPath = execPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
