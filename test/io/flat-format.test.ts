/** FAISS IndexFlatIP/L2 files: read what FAISS wrote, write what FAISS reads, byte for byte; corrupt files -> FORMAT with offsets. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { TesseraError } from '../../src/core/errors.js';
import type { ProgressEvent } from '../../src/core/types.js';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { encodeFlatHeader, readFlatIndexData, readFlatLayout, streamFlatRows, writeFlatIndex } from '../../src/io/faiss/flat.js';
import { inspectIndex } from '../../src/io/read-index.js';
import { type FlatFixtures, makeFlatFixtures, removeFlatFixtures, readF32, searchWithFaiss } from './faiss-python.js';

let fx: FlatFixtures;
beforeAll(() => {
  fx = makeFlatFixtures();
});
afterAll(() => removeFlatFixtures(fx));

const SETS = ['random100', 'clustered768', 'odd3'] as const;
const METRICS = ['ip', 'l2'] as const;

/** Bit-equal float arrays, reporting the first difference (toEqual on 100k+ values is slow). */
function expectSameFloats(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const i = a.findIndex((v, j) => v !== b[j]);
  expect(i, i < 0 ? '' : `first difference at value ${i}: ${got[i]} vs ${want[i]}`).toBe(-1);
}

/** Expects `p` to reject with `code` and a message matching every pattern. */
async function expectError(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<TesseraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an error').toBeInstanceOf(TesseraError);
  const te = e as TesseraError;
  expect(te.code, te.message).toBe(code);
  for (const re of patterns) expect(te.message).toMatch(re);
  return te;
}

describe('reading FAISS-written flat files', () => {
  it.each(SETS.flatMap((s) => METRICS.map((m) => [s, m] as const)))('%s %s: header and rows equal what FAISS stored', async (set, metric) => {
    const { n, d } = fx.sets[set]!;
    const path = join(fx.dir, fx.sets[set]!.indexes[metric].file);
    const source = memorySource(readFileSync(path));
    const layout = await readFlatLayout(source);
    expect(layout).toMatchObject({ fourcc: metric === 'ip' ? 'IxFI' : 'IxF2', d, ntotal: n, metric, dataOffset: 45, end: 45 + n * d * 4, isTrained: true });
    const base = readF32(join(fx.dir, `${set}.base.f32`));
    // Tiny chunks: many partial reads, rows never split across chunks.
    const got = new Float32Array(n * d).fill(NaN);
    const events: ProgressEvent[] = [];
    let chunks = 0;
    for await (const c of streamFlatRows(source, layout, { chunkBytes: 3 * d * 4 + 5, onProgress: (e) => events.push(e) })) {
      expect(c.data.length).toBe(c.count * d);
      expect(c.count).toBeLessThanOrEqual(3);
      got.set(c.data, c.start * d);
      chunks++;
    }
    expect(chunks).toBe(Math.ceil(n / 3));
    expectSameFloats(got, base);
    expect(events[0]).toMatchObject({ done: 0, total: n, unit: 'rows' });
    expect(events.at(-1)).toMatchObject({ done: n, total: n });
  });

  it('streams a row range and reads through a file path', async () => {
    const path = join(fx.dir, fx.sets.random100!.indexes.ip.file);
    const base = readF32(join(fx.dir, 'random100.base.f32'));
    const { layout, data } = await readFlatIndexData(path);
    expectSameFloats(data, base);
    const source = memorySource(readFileSync(path));
    const rows: Float32Array[] = [];
    for await (const c of streamFlatRows(source, layout, { firstRow: 990, rowCount: 10, chunkBytes: 1 })) rows.push(c.data);
    expect(rows).toHaveLength(10);
    expect(rows[9]).toEqual(base.subarray(999 * 100, 1000 * 100));
    await expectError(
      (async () => {
        for await (const _ of streamFlatRows(source, layout, { firstRow: 995, rowCount: 10 })) void _;
      })(),
      'INVALID_ARGUMENT',
      /outside the index's 1000 rows/,
    );
  });

  it('reads an empty IndexFlatIP', async () => {
    const layout = await readFlatLayout(memorySource(readFileSync(join(fx.dir, 'empty_ip.index'))));
    expect(layout).toMatchObject({ d: 16, ntotal: 0, metric: 'ip', dataOffset: 45, end: 45 });
    const info = await inspectIndex(join(fx.dir, 'empty_ip.index'));
    expect(info).toMatchObject({ type: 'IndexFlatIP', description: 'Flat', d: 16, ntotal: 0, metric: 'ip', bytes: 45 });
  });

  it('refuses a metric it cannot serve (IndexFlat with L1) with UNSUPPORTED naming it', async () => {
    await expectError(readFlatLayout(memorySource(readFileSync(join(fx.dir, 'l1.index')))), 'UNSUPPORTED', /metric L1/, /inner product and L2/);
  });
});

describe('writing flat files FAISS reads', () => {
  it.each(SETS.flatMap((s) => METRICS.map((m) => [s, m] as const)))('%s %s: bytes identical to faiss.write_index', async (set, metric) => {
    const { n, d } = fx.sets[set]!;
    const base = readF32(join(fx.dir, `${set}.base.f32`));
    const out = join(fx.dir, `ours_${set}_${metric}.index`);
    // Chunks of uneven row counts, from an async generator, as a GPU/WASM index would hand them out.
    async function* chunks() {
      for (let i = 0; i < n; i += 7 + (i % 5)) yield base.slice(i * d, Math.min(n, i + 7 + (i % 5)) * d);
    }
    await writeFlatIndex(out, d, metric, n, chunks());
    expect(Buffer.compare(readFileSync(out), readFileSync(join(fx.dir, fx.sets[set]!.indexes[metric].file)))).toBe(0);
  });

  it.each(SETS)('%s: FAISS reads the files tessera wrote and finds its own ids', async (set) => {
    const { n, d, nq } = fx.sets[set]!;
    const base = readF32(join(fx.dir, `${set}.base.f32`));
    const files = [];
    for (const metric of METRICS) {
      const out = join(fx.dir, `ours2_${set}_${metric}.index`);
      await writeFlatIndex(out, d, metric, n, base);
      files.push(out);
    }
    // One Python start for both metrics: importing faiss costs seconds on a loaded machine.
    const views = searchWithFaiss(files, join(fx.dir, `${set}.queries.f32`), d, fx.k);
    METRICS.forEach((metric, i) => {
      const view = views[i]!;
      expect(view.error).toBeUndefined();
      // FAISS 1.7 reads "IxFI"/"IxF2" back as IndexFlat with the metric in the header.
      expect(view.class).toMatch(/^IndexFlat(IP|L2)?$/);
      expect(view).toMatchObject({ d, ntotal: n, metric });
      expect(view.labels).toHaveLength(nq);
      expect(view.labels).toEqual(fx.sets[set]!.indexes[metric].labels);
    });
  });

  it('writes an empty index FAISS reads, and to a sink', async () => {
    const sink = memorySink();
    await writeFlatIndex(sink, 16, 'ip', 0, new Float32Array(0));
    expect(sink.closed).toBe(true);
    expect(Buffer.compare(Buffer.from(sink.bytes()), readFileSync(join(fx.dir, 'empty_ip.index')))).toBe(0);
    expect(encodeFlatHeader(16, 0, 'ip')).toEqual(sink.bytes());
  });

  it('rejects rows that do not add up, leaving no file or temp file behind', async () => {
    const dir = join(fx.dir, 'bad-write');
    (await import('node:fs')).mkdirSync(dir);
    const out = join(dir, 'x.index');
    await expectError(writeFlatIndex(out, 4, 'ip', 3, new Float32Array(8)), 'INVALID_ARGUMENT', /add up to 2 x 4, expected 3 x 4/);
    await expectError(writeFlatIndex(out, 4, 'ip', 1, new Float32Array(8)), 'INVALID_ARGUMENT', /whole rows adding up to 1 x 4/);
    await expectError(writeFlatIndex(out, 4, 'ip', 2, [new Float32Array(3)]), 'INVALID_ARGUMENT', /chunk of 3 values/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('corrupt and truncated flat files -> FORMAT naming the byte offset', () => {
  // Layout: fourcc 0..3 | d 4..7 | ntotal 8..15 | reserved 16..31 | is_trained 32 | metric_type 33..36 | size 37..44 | rows 45..
  let good: Buffer;
  beforeAll(() => {
    good = readFileSync(join(fx.dir, fx.sets.random100!.indexes.ip.file));
  });
  const mutate = (f: (b: Buffer) => Buffer | void) => {
    const b = Buffer.from(good);
    return f(b) ?? b;
  };
  const cases: [string, (b: Buffer) => Buffer | void, ...RegExp[]][] = [
    ['empty file', (b) => b.subarray(0, 0), /: the file is empty \(0 bytes\), expected .*fourcc.*: copy or write it again$/],
    ['fourcc cut', (b) => b.subarray(0, 2), /at byte offset 0, but the file ends at byte 2/],
    ['d cut', (b) => b.subarray(0, 6), /int32 dimension d \(4 bytes\) at byte offset 4/],
    ['ntotal cut', (b) => b.subarray(0, 10), /int64 ntotal .* at byte offset 8, but the file ends at byte 10/],
    ['metric_type cut', (b) => b.subarray(0, 35), /int32 metric_type .* at byte offset 33/],
    ['vector size cut', (b) => b.subarray(0, 40), /number of stored floats .* at byte offset 37/],
    ['rows cut', (b) => b.subarray(0, 45 + 400 * 500 + 17), /expected 1000 rows of 100 float32 .* from byte offset 45 .* ends at byte 200062 \(500 complete rows\)/],
    ['negative d', (b) => void b.writeInt32LE(-5, 4), /bad int32 dimension d: -5 is a negative count.* at byte offset 4/],
    ['zero d', (b) => void b.writeInt32LE(0, 4), /dimension d: 0 is outside the valid range \[1, 65536\].* at byte offset 4/],
    ['negative ntotal', (b) => void b.writeBigInt64LE(-1000n, 8), /ntotal .*-1000 is a negative count.* at byte offset 8/],
    ['huge ntotal', (b) => void b.writeBigInt64LE(1n << 60n, 8), /ntotal.*outside the valid range.* at byte offset 8/],
    ['bad is_trained', (b) => void b.writeUInt8(7, 32), /is_trained: 7 is not a bool.* at byte offset 32/],
    ['unknown metric', (b) => void b.writeInt32LE(9, 33), /metric_type: 9 is not a FAISS metric.* at byte offset 33/],
    ['metric contradicts fourcc', (b) => void b.writeInt32LE(1, 33), /fourcc "IxFI" means metric_type 0 .* header says 1.* at byte offset 33/],
    ['vector size wrong', (b) => void b.writeBigUInt64LE(99n, 37), /stores 99 floats but ntotal \* d = 1000 \* 100 = 100000.* at byte offset 37/],
    ['ntotal larger than rows', (b) => void b.writeBigInt64LE(1001n, 8), /stores 100000 floats but ntotal \* d = 1001 \* 100.* at byte offset 37/],
  ];
  it.each(cases)('%s', async (_name, f, ...patterns) => {
    const bytes = mutate(f);
    await expectError(readFlatLayout(memorySource(bytes)), 'FORMAT', ...patterns);
    // The same through a file path: the message names the file.
    const path = join(fx.dir, `corrupt-${_name.replace(/\W+/g, '-')}.index`);
    writeFileSync(path, bytes);
    await expectError(inspectIndex(path), 'FORMAT', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), ...patterns);
  });

  it('a file that shrinks while streaming -> FORMAT with the offset', async () => {
    const source = memorySource(good);
    const layout = await readFlatLayout(source);
    const shrunk = { ...source, read: (o: number, l: number) => source.read(o, Math.min(l, 45 + 400 * 10 - o)) };
    await expectError(
      (async () => {
        for await (const _ of streamFlatRows(shrunk, layout, { chunkBytes: 4000 * 4 })) void _;
      })(),
      'FORMAT',
      /expected \d+ bytes of rows at byte offset 45/,
    );
  });

  it.each([
    ['IxZZ', Buffer.from('IxZZ0000'), /FAISS index type "IxZZ" is not supported; supported: IxFI \(IndexFlatIP\), IxF2 \(IndexFlatL2\)/],
    ['binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2]), /not a FAISS index: its first bytes 0x\[7f 45 4c 46\] are no known fourcc; supported: IxFI/],
  ])('unknown fourcc %s -> UNSUPPORTED naming it and what is supported', async (_n, bytes, re) => {
    await expectError(inspectIndex(memorySource(bytes)), 'UNSUPPORTED', re);
  });

  it('a missing file -> NOT_FOUND', async () => {
    await expectError(inspectIndex(join(fx.dir, 'nope.index')), 'NOT_FOUND', /file not found: .*nope\.index/);
  });
});
