import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readdirSync, symlinkSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Corpus, ensureOffsetTable, offsetTablePath } from '../../src/io/corpus.js';
import { isTesseraError } from '../../src/core/errors.js';
import { processStart, tempFilePath, thisWriter } from '../../src/io/node-fs.js';

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
    expect(first).toEqual({ path: offsetTablePath(path), rows: 100, built: true, nonUtf8: { count: 0, first: [] } });
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

  it('a UTF-8 byte order mark before row 0 is not part of it (JSON.parse failed on the row, and serve sent it as {"contents": "\\ufeff{..."}); a BOM-only first line is no row', async () => {
    const rows = rowsOf(3);
    for (const [name, text, want] of [
      ['bom.jsonl', `\uFEFF${rows.join('\n')}\n`, rows],
      ['bom-line.jsonl', `\uFEFF\r\n${rows.join('\r\n')}`, rows],
      // Two BOM files joined by cat: the second's BOM starts row 2 (it was a bad row to build, and serve sent {"contents": "\ufeff{..."}).
      ['joined.jsonl', `\uFEFF${rows.slice(0, 2).join('\n')}\n\uFEFF${rows[2]}\n`, rows],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const corpus = await Corpus.open(path);
      try {
        expect(corpus.rows).toBe(want.length);
        expect(await corpus.rowsAt([0, 2])).toEqual([want[0], want[2]]);
        const all: string[] = [];
        for await (const { text: t } of corpus.iterate()) all.push(t);
        expect(all).toEqual(want);
        expect(JSON.parse(await corpus.row(0))).toMatchObject({ id: '0' });
        expect(JSON.parse(await corpus.row(2))).toMatchObject({ id: '2' });
      } finally {
        await corpus.close();
      }
    }
  });

  it('a reused table whose offsets no longer fall at line starts (edited, size and mtime kept) is rebuilt, not trusted', async () => {
    const path = join(dir, 'same-size.jsonl');
    const rows = ['{"id":"0","contents":"aaaa"}', '{"id":"1","contents":"bb"}', '{"id":"2","contents":"cccccc"}'];
    writeFileSync(path, rows.join('\n') + '\n');
    // A whole-millisecond mtime, so that setting it again restores it exactly (as touch -r or rsync -t would).
    const mtime = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    utimesSync(path, mtime, mtime);
    expect((await ensureOffsetTable(path)).built).toBe(true);
    // Same byte count, line breaks moved: rows 1 and 2 now start elsewhere.
    const edited = ['{"id":"0","contents":"aaaaaaaa"}', '{"id":"1","contents":""}', '{"id":"2","contents":"cccc"}'];
    writeFileSync(path, edited.join('\n') + '\n');
    utimesSync(path, mtime, mtime);
    expect(statSync(path).mtimeMs).toBe(mtime.getTime());
    const corpus = await Corpus.open(path);
    try {
      expect(corpus.builtOffsets).toBe(true);
      expect(await corpus.rowsAt([0, 1, 2])).toEqual(edited);
    } finally {
      await corpus.close();
    }
  });

  it('a corpus edited in place while open: reads of moved rows are FORMAT naming the table and the fix, not other passages', async () => {
    const path = join(dir, 'edited-open.jsonl');
    const rows = rowsOf(50);
    writeFileSync(path, rows.join('\n') + '\n');
    const corpus = await Corpus.open(path);
    try {
      expect(await corpus.row(10)).toBe(rows[10]);
      // An editor saving in place: row 3 grows by 5 bytes, every later row moves.
      writeFileSync(path, rows.map((r, i) => (i === 3 ? r.replace('"id"', '"id"     ') : r)).join('\n') + '\n');
      for (const read of [() => corpus.row(10), () => corpus.rowsAt([20, 30]), async () => { for await (const _ of corpus.iterate(5)); }]) {
        await expect(read()).rejects.toMatchObject({
          code: 'FORMAT',
          message: expect.stringMatching(/corpus .*edited-open\.jsonl changed after its offset table .*edited-open\.jsonl\.offsets was built: row \d+ no longer starts at byte \d+/),
        });
      }
    } finally {
      await corpus.close();
    }
  });

  it('a corpus truncated while open: reads past its new end are FORMAT, not the part of a row that is left', async () => {
    const path = join(dir, 'cut-open.jsonl');
    const rows = rowsOf(20);
    writeFileSync(path, rows.join('\n') + '\n');
    const corpus = await Corpus.open(path);
    try {
      const text = rows.join('\n') + '\n';
      // Row 19 (the last) loses its second half; rows before it are intact.
      writeFileSync(path, text.slice(0, text.length - Math.floor(rows[19]!.length / 2)));
      expect(await corpus.row(18)).toBe(rows[18]);
      for (const read of [() => corpus.row(19), async () => { for await (const _ of corpus.iterate(18)); }]) {
        await expect(read()).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/cut-open\.jsonl changed after its offset table/) });
      }
    } finally {
      await corpus.close();
    }
  });

  it('an offset table path that is the corpus itself (or a link to it) is INVALID_ARGUMENT; the corpus was replaced by its table', async () => {
    const path = join(dir, 'self.jsonl');
    const text = rowsOf(3).join('\n') + '\n';
    writeFileSync(path, text);
    symlinkSync(path, join(dir, 'self-link.offsets'));
    linkSync(path, join(dir, 'self-hard.offsets'));
    for (const offsetsPath of [path, join(dir, '.', 'self.jsonl'), join(dir, 'self-link.offsets'), join(dir, 'self-hard.offsets')]) {
      await expect(Corpus.open(path, { offsetsPath })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: `the offset table path ${offsetsPath} is the corpus ${path} itself: give the table its own file (serve --offsets ${path}.offsets)`,
      });
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });

  it('a compressed corpus (gzip, zstd, bzip2, xz) is FORMAT naming the tool that decompresses it', async () => {
    for (const [name, magic, tool] of [
      ['c.jsonl.gz', [0x1f, 0x8b, 8, 0], 'gunzip -k'],
      ['c.jsonl.zst', [0x28, 0xb5, 0x2f, 0xfd], 'zstd -d'],
      ['c.jsonl.bz2', [0x42, 0x5a, 0x68, 0x39], 'bunzip2 -k'],
      ['c.jsonl.xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'unxz -k'],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([Buffer.from(magic), Buffer.from('\n\x01\x02\n\x03')]));
      await expect(Corpus.open(path)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`-compressed: rows are read by byte offset from plain jsonl; decompress it first (${tool} ${path})`) });
      expect(readdirSync(dir)).not.toContain(`${name}.offsets`);
    }
  });

  it('a UTF-16 corpus (Windows "Unicode" text, with its byte order mark) is FORMAT naming the conversion; every row was a bad row', async () => {
    const rows = rowsOf(2).join('\n') + '\n';
    for (const [name, bytes, from] of [
      ['u16le.jsonl', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rows, 'utf16le')]), 'UTF-16LE'],
      ['u16be.jsonl', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(rows, 'utf16le').swap16()]), 'UTF-16BE'],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      await expect(Corpus.open(path)).rejects.toMatchObject({ code: 'FORMAT', message: `corpus ${path} is ${from} text: tessera reads UTF-8 jsonl; convert it first (iconv -f ${from} -t UTF-8 ${path} > corpus.jsonl)` });
    }
  });

  it('a temp file of the table that a killed process left (kill -9 of serve during its scan) is removed with a note; a running one is kept', async (ctx) => {
    const me = await thisWriter();
    if (me.start === '0') return ctx.skip(); // no /proc
    const sub = mkdtempSync(join(dir, 'leftover-'));
    const path = join(sub, 'c.jsonl');
    writeFileSync(path, rowsOf(10).join('\n') + '\n');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const writer = { pid: child.pid!, start: (await processStart(child.pid!))!, host: me.host };
    const table = offsetTablePath(path);
    const left = tempFilePath(table, writer);
    writeFileSync(left, Buffer.alloc(3000));
    const notes: string[] = [];
    expect((await ensureOffsetTable(path, { say: (l) => notes.push(l) })).built).toBe(true);
    expect(existsSync(left)).toBe(true); // its writer runs: never removed
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect((await ensureOffsetTable(path, { say: (l) => notes.push(l) })).built).toBe(false);
    expect(existsSync(left)).toBe(false);
    expect(notes).toEqual([`removed ${left} (2.9 KiB), left by process ${writer.pid}, which was stopped while writing the offset table ${table}`]);
    expect(readdirSync(sub).sort()).toEqual(['c.jsonl', 'c.jsonl.offsets']);
  });

  it('rows that are not UTF-8 are counted with their line numbers when the table is built, and told as row() reads them (they became U+FFFD without a word); a character split between scan chunks is no bad row', async () => {
    const path = join(dir, 'latin1.jsonl');
    const good = (i: number) => Buffer.from(JSON.stringify({ id: String(i), contents: `caf${'é'.repeat(i + 1)} ${'€'.repeat(i)}` }) + '\n');
    const latin1 = (i: number) => Buffer.from(JSON.stringify({ id: String(i), contents: 'caf\u00e9' }) + '\n', 'latin1');
    // Lines 1..12; line 4 empty; latin-1 rows on lines 3, 8 and the last line (12, no final newline).
    const lines = [good(0), good(1), latin1(2), Buffer.from('\n'), good(3), good(4), good(5), latin1(6), good(7), good(8), good(9), latin1(10).subarray(0, -1)];
    writeFileSync(path, Buffer.concat(lines));
    for (const scanChunkBytes of [7, 13, 64, 1 << 20]) {
      const seen: number[] = [];
      const corpus = await Corpus.open(path, { rebuild: true, scanChunkBytes, onNonUtf8Row: (row) => seen.push(row) });
      try {
        expect(corpus.nonUtf8Lines, `chunk ${scanChunkBytes}`).toEqual({ count: 3, first: [3, 8, 12] });
        expect((await corpus.rowsAt([0, 2, 5, 6, 10])).at(1)).toContain('caf\uFFFD');
        expect(seen.sort((a, b) => a - b)).toEqual([2, 6, 10]);
      } finally {
        await corpus.close();
      }
    }
    const reused = await Corpus.open(path);
    expect(reused.builtOffsets).toBe(false);
    expect(reused.nonUtf8Lines).toBeUndefined(); // not scanned: unknown, not zero
    await reused.close();
  });

  it('checkUtf8 false: the scan leaves the UTF-8 check to the caller (build checks each row as it encodes), and the table is the same', async () => {
    const path = join(dir, 'latin1-unchecked.jsonl');
    writeFileSync(path, Buffer.concat([Buffer.from('{"contents": "caf\u00e9"}\n', 'latin1'), Buffer.from('{"contents": "ok"}\n')]));
    const checked = await ensureOffsetTable(path);
    expect(checked.nonUtf8).toEqual({ count: 1, first: [1] });
    const table = readFileSync(checked.path);
    const unchecked = await ensureOffsetTable(path, { rebuild: true, checkUtf8: false });
    expect(unchecked).toEqual({ path: checked.path, rows: 2, built: true });
    expect(readFileSync(checked.path).equals(table)).toBe(true);
  });

  it('a line longer than 16 MiB is checked for UTF-8 as it is read (held whole, a many-GB file without newlines ran out of memory), its characters cut between chunks no bad bytes', async () => {
    const path = join(dir, 'long-line.jsonl');
    const long = `{"contents": "${'€'.repeat(6_000_000)}"}\n`; // 18 MB, each 3-byte character cut somewhere by 1 MiB chunks
    writeFileSync(path, Buffer.concat([Buffer.from(long), Buffer.from('{"contents": "caf\xe9"}\n', 'latin1'), Buffer.from(long), Buffer.from('\xe9' + long, 'latin1')]));
    const corpus = await Corpus.open(path, { scanChunkBytes: 1 << 20 });
    try {
      expect(corpus.rows).toBe(4);
      expect(corpus.nonUtf8Lines).toEqual({ count: 2, first: [2, 4] });
    } finally {
      await corpus.close();
    }
  });

  it('a row longer than a string holds (a JSON array on one line) is FORMAT naming jq, not V8\'s "Cannot create a string longer than 0x1fffffe8 characters"', async () => {
    const path = join(dir, 'one-huge-line.json');
    const huge = 600 << 20;
    writeFileSync(path, '');
    truncateSync(path, huge); // sparse: 600 MiB of NULs, no newline
    appendFileSync(path, '\n{"contents": "x"}\n');
    const corpus = await Corpus.open(path);
    try {
      expect(corpus.rows).toBe(2);
      const format = { code: 'FORMAT', message: expect.stringMatching(/^row 0 of .*one-huge-line\.json is 600\.0 MiB long, .*jq -c '\.\[\]'/) };
      await expect(corpus.row(0)).rejects.toMatchObject(format);
      expect(await corpus.row(1)).toBe('{"contents": "x"}');
      await expect((async () => { for await (const _ of corpus.iterate()); })()).rejects.toMatchObject(format);
    } finally {
      await corpus.close();
      rmSync(path);
    }
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
