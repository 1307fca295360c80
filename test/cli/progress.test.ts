/**
 * What the CLI's progress output shows on a terminal and in a log: rates only from a measurable
 * interval, units in the singular for one, a bounded number of log lines that still come while a
 * long phase runs, a final line with the time taken, notices that do not land on a bar's line, no
 * terminal modes (hidden cursor, no line wrap) that a Ctrl-C would leave behind; and convert's HNSW
 * add as one phase.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { amount, duration, endProgressLine, progressBars, say, slowStep } from '../../src/cli/progress.js';
import type { ProgressEvent } from '../../src/core/types.js';
import { buildIndex } from '../../src/encoder/build-index.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { indexFactory } from '../../src/core/factory.js';
import { readIndex } from '../../src/io/read-index.js';
import { kmeans } from '../../src/wasm/kmeans.js';

/**
 * cli-progress moves to column 1 with CSI 1G, clears with CSI 0K (CSI 2K on the cleared column 1),
 * and saves / restores the cursor (DECSC / DECRC) on the bar's own line when a bar starts / stops;
 * spelled here as the \r and CSI K they amount to, so the assertions read the text a terminal shows.
 */
function asTerminal(written: string): string {
  return written.replace(/\x1b[78]/g, '').replace(/\x1b\[1G/g, '\r').replace(/\x1b\[[02]K/g, '\x1b[K');
}

/**
 * A stream and a clock the test moves by hand. cli-progress redraws from a timer (vitest's fake
 * timers here): moving the clock first runs the redraws due up to the last event's time, after it.
 */
function fake(isTTY: boolean) {
  let text = '';
  let t = 0;
  let ran = 0;
  const stream = { isTTY, columns: 120, write: (s: string) => ((text += s), true) };
  const at = (ms: number) => {
    vi.advanceTimersByTime(t - ran);
    ran = t;
    t = ms;
  };
  return { stream, tty: isTTY, now: () => t, at, text: () => asTerminal(text) };
}

/**
 * The lines a terminal `columns` wide shows after `written`: text, \r, \n (to column 1, as a tty's
 * ONLCR makes it), CSI nG, CSI K / 0K / 2K, and the cursor save / restore cli-progress brackets a bar with.
 */
function screen(written: string, columns = 120): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row, col };
  const line = () => (rows[row] ??= []);
  for (const [, esc, n, cmd, ch] of written.matchAll(/(\x1b[78])|\x1b\[(\d*)([GK])|([\s\S])/g)) {
    if (esc === '\x1b7') saved = { row, col };
    else if (esc === '\x1b8') ({ row, col } = saved);
    else if (cmd === 'G') col = Number(n || 1) - 1;
    else if (cmd === 'K') rows[row] = n === '2' ? [] : line().slice(0, col);
    else if (ch === '\r') col = 0;
    else if (ch === '\n') (row++, (col = 0));
    else if (ch !== undefined) {
      // Past the last column the text goes on at the start of the next row (line wrap is on).
      if (col === columns) (row++, (col = 0));
      line()[col++] = ch;
    }
    line();
  }
  return rows.map((r) => Array.from(r, (c) => c ?? ' ').join('').trimEnd());
}

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'tessera-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('progressBars', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a phase over in a millisecond gets its time, not a rate of millions a second', () => {
    for (const tty of [false, true]) {
      const f = fake(tty);
      const p = progressBars(false, f);
      p({ phase: 'writing index', done: 0, total: 2000, unit: 'rows' });
      f.at(1);
      p({ phase: 'writing index', done: 2000, total: 2000, unit: 'rows' });
      expect(f.text()).toContain('tessera: writing index: done, 2000 rows in 0.00 s\n');
      expect(f.text()).not.toMatch(/rows\/s|eta|Infinity|NaN/);
    }
  });

  it('says the rate and the ETA once a second has gone by', () => {
    const f = fake(false);
    const p = progressBars(false, f);
    p({ phase: 'encoding passages', done: 0, total: 1000, unit: 'rows' });
    f.at(12_000);
    p({ phase: 'encoding passages', done: 600, total: 1000, unit: 'rows' });
    f.at(20_000);
    p({ phase: 'encoding passages', done: 1000, total: 1000, unit: 'rows' });
    expect(f.text().split('\n')).toEqual([
      'tessera: encoding passages (1000 rows)...',
      'tessera: encoding passages: 600 / 1000 rows (60%), 50 rows/s, eta 8 s',
      'tessera: encoding passages: done, 1000 rows in 20.0 s (50 rows/s)',
      '',
    ]);
  });

  it('a resumed phase says where it starts, and its rate counts only what this run did', () => {
    const f = fake(false);
    const p = progressBars(false, f);
    p({ phase: 'encoding passages', done: 704, total: 8000, unit: 'rows' });
    f.at(2000);
    p({ phase: 'encoding passages', done: 8000, total: 8000, unit: 'rows' });
    expect(f.text()).toBe('tessera: encoding passages (8000 rows, 704 done)...\ntessera: encoding passages: done, 8000 rows in 2.00 s (3648 rows/s)\n');
  });

  it('one of a unit is said in the singular', () => {
    const f = fake(false);
    const p = progressBars(false, f);
    p({ phase: 'writing index', done: 0, unit: 'files' });
    p({ phase: 'writing index', done: 1, total: 1, unit: 'files' });
    expect(f.text()).toBe('tessera: writing index...\ntessera: writing index: done, 1 file in 0.00 s\n');
    expect(amount(1, 'iterations')).toBe('1 iteration');
    expect(amount(2, 'iterations')).toBe('2 iterations');
    expect(amount(1536, 'bytes')).toBe('1.5 KiB');
    expect(duration(245)).toBe('4 min 05 s');
  });

  it('a log gets a line every 10 s of a long phase, not one per event nor none for minutes', () => {
    const f = fake(false);
    const p = progressBars(false, f);
    // k-means of 10 iterations over 5 minutes, reported 100 times a second
    for (let ms = 0; ms <= 300_000; ms += 10) {
      f.at(ms);
      p({ phase: 'k-means', done: Math.floor(ms / 30_000), total: 10, unit: 'iterations' });
    }
    const lines = f.text().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(30);
    expect(lines.length).toBeLessThanOrEqual(32);
    expect(lines.at(-1)).toBe('tessera: k-means: done, 10 iterations in 5 min 00 s (30.0 s/iteration)');
  });

  it('on a terminal: redraws at most 10 times a second, a done line at the end, no cursor or wrap modes left set', () => {
    const f = fake(true);
    const p = progressBars(false, f);
    for (let i = 0; i <= 2000; i++) {
      f.at(i);
      p({ phase: 'adding vectors', done: i, total: 2000, unit: 'vectors' });
    }
    const frames = f.text().split('\r').length - 1;
    expect(frames).toBeLessThanOrEqual(25);
    expect(f.text()).toMatch(/\r\x1b\[Ktessera: adding vectors: done, 2000 vectors in 2\.00 s \(1000 vectors\/s\)\n$/);
    expect(f.text()).toContain('tessera: adding vectors [===============---------------] 50% 1000 / 2000 vectors | 1000 vectors/s | eta 1 s');
    expect(f.text()).not.toMatch(/\x1b\[\?(25|7)[lh]/);
  });

  it('a phase left unfinished (an error, Ctrl-C) ends its line before the next output', () => {
    const f = fake(true);
    const p = progressBars(false, f);
    p({ phase: 'indexing corpus rows', done: 10, total: 100, unit: 'bytes' });
    p({ phase: 'encoding passages', done: 0, total: 5, unit: 'rows' });
    expect(f.text()).toMatch(/^\rtessera: indexing corpus rows \[[-=]+\] 10% 10 B \/ 100 B\x1b\[K\n\rtessera: encoding passages/);
  });

  it('a notice while a bar is drawn goes on a line of its own above the bar', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      const p = progressBars(false, { stream: process.stderr, tty: true, now: () => 0 });
      p({ phase: 'encoding passages', done: 64, total: 2000, unit: 'rows' });
      say('SIGINT: stopping once the batch being encoded is checkpointed');
      p({ phase: 'encoding passages', done: 2000, total: 2000, unit: 'rows' });
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const text = asTerminal(written.join(''));
    expect(text).toContain('\x1b[K\r\x1b[Ktessera: SIGINT: stopping once the batch being encoded is checkpointed\ntessera: encoding passages [');
    expect(text.endsWith('tessera: encoding passages: done, 2000 rows in 0.00 s\n')).toBe(true);
  });

  it("a notice on a terminal with no bar drawn goes over the terminal's echo of Ctrl-C, not after it ('^Ctessera: SIGINT: shutting down')", () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    try {
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      say('listening on http://127.0.0.1:8000');
      written.push('^C'); // the terminal's echo of the keypress
      say('SIGINT: shutting down (in-flight requests finish first)');
      expect(screen(written.join(''))).toEqual(['tessera: listening on http://127.0.0.1:8000', 'tessera: SIGINT: shutting down (in-flight requests finish first)', '']);
      // A log gets no carriage returns.
      written.length = 0;
      Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
      say('SIGINT: shutting down (in-flight requests finish first)');
      expect(written.join('')).toBe('tessera: SIGINT: shutting down (in-flight requests finish first)\n');
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });

  it('on the screen: a notice above the bar stays when the phase ends, and the done line replaces the bar', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      let t = 0;
      const p = progressBars(false, { stream: process.stderr, tty: true, now: () => t });
      p({ phase: 'indexing corpus rows', done: 10, total: 100, unit: 'bytes' });
      p({ phase: 'encoding passages', done: 64, total: 2000, unit: 'rows' });
      t = 2000;
      say('SIGINT: stopping once the batch being encoded is checkpointed');
      p({ phase: 'encoding passages', done: 1000, total: 2000, unit: 'rows' });
      vi.advanceTimersByTime(100);
      p({ phase: 'encoding passages', done: 2000, total: 2000, unit: 'rows' });
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    // cli-progress restores the cursor it saved when the bar started: saved on the notice's line, its
    // stop cleared the notice and the done line went there, over it, with the bar left below.
    expect(screen(written.join(''))).toEqual([
      'tessera: indexing corpus rows [===---------------------------] 10% 10 B / 100 B',
      'tessera: SIGINT: stopping once the batch being encoded is checkpointed',
      'tessera: encoding passages: done, 2000 rows in 2.00 s (968 rows/s)',
      '',
    ]);
  });

  it('an error ending the command mid-phase goes below the bar, not onto its line, and no blank line follows', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      const p = progressBars(false, { stream: process.stderr, tty: true, now: () => 0 });
      p({ phase: 'encoding passages', done: 64, total: 2000, unit: 'rows' });
      // What main.ts's reportAndExit does before its console.error.
      endProgressLine();
      process.stderr.write('tessera: corpus.jsonl:6001: not JSON [FORMAT]\n');
      endProgressLine();
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    expect(screen(written.join(''))).toEqual(['tessera: encoding passages [=-----------------------------] 3% 64 / 2000 rows', 'tessera: corpus.jsonl:6001: not JSON [FORMAT]', '']);
  });

  it('on a narrow terminal the line fits: the bar shrinks, then the rate goes, then the bar; no wrap onto a row redraws leave behind', () => {
    const shown = (columns: number) => {
      const f = fake(true);
      f.stream.columns = columns;
      const p = progressBars(false, f);
      for (let i = 0; i < 1500; i += 10) {
        f.at(i);
        p({ phase: 'encoding passages', done: i, total: 2000, unit: 'rows' });
      }
      f.at(1600);
      return screen(f.text(), columns);
    };
    expect(shown(90)).toEqual([expect.stringMatching(/^tessera: encoding passages \[[=-]{15}\] 7\d% 14\d0 \/ 2000 rows \| 1000 rows\/s \| eta 1 s$/)]);
    expect(shown(80)).toEqual([expect.stringMatching(/^tessera: encoding passages \[=+-+\] 7\d% 14\d0 \/ 2000 rows \| eta 1 s$/)]);
    expect(shown(60)).toEqual([expect.stringMatching(/^tessera: encoding passages 7\d% 14\d0 \/ 2000 rows \| eta 1 s$/)]);
    expect(shown(50)).toEqual([expect.stringMatching(/^tessera: encoding passages 7\d% 14\d0 \/ 2000 rows/)]);
    expect(shown(50)[0]).toHaveLength(49);
  });

  it('TERM=dumb: a terminal without cursor escapes gets the log lines, not escape codes', () => {
    vi.stubEnv('TERM', 'dumb');
    try {
      const f = fake(true);
      const p = progressBars(false, { stream: f.stream, now: f.now });
      p({ phase: 'k-means', done: 0, total: 3, unit: 'iterations' });
      p({ phase: 'k-means', done: 3, total: 3, unit: 'iterations' });
      expect(f.text()).toBe('tessera: k-means (3 iterations)...\ntessera: k-means: done, 3 iterations in 0.00 s\n');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('--quiet: nothing', () => {
    const f = fake(true);
    const p = progressBars(true, f);
    p({ phase: 'k-means', done: 0, total: 3, unit: 'iterations' });
    p({ phase: 'k-means', done: 3, total: 3, unit: 'iterations' });
    expect(f.text()).toBe('');
  });
});

describe('convert HNSW: the graph build is the add phase', () => {
  it("one phase counting up to n, not a 'building HNSW graph' phase per chunk and an add 'done in 0.00 s'", async () => {
    const input = join(dir, 'in.f32');
    writeFileSync(input, new Uint8Array(new Float32Array(600 * 8).map((_, i) => Math.sin(i * 0.37)).buffer));
    const events: ProgressEvent[] = [];
    const r = await convertIndex({ input, output: join(dir, 'out.hnsw'), indexType: 'HNSW8', dim: 8, threads: 1, onProgress: (e) => events.push(e) });
    expect(r.ntotal).toBe(600);
    const adds = events.filter((e) => e.phase !== 'writing index' && e.phase !== 'reading vectors');
    expect(adds.map((e) => e.phase).every((ph) => ph === 'adding to HNSW8')).toBe(true);
    const done = adds.map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(600);
    expect(done.filter((d) => d === 600)).toHaveLength(1);
  });
});

describe('slowStep', () => {
  const sleep = (ms: number) => new Promise<string>((r) => setTimeout(() => r('model'), ms));
  it('a step without progress of its own (a model load) is said once it takes long, with its time', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    expect(await slowStep('loading model e5', () => sleep(80), 20)).toBe('model');
    expect(written[0]).toBe('tessera: loading model e5...\n');
    expect(written[1]).toMatch(/^tessera: loading model e5: done in 0\.\d\d s\n$/);
    expect(written).toHaveLength(2);
  });

  it('a quick one says nothing', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    await slowStep('loading model e5', () => sleep(0), 1000);
    await expect(slowStep('loading model e5', () => Promise.reject(new Error('no model.onnx')), 1000)).rejects.toThrow('no model.onnx');
    await sleep(30);
    expect(written).toEqual([]);
  });
});

describe('convert IVF: the training sample', () => {
  it('is reported from 0 rows, not from its first 4096 (a sparse sample of a large file)', async () => {
    const input = join(dir, 'sample-in.f32');
    writeFileSync(input, new Uint8Array(new Float32Array(20_000 * 4).map((_, i) => Math.sin(i * 0.37)).buffer));
    const events: ProgressEvent[] = [];
    await convertIndex({ input, output: join(dir, 'sample.ivf'), indexType: 'IVF4,Flat', dim: 4, threads: 1, trainSize: 8192, onProgress: (e) => events.push(e) });
    const sample = events.filter((e) => e.phase === 'reading training sample').map((e) => e.done);
    expect(sample[0]).toBe(0);
    expect(sample.at(-1)).toBe(8192);
  });
});

describe('k-means progress', () => {
  it('starts at 0 iterations: the first iteration is shown and timed, not only those after it', async () => {
    const d = 4;
    const x = new Float32Array(400 * d).map((_, i) => Math.sin(i * 0.7));
    const events: ProgressEvent[] = [];
    await kmeans(x, d, 8, 'l2', { seed: 1, niter: 3, threads: 1, onProgress: (e) => events.push(e) });
    expect(events.map((e) => `${e.phase} ${e.done}/${e.total} ${e.unit}`)).toEqual(['k-means 0/3 iterations', 'k-means 1/3 iterations', 'k-means 2/3 iterations', 'k-means 3/3 iterations']);
  });
});

describe('an HNSW file rebuilt as shards', () => {
  it('reports the rebuild from 0, not only once its first chunk is built', async () => {
    const input = join(dir, 'shards-in.f32');
    writeFileSync(input, new Uint8Array(new Float32Array(3000 * 8).map((_, i) => Math.sin(i * 0.37)).buffer));
    const file = join(dir, 'shards.hnsw');
    await convertIndex({ input, output: file, indexType: 'HNSW8', dim: 8, threads: 1 });
    const events: string[] = [];
    const index = await readIndex(file, { backend: 'wasm', threads: 1, shardBytes: 256 << 10, onProgress: (e) => events.push(`${e.phase} ${e.done}/${e.total} ${e.unit}`) });
    try {
      expect(index.ntotal).toBe(3000);
      expect(events[0]).toBe('building HNSW shards 0/3000 vectors');
      expect(events.at(-1)).toBe('building HNSW shards 3000/3000 vectors');
    } finally {
      await index.dispose();
    }
  });
});

describe('build of a trained or graph index', () => {
  it("HNSW: the graph build moves the 'adding vectors' count within a chunk, and the index write is a phase", async () => {
    const corpus = join(dir, 'corpus.jsonl');
    writeFileSync(corpus, readFileSync(join(ROOT, 'assets/demo/corpus.jsonl'), 'utf8').split('\n').slice(0, 600).join('\n') + '\n');
    const encoder = await Encoder.fromDirectory(join(ROOT, 'assets/demo/model'), { batchSize: 64, threads: 1 });
    const events: ProgressEvent[] = [];
    try {
      await buildIndex({ corpus, out: join(dir, 'build-hnsw'), encoder, indexType: 'HNSW8', onProgress: (e) => events.push(e) });
    } finally {
      await encoder.dispose();
    }
    const adds = events.filter((e) => e.phase === 'adding vectors').map((e) => e.done);
    expect(adds).toEqual([...adds].sort((a, b) => a - b));
    expect(adds.some((d) => d > 0 && d < 600)).toBe(true);
    expect(adds.at(-1)).toBe(600);
    const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases.slice(-2)).toEqual(['adding vectors', 'writing index']);
    expect(events.at(-1)).toEqual({ phase: 'writing index', done: 1, total: 1, unit: 'files' });
  });
});

describe('IVF add', () => {
  it('reports from 0 vectors, not from the end of its first batch', async () => {
    const d = 4;
    const x = new Float32Array(2000 * d).map((_, i) => Math.sin(i * 0.37));
    const events: string[] = [];
    const index = await indexFactory(d, 'IVF4,Flat', 'l2', { backend: 'wasm', threads: 1, onProgress: (e) => events.push(`${e.phase} ${e.done}/${e.total}`) });
    try {
      await index.train(x);
      events.length = 0;
      await index.add(x);
      expect(events[0]).toBe('adding 0/2000');
      expect(events.at(-1)).toBe('adding 2000/2000');
    } finally {
      await index.dispose();
    }
  });
});
