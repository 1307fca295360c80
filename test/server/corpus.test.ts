import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Corpus, ensureOffsetTable, offsetTablePath } from '../../src/io/corpus.js';
import { isTesseraError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rowsOf(n: number, seed = 0): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: String(i), contents: `"Title ${i + seed}"\ntext ${'é'.repeat(i % 7)} ${'x'.repeat((i * 37) % 300)}` }),
  );
}

describe('corpus offset table', () => {
  it('reads every row by position, in any order, UTF-8 and CRLF included', async () => {
    const rows = rowsOf(2000);
    const path = join(dir, 'a.jsonl');
    // CRLF on some lines, empty lines between some rows and at the end, no final newline issues.
    const text = rows.map((r, i) => (i % 5 === 0 ? `${r}\r\n` : i % 11 === 0 ? `${r}\n\n` : `${r}\n`)).join('') + '\n\r\n';
    writeFileSync(path, text);
    const progress: number[] = [];
    const corpus = await Corpus.open(path, { onProgress: (e) => progress.push(e.done) });
    try {
      expect(corpus.builtOffsets).toBe(true);
      expect(corpus.rows).toBe(rows.length);
      expect(progress.at(-1)).toBe(statSync(path).size);
      for (const i of [0, 1, 5, 11, 999, 1999]) expect(await corpus.row(i)).toBe(rows[i]);
      const ids = [1999, 0, 5, 5, 42];
      expect(await corpus.rowsAt(ids)).toEqual(ids.map((i) => rows[i]));
      const all: string[] = [];
      for await (const { row, text } of corpus.iterate()) {
        expect(row).toBe(all.length);
        all.push(text);
      }
      expect(all).toEqual(rows);
      const tail: number[] = [];
      for await (const { row } of corpus.iterate(1995)) tail.push(row);
      expect(tail).toEqual([1995, 1996, 1997, 1998, 1999]);
    } finally {
      await corpus.close();
    }
  });

  it('handles a last row without newline and a corpus with one row', async () => {
    const path = join(dir, 'one.jsonl');
    writeFileSync(path, '{"id":"0","contents":"only"}');
    const corpus = await Corpus.open(path);
    expect(corpus.rows).toBe(1);
    expect(await corpus.row(0)).toBe('{"id":"0","contents":"only"}');
    await corpus.close();
  });

  it('is saved beside the corpus, reused when size and mtime match, rebuilt when they change', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, rowsOf(100).join('\n') + '\n');
    const first = await ensureOffsetTable(path);
    expect(first).toEqual({ path: offsetTablePath(path), rows: 100, built: true });
    const table = readFileSync(first.path);
    expect(table.length).toBe(24 + 100 * 8 + 8);
    expect(table.toString('latin1', 0, 8)).toBe('TSROWS01');
    // No temp files left beside it.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const again = await ensureOffsetTable(path);
    expect(again.built).toBe(false);
    expect(again.rows).toBe(100);

    appendFileSync(path, rowsOf(1, 7)[0] + '\n');
    const grown = await ensureOffsetTable(path);
    expect(grown).toMatchObject({ rows: 101, built: true });

    // Same size, new mtime: rebuilt too.
    const t = new Date(Date.now() + 60_000);
    utimesSync(path, t, t);
    expect((await ensureOffsetTable(path)).built).toBe(true);
    expect((await ensureOffsetTable(path)).built).toBe(false);
    expect((await ensureOffsetTable(path, { rebuild: true })).built).toBe(true);
  });

  it('rebuilds a truncated or foreign table instead of trusting it', async () => {
    const path = join(dir, 'c.jsonl');
    writeFileSync(path, rowsOf(50).join('\n'));
    const { path: tablePath } = await ensureOffsetTable(path);
    const bytes = readFileSync(tablePath);
    writeFileSync(tablePath, bytes.subarray(0, bytes.length - 12));
    const rebuilt = await ensureOffsetTable(path);
    expect(rebuilt).toMatchObject({ rows: 50, built: true });
    writeFileSync(tablePath, Buffer.from('not a table at all, just some bytes here'));
    expect((await ensureOffsetTable(path)).built).toBe(true);
  });

  it('an offset table path that is a folder is INVALID_ARGUMENT naming it (was a bare EISDIR naming no path)', async () => {
    const path = join(dir, 'f.jsonl');
    writeFileSync(path, rowsOf(3).join('\n'));
    await expect(ensureOffsetTable(path, { offsetsPath: dir })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `the corpus's offset table ${dir} is a folder: give a file path for the table (serve --offsets FILE)`,
    });
  });

  it('rejects a missing corpus, a directory, and rows out of range', async () => {
    await expect(Corpus.open(join(dir, 'missing.jsonl'))).rejects.toSatisfy((e) => isTesseraError(e, 'NOT_FOUND'));
    await expect(Corpus.open(dir)).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT'));
    const path = join(dir, 'd.jsonl');
    writeFileSync(path, rowsOf(3).join('\n'));
    const corpus = await Corpus.open(path);
    await expect(corpus.row(3)).rejects.toThrow(/row 3 is outside the corpus .* \(3 rows\)/);
    await expect(corpus.row(-1)).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT'));
    await expect(corpus.rowsAt([0, 7])).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT'));
    await corpus.close();
  });

  it('an empty corpus has zero rows', async () => {
    const path = join(dir, 'e.jsonl');
    writeFileSync(path, '\n\n');
    const corpus = await Corpus.open(path);
    expect(corpus.rows).toBe(0);
    await corpus.close();
  });
});

describe('offset scan across chunk edges', () => {
  it.each([1, 2, 3, 7, 64])('chunk of %i bytes gives the same offsets as a line split', async (chunk) => {
    const path = join(dir, `edge-${chunk}.jsonl`);
    const text = '\n{"a":1}\r\n\r\n{"b":"é"}\n\n{"c":3}\r\n{"d":[]}';
    writeFileSync(path, text);
    const info = await ensureOffsetTable(path, { scanChunkBytes: chunk, rebuild: true });
    const table = readFileSync(info.path);
    const got = Array.from({ length: info.rows }, (_, i) => Number(table.readBigUInt64LE(24 + 8 * i)));
    // Oracle: byte offsets of the lines that are not empty once a trailing CR is removed.
    const bytes = Buffer.from(text);
    const want: number[] = [];
    let start = 0;
    for (let p = 0; p <= bytes.length; p++) {
      if (p === bytes.length || bytes[p] === 10) {
        const line = bytes.subarray(start, p).toString('latin1').replace(/\r$/, '');
        if (line.length > 0) want.push(start);
        start = p + 1;
      }
    }
    expect(got).toEqual(want);
    const corpus = await Corpus.open(path);
    expect(await corpus.rowsAt([0, 1, 2, 3])).toEqual(['{"a":1}', '{"b":"é"}', '{"c":3}', '{"d":[]}']);
    await corpus.close();
  });
});
