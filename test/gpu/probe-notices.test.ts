/**
 * Backend 'auto''s adapter probe in Node (gpu/dawn.ts probeDawnAdapter) says a wait past 3 s and a
 * give-up at 30 s. Those lines went straight to process.stderr, so a library caller (an Electron app,
 * a service with its own logger) could neither route nor silence them; they now go through the
 * caller's onNotice, as the fallback notices do, and without one nowhere. The platform's probe is a
 * stand-in child that hangs, with the waits shortened (0.3 s, 1.5 s).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { probeDawnAdapter, type RuntimeFacts } from '../../src/gpu/dawn.js';
import { forgetAdapterProbe } from '../../src/gpu/device.js';
import { installPlatform, platform } from '../../src/platform.js';

const node: RuntimeFacts = { versions: { node: '20.20.2' }, env: {}, isSea: () => false };
const own = { ...platform() };
const WAIT = "waiting for Dawn's WebGPU adapter discovery (a child process for backend 'auto'; given up at 1.5 s): backend 'wasm' (--backend wasm) skips it";
const GAVE_UP =
  "Dawn's WebGPU adapter discovery (a child process) gave no answer in 1.5 s (a hung GPU driver?) and was stopped: taken as no adapter, backend 'auto' runs on WASM; backend 'wasm' (--backend wasm) skips the wait";
const FELL_BACK = 'no usable WebGPU adapter: "Flat" runs on the WASM (CPU) backend';

installPlatform({
  probeAdapter: (opts) => probeDawnAdapter({ ...opts, args: ['-e', 'setInterval(() => {}, 1000)'], noticeMs: 300, timeoutMs: 1500, facts: node }),
});
afterAll(() => installPlatform(own));

let err: MockInstance;
beforeEach(() => {
  forgetAdapterProbe();
  err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => err.mockRestore());

async function open(onNotice?: (m: string) => void): Promise<string> {
  const index = await indexFactory(8, 'Flat', 'ip', { backend: 'auto', threads: 1, ...(onNotice ? { onNotice } : {}) });
  await index.dispose();
  return index.backend;
}

describe("backend 'auto''s probe lines", () => {
  it('reach the onNotice of indexFactory, before its fallback notice, and nothing reaches stderr', async () => {
    const notices: string[] = [];
    expect(await open((m) => notices.push(m))).toBe('wasm');
    expect(notices).toEqual([WAIT, GAVE_UP, FELL_BACK]);
    expect(err).not.toHaveBeenCalled();
  }, 10_000);

  it('without onNotice are said nowhere, as the fallback notice is not', async () => {
    expect(await open()).toBe('wasm');
    expect(err).not.toHaveBeenCalled();
  }, 10_000);

  it('reach every caller waiting on the one probe: one that joins after the wait line hears it first', async () => {
    const first: string[] = [];
    const second: string[] = [];
    let waited!: () => void;
    const heardWait = new Promise<void>((resolve) => (waited = resolve));
    const a = open((m) => {
      first.push(m);
      if (m === WAIT) waited();
    });
    await heardWait;
    const b = open((m) => second.push(m));
    expect(await Promise.all([a, b])).toEqual(['wasm', 'wasm']);
    expect(first).toEqual([WAIT, GAVE_UP, FELL_BACK]);
    expect(second).toEqual([WAIT, GAVE_UP, FELL_BACK]);
    expect(err).not.toHaveBeenCalled();
  }, 10_000);

  it('a caller after the give-up is told why there is no adapter; the callers that heard it are not told again', async () => {
    // It said only 'no usable WebGPU adapter', no word of the probe that hung 30 s before.
    const first: string[] = [];
    const firstNotice = (m: string) => first.push(m);
    expect(await open(firstNotice)).toBe('wasm');
    expect(first).toEqual([WAIT, GAVE_UP, FELL_BACK]);
    const later: string[] = [];
    expect(await open((m) => later.push(m))).toBe('wasm');
    expect(later).toEqual([
      "no usable WebGPU adapter (the adapter probe gave up after 1.5 s: the GPU driver did not answer (hung?), so no adapter was taken; check the driver (nvidia-smi, vulkaninfo) for the GPU, or use backend 'wasm', which skips the probe): \"Flat\" runs on the WASM (CPU) backend",
    ]);
    // the first caller's onNotice again: it heard the give-up
    first.length = 0;
    expect(await open(firstNotice)).toBe('wasm');
    expect(first).toEqual([FELL_BACK]);
    expect(err).not.toHaveBeenCalled();
  }, 10_000);

  it('a caller whose onNotice throws gets its answer, and the others still hear', async () => {
    const heard: string[] = [];
    // The one that throws starts the probe, so it is told first.
    const [b, a] = await Promise.all([
      // the fallback notice's throw is that call's error, as before; the probe's lines are not
      indexFactory(8, 'Flat', 'ip', {
        backend: 'auto',
        threads: 1,
        onNotice: (m) => {
          if (m !== FELL_BACK) throw new Error('a logger that fails');
        },
      }),
      indexFactory(8, 'Flat', 'ip', { backend: 'auto', threads: 1, onNotice: (m) => heard.push(m) }),
    ]);
    expect([a.backend, b.backend]).toEqual(['wasm', 'wasm']);
    expect(heard).toEqual([WAIT, GAVE_UP, FELL_BACK]);
    await a.dispose();
    await b.dispose();
  }, 10_000);
});
