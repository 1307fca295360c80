/** `tessera build` pipeline and the encode/build commands on a toy model: output files, bad rows, resume after a crash. */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { buildIndex, lineNumbersOf } from '../../src/encoder/build-index.js';
import { isTesseraError } from '../../src/core/errors.js';
import type { ProgressEvent } from '../../src/core/types.js';
import { inspectIndex } from '../../src/io/read-index.js';
import { openCorpus } from '../../src/io/corpus.js';
import { nodeFileSystem, openAtomicFileSink, tempFilePath, thisWriter } from '../../src/io/node-fs.js';
import { readTexts, register as registerEncode } from '../../src/cli/commands/encode.js';
import { register as registerBuild } from '../../src/cli/commands/build.js';
import { SIGNAL_REPEAT_MS } from '../../src/cli/signal-cleanup.js';
import { writeToyFolder } from './toy-model.js';
import { runCommand } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DIM = 6;
const model = writeToyFolder(join(root, 'toy-model'), DIM);
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'a'];

// 40 good rows, an empty line, a row that is not JSON (line 13), one without "contents" (line 25).
const lines: string[] = [];
for (let i = 0; i < 40; i++) {
  lines.push(JSON.stringify({ id: String(i), contents: `"${WORDS[i % 8]}"\n${WORDS[(i * 3) % 8]} ${WORDS[(i * 5 + 1) % 8]} ${i % 2 ? 'dogs' : ''}` }));
}
lines.splice(6, 0, '');
lines.splice(12, 0, '{"id": "bad", contents: oops');
lines.splice(24, 0, '{"id": "nocontents", "body": "x"}');
const corpusText = lines.join('\n') + '\n';
const corpus = join(root, 'corpus.jsonl');
writeFileSync(corpus, corpusText);
const ROWS = 42; // non-empty lines

let enc: Encoder;
beforeAll(async () => {
  enc = await Encoder.fromDirectory(model, { batchSize: 8 });
});
afterAll(() => enc.dispose());

function indexRows(path: string, n: number): Float32Array {
  const bytes = readFileSync(path);
  const data = bytes.subarray(bytes.length - n * DIM * 4);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
}

describe('buildIndex', () => {
  let reference: Float32Array;

  it('writes Flat.index (IndexFlatIP, row i = corpus row i), the offset table and build.json; bad rows are zero vectors with line numbers', async () => {
    const out = join(root, 'out-a');
    const notes: string[] = [];
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, say: (l) => notes.push(l) });
    expect(r.index).toBe(join(out, 'Flat.index'));
    const info = await inspectIndex(r.index);
    expect(info).toMatchObject({ d: DIM, ntotal: ROWS, metric: 'ip', type: 'IndexFlatIP' });
    expect(r.badRows).toEqual([
      { row: 11, line: 13, reason: expect.stringMatching(/^not JSON/) },
      { row: 23, line: 25, reason: 'no string "contents" (or "title" + "text") field' },
    ]);
    expect(notes.some((n) => n.includes('corpus.jsonl:13: not JSON'))).toBe(true);
    reference = indexRows(r.index, ROWS);
    // Each row equals encoding its passage alone (batch vs one-by-one), bad rows are zero.
    const c = await openCorpus(corpus, { offsetsPath: r.offsets });
    expect(c.rows).toBe(ROWS);
    for (let i = 0; i < ROWS; i++) {
      const row = reference.subarray(i * DIM, (i + 1) * DIM);
      if (i === 11 || i === 23) {
        expect(Array.from(row)).toEqual(new Array(DIM).fill(0));
        continue;
      }
      const one = await enc.encode([(JSON.parse(await c.row(i)) as { contents: string }).contents], { prefix: 'passage' });
      for (let k = 0; k < DIM; k++) expect(Math.abs(row[k]! - one[k]!)).toBeLessThan(1e-6);
    }
    await c.close();
    const manifest = JSON.parse(readFileSync(r.manifest, 'utf8'));
    expect(manifest).toMatchObject({ rows: ROWS, dim: DIM, index: 'Flat.index', offsets: 'corpus.jsonl.offsets', metric: 'ip' });
    expect(existsSync(join(out, '.tessera-build'))).toBe(false);
  });

  it('resumes after a simulated crash: nothing lost, nothing duplicated (even with a half-recorded batch)', async () => {
    const out = join(root, 'out-crash');
    let checkpoints = 0;
    const crash = new Error('simulated crash');
    await expect(
      buildIndex({
        corpus,
        out,
        encoder: enc,
        batch: 8,
        onCheckpoint: () => {
          if (++checkpoints === 3) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    expect(existsSync(join(out, 'Flat.index'))).toBe(false);
    // A crash after a batch's vectors hit the disk but before its state did: 8 stray rows.
    appendFileSync(join(out, '.tessera-build', 'vectors.f32'), new Uint8Array(8 * DIM * 4).fill(7));
    const notes: string[] = [];
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, say: (l) => notes.push(l) });
    expect(r.resumedFrom).toBe(24);
    expect(notes.some((n) => /resuming: 24 of 42 rows/.test(n))).toBe(true);
    expect((await inspectIndex(r.index)).ntotal).toBe(ROWS);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
    expect(r.badRows.map((b) => b.line)).toEqual([13, 25]);
  });

  it('a resume at another --batch writes the same index, byte for byte, on a real BERT (a text was padded to the longest of its batch, which moved its vector ~3e-8)', async () => {
    const bert = await Encoder.fromDirectory(join(import.meta.dirname, '..', 'fixtures', 'encoder', 'hf-bert-tiny'), { batchSize: 64, threads: 1 });
    const dim = bert.dim;
    try {
      const words = 'the cat sat on the mat while a dog ran across the field near the river bank under a bright sky'.split(' ');
      const path = join(root, 'varied-lengths.jsonl');
      const texts = Array.from({ length: 30 }, (_, i) => Array.from({ length: 3 + ((i * 7) % 37) }, (_, k) => words[(i + k * 3) % words.length]).join(' '));
      writeFileSync(path, texts.map((t, i) => JSON.stringify({ id: String(i), contents: t })).join('\n') + '\n');
      const whole = await buildIndex({ corpus: path, out: join(root, 'out-batch-whole'), encoder: bert, batch: 16 });
      const out = join(root, 'out-batch-resumed');
      const stop = new Error('stop');
      await expect(buildIndex({ corpus: path, out, encoder: bert, batch: 5, onCheckpoint: (n) => { if (n === 10) throw stop; } })).rejects.toBe(stop);
      const resumed = await buildIndex({ corpus: path, out, encoder: bert, batch: 7 });
      expect(resumed.resumedFrom).toBe(10);
      expect(readFileSync(resumed.index).equals(readFileSync(whole.index))).toBe(true);
      // And each row is the text encoded alone.
      const alone = new Float32Array(texts.length * dim);
      for (let i = 0; i < texts.length; i++) alone.set(await bert.encode([texts[i]!], { prefix: 'passage' }), i * dim);
      const bytes = readFileSync(whole.index);
      expect(bytes.subarray(bytes.length - alone.byteLength).equals(Buffer.from(alone.buffer))).toBe(true);
    } finally {
      await bert.dispose();
    }
  });

  it('a resume after an in-place edit of the encoded rows that kept size and mtime is refused naming --restart (their old vectors were indexed for the new text); an edit past them resumes', async () => {
    const path = join(root, 'edited-in-place.jsonl');
    const out = join(root, 'out-edited-in-place');
    const stop = new Error('stop');
    const interrupted = async () => {
      writeFileSync(path, corpusText);
      utimesSync(path, 1_700_000_000, 1_700_000_000);
      await expect(buildIndex({ corpus: path, out, encoder: enc, batch: 8, restart: true, onCheckpoint: (n) => { if (n === 16) throw stop; } })).rejects.toBe(stop);
    };
    const editInPlace = (row: string, to: string) => {
      const text = readFileSync(path, 'utf8');
      expect(text.includes(row) && row.length === to.length).toBe(true);
      writeFileSync(path, text.replace(row, to));
      utimesSync(path, 1_700_000_000, 1_700_000_000);
    };
    // Row 3's passage, same length, its last letter changed: the offset table still fits, size and mtime are the same.
    await interrupted();
    const row3 = lines[3]!;
    editInPlace(row3, row3.replace(/[a-z](?=[^a-z]*$)/, 'X'));
    await expect(buildIndex({ corpus: path, out, encoder: enc, batch: 8 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/is not the one the checkpoint in .*\.tessera-build was made from: its 16 encoded rows \(bytes 0 to \d+\) now hold other bytes.*rerun with --restart/),
    });
    // The checkpoint is kept: with the corpus restored, the build resumes it (a Ctrl-C during the check stops it, changing nothing).
    editInPlace(row3.replace(/[a-z](?=[^a-z]*$)/, 'X'), row3);
    const interrupt = new AbortController();
    interrupt.abort(stop);
    const checking: string[] = [];
    await expect(buildIndex({ corpus: path, out, encoder: enc, batch: 8, signal: interrupt.signal, onProgress: (e) => checking.push(e.phase) })).rejects.toBe(stop);
    expect(checking).toContain('checking the encoded rows against the corpus');
    const resumed = await buildIndex({ corpus: path, out, encoder: enc, batch: 8 });
    expect(resumed.resumedFrom).toBe(16);
    expect(Buffer.from(indexRows(resumed.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
    // An edit of a row not yet encoded: resumed, and the row encoded as it is now.
    await interrupted();
    const row30 = lines[31]!; // row 30: line 32 (the empty line 7 is no row)
    const edited = row30.replace(/[a-z](?=[^a-z]*$)/, 'X');
    editInPlace(row30, edited);
    const r = await buildIndex({ corpus: path, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(16);
    const want = await enc.encode([(JSON.parse(edited) as { contents: string }).contents], { prefix: 'passage' });
    expect(Array.from(indexRows(r.index, ROWS).subarray(30 * DIM, 31 * DIM))).toEqual(Array.from(want));
  });

  it('a corpus changed while it is encoded fails at the end of encoding (FORMAT) instead of indexing rows of two versions', async () => {
    const path = join(root, 'changed-during.jsonl');
    writeFileSync(path, corpusText);
    const out = join(root, 'out-changed-during');
    const err = await buildIndex({ corpus: path, out, encoder: enc, batch: 8, onCheckpoint: (n) => { if (n === 16) utimesSync(path, 1_700_000_000, 1_700_000_000); } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/changed-during\.jsonl changed while it was being encoded .*rerun the same command/) });
    expect(existsSync(join(out, 'Flat.index'))).toBe(false);
    const r = await buildIndex({ corpus: path, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(0);
  });

  it('starts over when the corpus changed since the checkpoint, or when told to', async () => {
    const out = join(root, 'out-changed');
    const stop = new Error('stop');
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, onCheckpoint: () => { throw stop; } })).rejects.toBe(stop);
    const notes: string[] = [];
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, restart: true, say: (l) => notes.push(l) });
    expect(r.resumedFrom).toBe(0);
    const other = join(root, 'corpus2.jsonl');
    writeFileSync(other, corpusText);
    await expect(buildIndex({ corpus: other, out, encoder: enc, batch: 8, onCheckpoint: () => { throw stop; } })).rejects.toBe(stop);
    writeFileSync(other, corpusText + JSON.stringify({ id: 'x', contents: 'cat' }) + '\n');
    const r2 = await buildIndex({ corpus: other, out, encoder: enc, batch: 8, say: (l) => notes.push(l) });
    expect(r2.resumedFrom).toBe(0);
    expect(r2.rows).toBe(ROWS + 1);
    expect(notes.some((n) => n.includes('another corpus or model'))).toBe(true);
  });

  it('a second build into the same --out while one runs is INVALID_ARGUMENT naming the lock (both appended to one vectors.f32: mixed, duplicated rows); a lock left by a killed build is taken over', async () => {
    const out = join(root, 'out-locked');
    let release!: () => void;
    let paused!: () => void;
    const isPaused = new Promise<void>((r) => (paused = r));
    const first = buildIndex({
      corpus,
      out,
      encoder: enc,
      batch: 8,
      onCheckpoint: (n) => {
        if (n !== 16) return;
        paused();
        return new Promise<void>((r) => (release = r));
      },
    });
    await isPaused;
    const second = await buildIndex({ corpus, out, encoder: enc, batch: 8 }).catch((e: unknown) => e);
    release();
    expect(isTesseraError(second) && second.code === 'INVALID_ARGUMENT' && /in use by another build \(process \d+, .*\.tessera-build\.lock\)/.test(second.message)).toBe(true);
    const r = await first;
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
    expect(existsSync(join(out, '.tessera-build.lock'))).toBe(false);
    // A SIGKILLed build leaves its lock; its process is gone, so the next build takes it over.
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(out, '.tessera-build.lock'), JSON.stringify({ pid: Number(dead), host: hostname() }));
    const notes: string[] = [];
    await buildIndex({ corpus, out, encoder: enc, batch: 8, restart: true, say: (l) => notes.push(l) });
    expect(notes.some((n) => n.includes(`taking over`) && n.includes(`process ${dead}`))).toBe(true);
  });

  it('a lock whose process id now belongs to a later process (a restarted container gives its build the same small pid) is taken over, not refused forever as in use', async (ctx) => {
    if (!existsSync('/proc/self/stat')) return ctx.skip();
    const out = join(root, 'out-pid-reused');
    mkdirSync(out, { recursive: true });
    // This very process, but started at another time than the lock's holder: the holder is gone.
    writeFileSync(join(out, '.tessera-build.lock'), JSON.stringify({ pid: process.pid, host: hostname(), start: '1' }));
    const notes: string[] = [];
    await buildIndex({ corpus, out, encoder: enc, batch: 8, say: (l) => notes.push(l) });
    expect(notes.some((n) => n.startsWith('taking over') && n.includes(`process ${process.pid}`))).toBe(true);
  });

  it('builds that find one stale lock at the same moment: exactly one takes it over, the others are refused naming it (each removed the lock and made its own: both ran, mixing rows)', async () => {
    const out = join(root, 'out-lock-race');
    mkdirSync(out, { recursive: true });
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    for (let round = 0; round < 4; round++) {
      writeFileSync(join(out, '.tessera-build.lock'), JSON.stringify({ pid: Number(dead), host: hostname() }));
      const notes: string[] = [];
      // The winner holds the lock until the others gave up (or 3 s passed: two winners would wait for each other).
      let refused = 0;
      let othersDone!: () => void;
      const gate = new Promise<void>((r) => {
        othersDone = r;
        setTimeout(r, 3000);
      });
      const build = () => buildIndex({ corpus, out, encoder: enc, batch: 8, restart: true, say: (l) => notes.push(l), onCheckpoint: () => gate });
      const runs = await Promise.allSettled(
        [0, 1, 2].map(() =>
          build().catch((e: unknown) => {
            if (++refused === 2) othersDone();
            throw e;
          }),
        ),
      );
      const won = runs.filter((r) => r.status === 'fulfilled');
      const lost = runs.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won.length, String(lost.map((l) => l.reason))).toBe(1);
      for (const l of lost) expect(l.reason).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/in use by another build \(process \d+, .*\.tessera-build\.lock\)/) });
      expect(notes.filter((n) => n.startsWith('taking over')).length).toBe(1);
      expect(Buffer.from(indexRows(join(out, 'Flat.index'), ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
      expect(readdirSync(out).filter((f) => f.startsWith('.tessera-build'))).toEqual([]);
    }
    // A build killed while taking over leaves <lock>.takeover: the next is told to delete it, never guesses.
    writeFileSync(join(out, '.tessera-build.lock'), JSON.stringify({ pid: Number(dead), host: hostname() }));
    writeFileSync(join(out, '.tessera-build.lock.takeover'), '');
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/did not finish \(.*\.tessera-build\.lock\.takeover is still there after 2 s; it was killed while doing so\): delete .*\.takeover if no build runs/),
    });
  });

  it('an abort (the CLI aborts on Ctrl-C / SIGTERM) stops at the next checkpoint, says what it keeps and releases the lock; the rerun resumes there (Ctrl-C killed the process silently, leaving a stale lock)', async () => {
    const out = join(root, 'out-interrupted');
    const interrupt = new AbortController();
    const reason = new Error('SIGINT');
    const notes: string[] = [];
    const run = buildIndex({ corpus, out, encoder: enc, batch: 8, signal: interrupt.signal, say: (l) => notes.push(l), onCheckpoint: (n) => { if (n === 16) interrupt.abort(reason); } });
    await expect(run).rejects.toBe(reason);
    expect(notes).toContain(`interrupted: 16 of ${ROWS} rows are in the checkpoint ${join(out, '.tessera-build')}; rerun the same command to resume from there`);
    expect(existsSync(join(out, '.tessera-build.lock'))).toBe(false);
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(16);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('an abort during the corpus scan for its offset table (minutes on wiki-18) stops the scan there, leaving no table nor temp file (it ran to the end first)', async () => {
    const out = join(root, 'out-abort-scan');
    const interrupt = new AbortController();
    const reason = new Error('SIGINT');
    const run = buildIndex({ corpus, out, encoder: enc, signal: interrupt.signal, onProgress: (e) => { if (e.phase === 'indexing corpus rows') interrupt.abort(reason); } });
    await expect(run).rejects.toBe(reason);
    expect(readdirSync(out)).toEqual([]);
  });

  it('an abort while the index is written stops there (no index, no temp file), says all rows are in the checkpoint, and the rerun writes it without encoding (it was ignored: the build finished and exited 0)', async () => {
    const out = join(root, 'out-abort-write');
    const interrupt = new AbortController();
    const reason = new Error('SIGINT');
    const notes: string[] = [];
    const run = buildIndex({ corpus, out, encoder: enc, batch: 8, signal: interrupt.signal, say: (l) => notes.push(l), onProgress: (e) => { if (e.phase === 'writing index') interrupt.abort(reason); } });
    await expect(run).rejects.toBe(reason);
    expect(notes).toContain(`interrupted while writing ${join(out, 'Flat.index')}: all ${ROWS} rows are in the checkpoint ${join(out, '.tessera-build')}; rerun the same command to write the index from there`);
    expect(readdirSync(out).filter((f) => f.includes('Flat.index'))).toEqual([]);
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(ROWS);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('a damaged state.json (not JSON, or a string row count) is never resumed: the build says so and starts over (it was used unchecked; an unreadable one was dropped without a word)', async () => {
    const out = join(root, 'out-damaged');
    const stop = new Error('stop');
    for (const damage of [(t: string) => t.slice(0, 20), (t: string) => t.replace(/"rowsDone":(\d+)/, '"rowsDone":"$1"')]) {
      await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, restart: true, onCheckpoint: (n) => { if (n === 16) throw stop; } })).rejects.toBe(stop);
      const statePath = join(out, '.tessera-build', 'state.json');
      writeFileSync(statePath, damage(readFileSync(statePath, 'utf8')));
      const notes: string[] = [];
      const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, say: (l) => notes.push(l) });
      expect(r.resumedFrom).toBe(0);
      expect(notes.some((n) => n.includes('damaged (state.json is not a state build wrote): starting over'))).toBe(true);
      expect((await inspectIndex(r.index)).ntotal).toBe(ROWS);
      expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
    }
  });

  it('an IVF nlist above the corpus rows is INVALID_ARGUMENT before any row is encoded (k-means refused it after the whole corpus was)', async () => {
    const out = join(root, 'out-nlist');
    let encoded = 0;
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, indexType: 'IVF64,Flat', onCheckpoint: (n) => void (encoded = n) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`--index-type IVF64,Flat needs at least nlist = 64 rows to train, ${corpus} has ${ROWS}`),
    });
    expect(encoded).toBe(0);
  });

  it('a checkpoint of another model says what differs (pooling here) and starts over instead of mixing vectors', async () => {
    const out = join(root, 'out-model');
    const stop = new Error('stop');
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, modelKey: 'toy|6|mean|512', onCheckpoint: () => { throw stop; } })).rejects.toBe(stop);
    const notes: string[] = [];
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, modelKey: 'toy|6|cls|512', say: (l) => notes.push(l) });
    expect(r.resumedFrom).toBe(0);
    expect(notes.some((n) => n.includes('model toy|6|mean|512, now toy|6|cls|512') && n.includes('starting over'))).toBe(true);
  });

  it('a resume on another encoder runtime says the vectors differ in the last bits and how to avoid it (it mixed them without a word); the same runtime says nothing', async () => {
    const out = join(root, 'out-runtime');
    const stop = new Error('stop');
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, runtime: 'wasm', onCheckpoint: (n) => { if (n === 16) throw stop; } })).rejects.toBe(stop);
    const notes: string[] = [];
    await expect(buildIndex({ corpus, out, encoder: enc, batch: 8, runtime: 'wasm', say: (l) => notes.push(l), onCheckpoint: (n) => { if (n === 24) throw stop; } })).rejects.toBe(stop);
    expect(notes.filter((n) => n.includes('encoded on'))).toEqual([]);
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8, runtime: 'native', say: (l) => notes.push(l) });
    expect(r.resumedFrom).toBe(24);
    expect(notes).toContain("the checkpoint's rows were encoded on wasm, the rest will be on native: their vectors differ in the last bits, so this index is not byte for byte one build's; --restart (or --encoder wasm) for that");
  });

  it('--strict: the first bad row is fatal (FORMAT naming file:line); bad options are INVALID_ARGUMENT', async () => {
    const err = await buildIndex({ corpus, out: join(root, 'out-strict'), encoder: enc, strict: true }).catch((e) => e);
    expect(isTesseraError(err, 'FORMAT')).toBe(true);
    expect(err.message).toMatch(/corpus\.jsonl:13: not JSON/);
    await expect(buildIndex({ corpus, out: join(root, 'x'), encoder: enc, indexType: 'LSH' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(buildIndex({ corpus: join(root, 'missing.jsonl'), out: join(root, 'y'), encoder: enc })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('an --out that is a file, or under one, is INVALID_ARGUMENT naming it (was a raw EEXIST / ENOTDIR from mkdir, exit code 1 with a stack)', async () => {
    const file = join(root, 'out-is-a-file');
    writeFileSync(file, 'x');
    for (const [out, what] of [[file, 'a file'], [join(file, 'sub'), 'under a file']] as const) {
      await expect(buildIndex({ corpus, out, encoder: enc })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: `--out ${out} is ${what}, not a folder: pass a folder for the index, the offset table and build.json (created when missing)`,
      });
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('other index types (HNSW32, IVF2,Flat, SQ8) are built by the WASM backend and named <type>.index', async () => {
    for (const [indexType, type] of [['HNSW32', 'IndexHNSWFlat'], ['IVF2,Flat', 'IndexIVFFlat'], ['SQ8', 'IndexScalarQuantizer']] as const) {
      const r = await buildIndex({ corpus, out: join(root, `out-${indexType}`), encoder: enc, batch: 16, indexType });
      expect(r.index).toBe(join(root, `out-${indexType}`, `${indexType}.index`));
      expect(await inspectIndex(r.index)).toMatchObject({ type, d: DIM, ntotal: ROWS, metric: 'ip' });
    }
  });

  it('IVF training reports the sample read and each k-means iteration (minutes at nlist 4096, d=768)', async () => {
    const events: ProgressEvent[] = [];
    await buildIndex({ corpus, out: join(root, 'out-ivf-progress'), encoder: enc, batch: 16, indexType: 'IVF2,Flat', onProgress: (e) => events.push(e) });
    const of = (phase: string) => events.filter((e) => e.phase === phase).map((e) => `${e.done}/${e.total} ${e.unit}`);
    expect(of('reading training sample')).toEqual([`0/${ROWS} rows`, `${ROWS}/${ROWS} rows`]);
    expect(of('training index (k-means)')).toEqual(Array.from({ length: 11 }, (_, i) => `${i}/10 iterations`));
    expect(of('training index')).toEqual([]);
  });

  it('an abort during IVF training (k-means, minutes at nlist 4096) stops after the iteration under way, not after the whole training; the rerun builds the index', async () => {
    const out = join(root, 'out-ivf-abort');
    const interrupt = new AbortController();
    const reason = new Error('SIGINT');
    const iterations: number[] = [];
    const notes: string[] = [];
    const run = buildIndex({
      corpus,
      out,
      encoder: enc,
      batch: 16,
      indexType: 'IVF2,Flat',
      signal: interrupt.signal,
      say: (l) => notes.push(l),
      onProgress: (e) => {
        if (e.phase !== 'training index (k-means)') return;
        iterations.push(e.done);
        interrupt.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    // k-means reports 0 iterations at its start: the abort there stops it before the first.
    expect(iterations).toEqual([0]);
    expect(notes).toContain(`interrupted while writing ${join(out, 'IVF2,Flat.index')}: all ${ROWS} rows are in the checkpoint ${join(out, '.tessera-build')}; rerun the same command to write the index from there`);
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 16, indexType: 'IVF2,Flat' });
    expect(r.resumedFrom).toBe(ROWS);
    expect((await inspectIndex(r.index)).ntotal).toBe(ROWS);
  });

  it('a manifest path that cannot be written fails with a TesseraError naming it and leaves no temp file (state and manifest go through temp + fsync + rename)', async () => {
    const out = join(root, 'out-manifest-dir');
    mkdirSync(join(out, 'build.json'), { recursive: true });
    const err = await buildIndex({ corpus, out, encoder: enc, batch: 8 }).catch((e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect(String((err as Error).message)).toContain('build.json');
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('line numbers count empty lines (rows are non-empty lines)', async () => {
    expect(await lineNumbersOf(corpus, [0, 6, 41])).toEqual(new Map([[0, 1], [6, 8], [41, 43]]));
  });

  it('line numbers count lines as the offset table does: a lone CR inside a row and a BOM-only first line are not line breaks / rows', async () => {
    // readline split at a lone "\r" too, so rows after one got line numbers one too high.
    const path = join(root, 'lone-cr.jsonl');
    writeFileSync(path, '\uFEFF\n{"id": "0", "contents": "a"}\nnot json\r here\n\n{"id": "2"}\n');
    expect(await lineNumbersOf(path, [0, 1, 2])).toEqual(new Map([[0, 2], [1, 3], [2, 5]]));
  });

  it('rows of {"title", "text"} (BEIR, DPR, KILT) are encoded as their wiki-18 {"contents": "\\"title\\"\\ntext"} rows; a row of "text" alone as its text', async () => {
    // Every such row was a bad row: the build wrote an index of zero vectors.
    const rows = [
      { id: '0', title: 'cat', text: 'the cat sat on a mat' },
      { id: '1', title: '', text: 'a dog ran' },
      { id: 2, text: 'dogs sat' },
    ];
    const path = join(root, 'title-text.jsonl');
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await buildIndex({ corpus: path, out: join(root, 'out-title-text'), encoder: enc });
    expect(r.badRows).toEqual([]);
    const want = await enc.encode(['"cat"\nthe cat sat on a mat', 'a dog ran', 'dogs sat'], { prefix: 'passage' });
    const got = indexRows(r.index, 3);
    for (let k = 0; k < want.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
  });

  it('a corpus whose first line starts with a UTF-8 byte order mark: row 0 is encoded, not a bad row', async () => {
    const path = join(root, 'bom.jsonl');
    writeFileSync(path, '\uFEFF' + JSON.stringify({ id: '0', contents: 'the cat' }) + '\n' + JSON.stringify({ id: '1', contents: 'a dog' }) + '\n');
    const r = await buildIndex({ corpus: path, out: join(root, 'out-bom'), encoder: enc });
    expect(r.badRows).toEqual([]);
    const want = await enc.encode(['the cat', 'a dog'], { prefix: 'passage' });
    const got = indexRows(r.index, 2);
    for (let k = 0; k < want.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
  });

  it('rows that are not UTF-8 are encoded with U+FFFD and told: how many, their lines (build.json too); --strict makes the first fatal (they became U+FFFD without a word)', async () => {
    const path = join(root, 'latin1.jsonl');
    const row = (i: number, enc: BufferEncoding) => Buffer.from(JSON.stringify({ id: String(i), contents: `the caf\u00e9 ${WORDS[i % 8]}` }) + '\n', enc);
    // Rows 1 and 3 in latin-1, on lines 2 and 5 (line 4 is empty); resumed after row 2 so the count spans two runs.
    writeFileSync(path, Buffer.concat([row(0, 'utf8'), row(1, 'latin1'), row(2, 'utf8'), Buffer.from('\n'), row(3, 'latin1'), row(4, 'utf8')]));
    const out = join(root, 'out-latin1');
    const stop = new Error('stop');
    await expect(buildIndex({ corpus: path, out, encoder: enc, batch: 2, onCheckpoint: (n) => { if (n === 2) throw stop; } })).rejects.toBe(stop);
    const notes: string[] = [];
    const r = await buildIndex({ corpus: path, out, encoder: enc, batch: 2, say: (l) => notes.push(l) });
    expect(r.resumedFrom).toBe(2);
    expect(r.badRows).toEqual([]);
    expect(r.nonUtf8Rows).toEqual({ count: 2, first: [{ row: 1, line: 2 }, { row: 3, line: 5 }] });
    expect(JSON.parse(readFileSync(r.manifest, 'utf8')).nonUtf8Rows).toEqual(r.nonUtf8Rows);
    expect(notes).toContain(`${path}: 2 rows are not valid UTF-8, read with U+FFFD (the replacement character) for the bad bytes: lines 2, 5; if the corpus is in another encoding, convert it (iconv -f <its encoding> -t UTF-8) and build the index again`);
    const got = indexRows(r.index, 5);
    const want = await enc.encode([`the caf\uFFFD ${WORDS[3]}`], { prefix: 'passage' });
    expect(Array.from(got.subarray(3 * DIM, 4 * DIM))).toEqual(Array.from(want));
    const err = await buildIndex({ corpus: path, out: join(root, 'out-latin1-strict'), encoder: enc, strict: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`${path}:2: not UTF-8 (bytes that would be read as U+FFFD); convert the corpus`) });
  });

  it('a CRLF corpus (blank CRLF lines included) builds the same index as its LF form, with the same bad rows and line numbers', async () => {
    const path = join(root, 'crlf.jsonl');
    writeFileSync(path, corpusText.replace(/\n/g, '\r\n'));
    const r = await buildIndex({ corpus: path, out: join(root, 'out-crlf'), encoder: enc, batch: 8 });
    expect(r.rows).toBe(ROWS);
    expect(r.badRows.map((b) => [b.row, b.line])).toEqual([[11, 13], [23, 25]]);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('bad rows go to the checkpoint\'s bad.jsonl, not state.json (rewritten whole at each checkpoint, 100k bad rows took 40 s and a wrong-format corpus never ended); a batch not recorded is dropped from it on resume', async () => {
    const path = join(root, 'many-bad.jsonl');
    const rowsText = Array.from({ length: 500 }, (_, i) => (i % 50 === 7 ? JSON.stringify({ id: String(i), contents: WORDS[i % 8] }) : JSON.stringify({ id: String(i), passage: 'x' })));
    writeFileSync(path, rowsText.join('\n') + '\n');
    const out = join(root, 'out-many-bad');
    const stop = new Error('stop');
    await expect(buildIndex({ corpus: path, out, encoder: enc, batch: 8, onCheckpoint: (n) => { if (n === 480) throw stop; } })).rejects.toBe(stop);
    expect(readFileSync(join(out, '.tessera-build', 'state.json')).length).toBeLessThan(1024);
    // A crash after a batch's bad rows were appended but before its state was written.
    appendFileSync(join(out, '.tessera-build', 'bad.jsonl'), '{"row":480,"reason":"stray"}\n');
    const r = await buildIndex({ corpus: path, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(480);
    expect(r.badRows.map((b) => b.row)).toEqual(rowsText.map((_, i) => i).filter((i) => i % 50 !== 7));
    expect(r.badRows.every((b) => b.line === b.row + 1 && b.reason === 'no string "contents" (or "title" + "text") field')).toBe(true);
  });

  it('a corpus where no row has a passage fails (FORMAT naming the first bad line) instead of writing an index of zero vectors', async () => {
    const path = join(root, 'all-bad.jsonl');
    writeFileSync(path, '{"id": "0", "body": "x"}\n\n{"id": "1", "passage": "y"}\n');
    const out = join(root, 'out-all-bad');
    const err = await buildIndex({ corpus: path, out, encoder: enc }).catch((e: unknown) => e);
    expect(isTesseraError(err, 'FORMAT'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/no row of .*all-bad\.jsonl has a passage to encode \(2 bad rows; .*all-bad\.jsonl:1: no string "contents"/);
    expect(existsSync(join(out, 'Flat.index'))).toBe(false);
    // A large one fails from a sample before encoding (it wrote a zero vector a row to the end first: 64 GB for wiki-18).
    const big = join(root, 'all-bad-big.jsonl');
    writeFileSync(big, Array.from({ length: 2500 }, (_, i) => JSON.stringify({ id: String(i), passage: 'x' })).join('\n') + '\n');
    let encoded = 0;
    const err2 = await buildIndex({ corpus: big, out, encoder: enc, onCheckpoint: (n) => void (encoded = n) }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/no row of .*all-bad-big\.jsonl read \(1000 of its 2500, spread across it\) has a passage to encode \(1000 bad rows; .*all-bad-big\.jsonl:1: no string "contents"/) });
    expect(encoded).toBe(0);
  });

  it('a full disk while appending to the checkpoint: INVALID_ARGUMENT naming vectors.f32 and saying the rerun resumes (was a bare ENOSPC); the rerun does', async () => {
    const out = join(root, 'out-full');
    const probe = await open(join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    let spy: { mockRestore(): void } | undefined;
    const err = await buildIndex({
      corpus,
      out,
      encoder: enc,
      batch: 8,
      onCheckpoint: () => {
        spy ??= vi.spyOn(proto, 'write').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
      },
    }).catch((e: unknown) => e);
    spy?.mockRestore();
    expect(err).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`cannot write ${join(out, '.tessera-build', 'vectors.f32')}: no space left on the device (ENOSPC); free space or write elsewhere. The checkpoint keeps the 8 rows encoded before: rerun the same command to resume`),
    });
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(8);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('a full disk while the index is written: the error names the index, a note says all rows are in the checkpoint (it read as if the encoding were lost), and the rerun writes it without encoding', async () => {
    const out = join(root, 'out-full-index');
    const probe = await open(join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    let spy: { mockRestore(): void } | undefined;
    const notes: string[] = [];
    const err = await buildIndex({
      corpus,
      out,
      encoder: enc,
      batch: 8,
      say: (l) => notes.push(l),
      onProgress: (e) => {
        if (e.phase === 'writing index') spy ??= vi.spyOn(proto, 'write').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
      },
    }).catch((e: unknown) => e);
    spy?.mockRestore();
    const index = join(out, 'Flat.index');
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`cannot write ${index}: no space left on the device (ENOSPC)`) });
    expect(notes).toContain(`${index} was not written, but all ${ROWS} rows are in the checkpoint ${join(out, '.tessera-build')}: once the cause is fixed, rerun the same command (or one with another --index-type) to write the index from there without encoding again`);
    expect(readdirSync(out).filter((f) => f.includes('Flat.index'))).toEqual([]);
    const r = await buildIndex({ corpus, out, encoder: enc, batch: 8 });
    expect(r.resumedFrom).toBe(ROWS);
    expect(Buffer.from(indexRows(r.index, ROWS).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('encode --texts: a UTF-8 byte order mark is not part of the first text (.json failed to parse, .txt encoded U+FEFF)', async () => {
    const json = join(root, 'bom-texts.json');
    const txt = join(root, 'bom-texts.txt');
    writeFileSync(json, '\uFEFF["who wrote hamlet?", "b"]');
    writeFileSync(txt, '\uFEFFwho wrote hamlet?\r\nb\r\n');
    expect(await readTexts(json)).toEqual(['who wrote hamlet?', 'b']);
    expect(await readTexts(txt)).toEqual(['who wrote hamlet?', 'b']);
  });

  it('encode --texts T.jsonl: a JSON string or a corpus row a line, its passage as build takes it (each line was encoded as its JSON source)', async () => {
    const path = join(root, 'texts.jsonl');
    writeFileSync(path, '"who wrote hamlet?"\n\n{"id": "1", "contents": "\\"Hamlet\\"\\na play"}\r\n{"id": 2, "title": "Cat", "text": "an animal"}\n');
    expect(await readTexts(path)).toEqual(['who wrote hamlet?', '"Hamlet"\na play', '"Cat"\nan animal']);
    writeFileSync(path, '"ok"\n{"id": "1", "body": "x"}\n');
    await expect(readTexts(path)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/texts\.jsonl:2: no string "contents" .*a \.jsonl of texts holds a JSON string/) });
  });

  it('a gzip-compressed corpus is FORMAT saying to decompress it (its rows were binary garbage, every one a bad row)', async () => {
    const path = join(root, 'c.jsonl.gz');
    writeFileSync(path, gzipSync(Buffer.from(corpusText)));
    await expect(buildIndex({ corpus: path, out: join(root, 'out-gz'), encoder: enc })).rejects.toMatchObject({
      code: 'FORMAT',
      message: expect.stringMatching(/c\.jsonl\.gz is gzip-compressed: .*decompress it first \(gunzip -k .*c\.jsonl\.gz\)/),
    });
  });
});

describe('tessera encode / build commands', () => {
  /** What the last run wrote on stderr. */
  let stderr = '';
  async function run(register: (p: Command) => void, argv: string[]): Promise<string> {
    const seen = { stderr: '' };
    try {
      return await runCommand(register, argv, seen);
    } finally {
      stderr = seen.stderr;
    }
  }

  it('encode --json prints {"embeddings"} equal to the library; .txt is one text a line; the summary names the settings', async () => {
    const json = join(root, 'texts.json');
    writeFileSync(json, JSON.stringify(['the cat', 'a dog ran']));
    const txt = join(root, 'texts.txt');
    writeFileSync(txt, 'the cat\na dog ran\n');
    const a = JSON.parse(await run(registerEncode, ['encode', '--model', model, '--texts', json, '--json', '--prefix', 'passage'])) as { embeddings: number[][] };
    const b = JSON.parse(await run(registerEncode, ['encode', '--model', model, '--texts', txt, '--json', '--prefix', 'passage'])) as { embeddings: number[][] };
    expect(a.embeddings).toHaveLength(2);
    expect(b).toEqual(a);
    const lib = await enc.encode(['the cat', 'a dog ran'], { prefix: 'passage' });
    a.embeddings.flat().forEach((x, i) => expect(Math.abs(x - lib[i]!)).toBeLessThan(1e-6));
    const summary = await run(registerEncode, ['encode', '--model', model, '--texts', txt]);
    expect(summary).toMatch(/output +6 dims, mean pooling, L2-normalised/);
    expect(summary).toMatch(/4 tokens: \[CLS\] the cat \[SEP\]/);
    await expect(run(registerEncode, ['encode', '--model', model, '--texts', join(root, 'nope.json')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A folder was a bare EISDIR naming no path.
    await expect(run(registerEncode, ['encode', '--model', model, '--texts', root])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `--texts ${root} is a folder: pass a .json, .jsonl or .txt file` });
    writeFileSync(json, '{"a": 1}');
    await expect(run(registerEncode, ['encode', '--model', model, '--texts', json])).rejects.toMatchObject({ code: 'FORMAT' });
  });

  it("encode --out removes, saying so, the temp file a killed encode left beside --out (it stayed there); a running write's stays", async () => {
    const txt = join(root, 'texts-out.txt');
    writeFileSync(txt, 'the cat\na dog ran\n');
    const out = join(root, 'encoded.npy');
    const me = await thisWriter();
    const killed = tempFilePath(out, { ...me, pid: 99_999_999 }); // above any pid_max: no such process
    const running = tempFilePath(out, me);
    writeFileSync(killed, Buffer.alloc(1024));
    writeFileSync(running, 'x');
    await run(registerEncode, ['encode', '--model', model, '--texts', txt, '--out', out]);
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(running)).toBe(true);
    expect(stderr).toContain(`removed ${killed} (1.0 KiB), left by process 99999999, which was stopped while writing ${out}`);
    expect(existsSync(out)).toBe(true);
    rmSync(running);
  });

  it('build writes Flat.index and the offset table', async () => {
    const out = join(root, 'out-cli');
    await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16']);
    expect((await inspectIndex(join(out, 'Flat.index'))).ntotal).toBe(ROWS);
    expect(Buffer.from(indexRows(join(out, 'Flat.index'), ROWS).buffer).equals(Buffer.from(reference32()))).toBe(true);
    expect(existsSync(join(out, 'corpus.jsonl.offsets'))).toBe(true);
    // An --out that is a file fails before the model is loaded.
    await expect(run(registerBuild, ['build', '--corpus', corpus, '--model', join(root, 'no-model'), '--out', corpus])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^--out .* is a file, not a folder/) });
    // So does a compressed corpus (it failed only once the model had loaded).
    const gz = join(root, 'cli.jsonl.gz');
    writeFileSync(gz, gzipSync(Buffer.from(corpusText)));
    await expect(run(registerBuild, ['build', '--corpus', gz, '--model', join(root, 'no-model'), '--out', join(root, 'out-cli-gz')])).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining('is gzip-compressed') });
  });

  it('build: Ctrl-C stops at a checkpoint with exit code 130; a model re-exported into the same folder (same dims) since then is not resumed, its vectors would be mixed with the old model\'s', async () => {
    const dir = writeToyFolder(join(root, 'toy-model-reexported'), DIM);
    const out = join(root, 'out-cli-reexported');
    const encode = vi.spyOn(Encoder.prototype, 'encode');
    encode.mockImplementationOnce(async function (this: Encoder, ...args) {
      process.emit('SIGINT', 'SIGINT');
      encode.mockRestore();
      return Encoder.prototype.encode.apply(this, args);
    });
    try {
      await run(registerBuild, ['build', '--corpus', corpus, '--model', dir, '--out', out, '--batch', '16']);
      expect(process.exitCode).toBe(130);
    } finally {
      encode.mockRestore();
      process.exitCode = undefined;
    }
    expect(stderr).toContain(`interrupted: 16 of ${ROWS} rows are in the checkpoint`);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'onnx', 'model.onnx'), later, later);
    await run(registerBuild, ['build', '--corpus', corpus, '--model', dir, '--out', out, '--batch', '16']);
    expect(stderr).toMatch(/is for another corpus or model \(model .*\|files \w+, now .*\|files \w+\): starting over/);
    expect(Buffer.from(indexRows(join(out, 'Flat.index'), ROWS).buffer).equals(Buffer.from(reference32()))).toBe(true);
  });

  it('build: SIGTERM (a job scheduler stopping it) stops at a checkpoint with exit code 143, as a shell reports a SIGTERM (it was 130, the code of SIGINT)', async () => {
    const out = join(root, 'out-cli-sigterm');
    const encode = vi.spyOn(Encoder.prototype, 'encode');
    encode.mockImplementationOnce(async function (this: Encoder, ...args) {
      process.emit('SIGTERM', 'SIGTERM');
      encode.mockRestore();
      return Encoder.prototype.encode.apply(this, args);
    });
    try {
      await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16']);
      expect(process.exitCode).toBe(143);
    } finally {
      encode.mockRestore();
      process.exitCode = undefined;
    }
    expect(stderr).toContain(`interrupted: 16 of ${ROWS} rows are in the checkpoint`);
  });

  // GNU timeout sends its signal to the command, then to the command's process group: `timeout 1h
  // tessera build` may get that one signal twice at once, which was taken as a second Ctrl-C (exit at
  // once with 143) instead of stopping at the checkpoint being written.
  it('build: the same signal delivered twice at once (GNU timeout) stops at a checkpoint, as one signal does', async () => {
    for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const out = join(root, `out-cli-twice-at-once-${sig}`);
      const exits: (number | undefined)[] = [];
      const exit = vi.spyOn(process, 'exit').mockImplementation(((c?: number) => {
        exits.push(c);
        throw new Error(`exit ${c}`);
      }) as never);
      const encode = vi.spyOn(Encoder.prototype, 'encode');
      encode.mockImplementationOnce(async function (this: Encoder, ...args) {
        process.emit(sig, sig);
        process.emit(sig, sig); // timeout's second copy
        encode.mockRestore();
        return Encoder.prototype.encode.apply(this, args);
      });
      try {
        await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16']);
        expect(exits).toEqual([]);
        expect(process.exitCode).toBe(code);
      } finally {
        exit.mockRestore();
        encode.mockRestore();
        process.exitCode = undefined;
      }
      expect(stderr).toContain(`interrupted: 16 of ${ROWS} rows are in the checkpoint`);
      expect(stderr).not.toContain(`${sig} again`);
    }
  });

  it('build: a second Ctrl-C while the index is written exits at once with 130, leaving neither the half-written index (a hidden .tmp, up to the index size) nor the lock', async () => {
    const out = join(root, 'out-cli-twice');
    let left: string[] | undefined;
    let exitCode: number | undefined;
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exitCode ??= code;
      left ??= readdirSync(out);
      throw new Error(`exit ${code}`);
    }) as never);
    const openWrite = vi.spyOn(nodeFileSystem, 'openWriteAtomic').mockImplementation(async (path: string) => {
      const sink = await openAtomicFileSink(path);
      if (!path.endsWith('.index')) return sink;
      return {
        ...sink,
        async write(chunk: Uint8Array) {
          await sink.write(chunk);
          process.emit('SIGINT', 'SIGINT');
          await new Promise((r) => setTimeout(r, SIGNAL_REPEAT_MS + 20)); // a second Ctrl-C, not the first delivered twice
          expect(() => process.emit('SIGINT', 'SIGINT')).toThrow('exit 130');
        },
      };
    });
    try {
      await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16']);
    } finally {
      exit.mockRestore();
      openWrite.mockRestore();
      process.exitCode = undefined;
    }
    expect(exitCode).toBe(130);
    expect(left?.filter((f) => f.endsWith('.tmp') || f.startsWith('.tessera-build.lock'))).toEqual([]);
    expect(left).toContain('.tessera-build'); // the checkpoint the rerun resumes from
    expect(stderr).toContain('SIGINT again: stopped at once; the rerun resumes from the checkpoint');
  });

  it('build removes, with a note, the temp files and private lock file a killed build left (kill -9 while writing the index), and only those of processes that are gone', async () => {
    const out = join(root, 'out-cli-leftovers');
    mkdirSync(join(out, '.tessera-build'), { recursive: true });
    const gone = 99_999_999; // above any pid_max: no such process
    const writer = { ...(await thisWriter()), pid: gone };
    const named = (path: string) => relative(out, tempFilePath(join(out, path), writer));
    // Temp files named as atomic writes name them now (pid, its start, host) and as they did before (pid only).
    const leftovers = [`.Flat.index.${gone}.k3j9x.tmp`, named('Flat.index'), `.corpus.jsonl.offsets.${gone}.0a1.tmp`, `.tessera-build.lock.${gone}-0badcafe`, join('.tessera-build', `.state.json.${gone}.q1.tmp`), named(join('.tessera-build', 'state.json'))];
    for (const f of leftovers) writeFileSync(join(out, f), 'x'.repeat(2048));
    const alive = `.Flat.index.${process.pid}.zz.tmp`; // this process's own write in progress
    writeFileSync(join(out, alive), 'x');
    await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16']);
    for (const f of leftovers) {
      expect(existsSync(join(out, f))).toBe(false);
      expect(stderr).toContain(`removed ${join(out, f)} (2.0 KiB), left by a build (process ${gone}) that was stopped while writing it`);
    }
    expect(existsSync(join(out, alive))).toBe(true);
    expect((await inspectIndex(join(out, 'Flat.index'))).ntotal).toBe(ROWS);
  });

  it('build into an --out another running build holds fails before the model loads (minutes for e5 on CPU), naming that process', async () => {
    const out = join(root, 'out-cli-held');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.tessera-build.lock'), JSON.stringify({ pid: process.pid, host: hostname() }));
    await expect(run(registerBuild, ['build', '--corpus', corpus, '--model', join(root, 'no-model'), '--out', out])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`is in use by another build (process ${process.pid}`),
    });
  });

  it("build's 'serve it' line serves what it wrote: its offset table and pooling, quoted for the shell", async () => {
    // It named neither: serve then scanned the corpus again for a table beside it (failing in a
    // read-only dataset folder) and encoded queries with the folder's pooling, not the passages'.
    const out = join(root, "out 'cls'");
    await run(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', out, '--batch', '16', '--pooling', 'cls']);
    const line = /serve it: tessera (serve .*)\n/.exec(stderr)?.[1];
    expect(line, stderr).toBeDefined();
    const words = execFileSync('sh', ['-c', `set -- ${line}; printf '%s\\n' "$@"`], { encoding: 'utf8' }).trimEnd().split('\n');
    expect(words).toEqual(['serve', '--index', join(out, 'Flat.index'), '--corpus', corpus, '--model', model, '--offsets', join(out, 'corpus.jsonl.offsets'), '--pooling', 'cls']);
    const table = await openCorpus(corpus, { offsetsPath: words[8] });
    expect(table.builtOffsets).toBe(false);
    await table.close();
  });
});

function reference32(): ArrayBuffer {
  return indexRows(join(root, 'out-a', 'Flat.index'), ROWS).buffer as ArrayBuffer;
}
