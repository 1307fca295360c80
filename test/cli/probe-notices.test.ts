/**
 * The CLI still prints backend 'auto''s probe lines (a wait past 3 s, a give-up at 30 s) on stderr
 * now that the library says them through onNotice (test/gpu/probe-notices): `info`, `search` and
 * `serve` hand the probe their stderr printer. The probe is a stand-in child that hangs, with the
 * waits shortened (0.3 s, 1.5 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register as registerInfo } from '../../src/cli/commands/info.js';
import { register as registerSearch } from '../../src/cli/commands/search.js';
import { probeDawnAdapter, type RuntimeFacts } from '../../src/gpu/dawn.js';
import { forgetAdapterProbe } from '../../src/gpu/device.js';
import { writeVectors } from '../../src/io/vectors.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';
import { runCommand } from '../helpers/cli.js';
import { DEMO_D, DEMO_MODEL as MODEL, saveSmallFlatIndex, writeSmallCorpus } from '../helpers/cli-files.js';

const D = 8;
const node: RuntimeFacts = { versions: { node: '20.20.2' }, env: {}, isSea: () => false };
const own = { ...platform() };
const tmp = mkdtempSync(join(tmpdir(), 'tessera-cli-probe-notices-'));
/** The probe's lines as the CLI prints them, in its words (server/files.ts asCliWords). */
const WAIT = "waiting for Dawn's WebGPU adapter discovery (a child process for --backend auto; given up at 1.5 s): --backend wasm skips it";
const GAVE_UP = "Dawn's WebGPU adapter discovery (a child process) gave no answer in 1.5 s (a hung GPU driver?) and was stopped: taken as no adapter, --backend auto runs on WASM; --backend wasm skips the wait";

beforeAll(async () => {
  await saveSmallFlatIndex(join(tmp, 'flat.index'), D);
  await writeVectors(join(tmp, 'q.npy'), Float32Array.from({ length: D }, (_, i) => Math.sin(i)), D);
  await saveSmallFlatIndex(join(tmp, 'demo-d.index'), DEMO_D);
  writeSmallCorpus(join(tmp, 'corpus.jsonl'));
  installPlatform({
    probeAdapter: (opts) => probeDawnAdapter({ ...opts, args: ['-e', 'setInterval(() => {}, 1000)'], noticeMs: 300, timeoutMs: 1500, facts: node }),
  });
});
afterAll(() => {
  installPlatform(own);
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => forgetAdapterProbe());

/** stderr's lines, the terminal's carriage returns left out. */
const lines = (stderr: string) => stderr.split('\n').map((l) => l.replace(/^\r/, '')).filter(Boolean);

describe("the CLI prints the probe's lines on stderr", () => {
  it('info, before its table', async () => {
    const seen = { stderr: '' };
    const out = await runCommand(registerInfo, ['info', join(tmp, 'flat.index')], seen);
    expect(lines(seen.stderr)).toEqual([`tessera: ${WAIT}`, `tessera: ${GAVE_UP}`]);
    expect(out).toMatch(/^backends +gpu \(no WebGPU adapter here\), wasm \(available\)$/m);
  }, 10_000);

  it('search, once, before the fallback notice', async () => {
    const seen = { stderr: '' };
    await runCommand(registerSearch, ['search', '--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', '2', '--threads', '1', '--json'], seen);
    expect(lines(seen.stderr).slice(0, 3)).toEqual([
      `tessera: ${WAIT}`,
      `tessera: ${GAVE_UP}`,
      `tessera: no usable WebGPU adapter: IndexFlatIP file ${join(tmp, 'flat.index')} runs on the WASM (CPU) backend`,
    ]);
    expect(seen.stderr.split(WAIT).length).toBe(2); // said once: the load joins the finished probe
  }, 10_000);

  it('serve, through its printer in the CLI\'s words (as its other notices), as the wait happens (not held for the backend line)', async () => {
    const said: [string, number][] = [];
    const t0 = performance.now();
    // No model folder: the start fails after the probe.
    const start = serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: join(tmp, 'no-model'), port: 0, threads: 1, say: (l) => said.push([l, performance.now() - t0]) });
    await expect(start).rejects.toThrow(/no-model/);
    const probe = said.filter(([l]) => !l.startsWith('index file '));
    expect(probe.map(([l]) => l)).toEqual([WAIT, GAVE_UP]);
    expect(probe[0]![1]).toBeLessThan(1400);
  }, 10_000);

  it("serve's backend line after the give-up it printed names no reason again (one printer for the probe and the load)", async () => {
    const said: string[] = [];
    const service = await serveFiles({ index: join(tmp, 'demo-d.index'), corpus: join(tmp, 'corpus.jsonl'), model: MODEL, offsets: join(tmp, 'corpus.offsets'), port: 0, threads: 1, say: (l) => said.push(l) });
    try {
      await service.ready;
    } finally {
      await service.close();
    }
    const backend = said.filter((l) => l.startsWith('backend: '));
    expect(backend).toEqual([`backend: wasm (no usable WebGPU adapter: IndexFlatIP file ${join(tmp, 'demo-d.index')} runs on the WASM (CPU) backend)`]);
    expect(said.filter((l) => l === GAVE_UP)).toHaveLength(1);
  }, 30_000);
});
