/** Vector files: .npy / .fvecs / raw .f32 as NumPy writes them, bad dtypes and layouts, truncation with byte offsets, writes NumPy reads. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { TesseraError } from '../../src/core/errors.js';
import { memorySource } from '../../src/io/byte-reader.js';
// The library's functions (io/vectors-lazy.ts, loading io/vectors.ts on demand), which the CLI's io/vectors.ts is behind.
import { inspectVectors, readVectors, streamVectors, vectorFormatOf, writeVectors } from '../../src/index.js';
import { faissPython, type FlatFixtures, makeFlatFixtures, removeFlatFixtures } from './faiss-python.js';

let fx: FlatFixtures;
let q: Float32Array;
beforeAll(() => {
  fx = makeFlatFixtures();
  q = Float32Array.from(fx.q.data.flat());
});
afterAll(() => removeFlatFixtures(fx));

async function expectError(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an error').toBeInstanceOf(TesseraError);
  expect((e as TesseraError).code, (e as TesseraError).message).toBe(code);
  for (const re of patterns) expect((e as TesseraError).message).toMatch(re);
}

describe('reading vector files NumPy wrote', () => {
  it.each([
    ['q.npy', {}],
    ['q.fvecs', {}],
    ['q.f32', { dim: 5 }],
    ['q.npy', { dim: 5 }],
  ] as const)('%s %o: 7 x 5 float32, values exact', async (file, opts) => {
    const r = await readVectors(join(fx.dir, file), opts);
    expect(r).toMatchObject({ n: 7, d: 5, format: vectorFormatOf(file) });
    expect(r.data).toEqual(q);
  });

  it('a 1-D .npy is one vector', async () => {
    const r = await readVectors(join(fx.dir, 'q1d.npy'));
    expect(r).toMatchObject({ n: 1, d: 5 });
    expect(r.data).toEqual(q.subarray(0, 5));
  });

  it('a .npy under another name is recognised by its magic; other unnamed files are refused', async () => {
    const bytes = readFileSync(join(fx.dir, 'q.npy'));
    expect((await readVectors(memorySource(bytes))).n).toBe(7);
    await expectError(readVectors(memorySource(new Uint8Array(40))), 'INVALID_ARGUMENT', /cannot tell the vector format: name the file \.npy/);
  });

  it('streams .fvecs in small chunks', async () => {
    const source = memorySource(readFileSync(join(fx.dir, 'q.fvecs')));
    const layout = await inspectVectors(source, { format: 'fvecs' });
    const starts: number[] = [];
    for await (const c of streamVectors(source, layout, { chunkBytes: 50, firstRow: 1, rowCount: 5 })) {
      expect(c.data).toEqual(q.subarray(c.start * 5, (c.start + c.count) * 5));
      starts.push(c.start);
    }
    expect(starts).toEqual([1, 3, 5]);
  });
});

describe('bad vector files -> the error names the problem and the fix', () => {
  it.each([
    ['q_f64.npy', 'UNSUPPORTED', /float64; tessera reads float32 .*astype\('<f4'\)/],
    ['q_be.npy', 'UNSUPPORTED', /big-endian float32/],
    ['q_fortran.npy', 'UNSUPPORTED', /Fortran .*np\.ascontiguousarray/],
    ['q_3d.npy', 'UNSUPPORTED', /shape \(7, 5, 1\); expected \(n, d\)/],
  ])('%s -> %s', async (file, code, re) => {
    await expectError(readVectors(join(fx.dir, file)), code, re);
  });

  it('raw .f32 without --dim, or with a dimension that does not divide it', async () => {
    await expectError(readVectors(join(fx.dir, 'q.f32')), 'INVALID_ARGUMENT', /raw \.f32 file has no header: give its dimension \(--dim/);
    await expectError(readVectors(join(fx.dir, 'q.f32'), { dim: 6 }), 'FORMAT', /140 bytes is not a whole number of rows of 6 float32 .*row 5 at byte offset 120/);
    await expectError(readVectors(join(fx.dir, 'q.f32'), { dim: 0 }), 'INVALID_ARGUMENT', /--dim\) must be an integer/);
  });

  it('a --dim that contradicts the file', async () => {
    await expectError(readVectors(join(fx.dir, 'q.npy'), { dim: 4 }), 'INVALID_ARGUMENT', /dimension 5, but dimension 4 was given/);
  });

  it('truncated .npy and .fvecs name the byte offset', async () => {
    const npy = readFileSync(join(fx.dir, 'q.npy'));
    const path = join(fx.dir, 'cut.npy');
    writeFileSync(path, npy.subarray(0, npy.length - 3));
    await expectError(readVectors(path), 'FORMAT', /cut\.npy: truncated: expected 7 x 5 float32 values \(140 bytes\) at byte offset 128/);
    writeFileSync(path, npy.subarray(0, 9));
    await expectError(readVectors(path), 'FORMAT', /uint16 \.npy header length .* at byte offset 8/);
    const fvecs = readFileSync(join(fx.dir, 'q.fvecs'));
    const fpath = join(fx.dir, 'cut.fvecs');
    writeFileSync(fpath, fvecs.subarray(0, fvecs.length - 1));
    await expectError(readVectors(fpath), 'FORMAT', /records of 24 bytes .*record 6 at byte offset 144 is incomplete/);
    const mixed = Buffer.from(fvecs);
    mixed.writeInt32LE(4, 48);
    writeFileSync(fpath, mixed);
    await expectError(readVectors(fpath), 'FORMAT', /bad \.fvecs record 2: its dimension is 4, expected 5 .* at byte offset 48/);
  });

  it('an .fvecs of mixed dimensions whose size does not divide names the first record that differs (it said truncated)', async () => {
    const fpath = join(fx.dir, 'mixed.fvecs');
    const record = (d: number) => Buffer.concat([Buffer.from(Int32Array.of(d).buffer), Buffer.from(new Float32Array(d).fill(1).buffer)]);
    writeFileSync(fpath, Buffer.concat([record(5), record(5), record(4), record(5)]));
    await expectError(readVectors(fpath), 'FORMAT', /mixed\.fvecs: bad \.fvecs record 2: its dimension is 4, expected 5 \(as row 0\) at byte offset 48; the file is corrupt or mixes dimensions/);
    writeFileSync(fpath, Buffer.concat([record(4), record(6)]));
    await expectError(readVectors(fpath), 'FORMAT', /bad \.fvecs record 1: its dimension is 6, expected 4 \(as row 0\) at byte offset 20/);
  });

  it("a .npy written by Python 2's NumPy (shape (7L, 5L)) is read, as NumPy reads it (it was FORMAT 'bad .npy shape')", async () => {
    const npy = readFileSync(join(fx.dir, 'q.npy'));
    const headerLen = npy.readUInt16LE(8);
    const header = npy.toString('latin1', 10, 10 + headerLen).replace('(7, 5)', '(7L, 5L)');
    // Same header length: two spaces of padding fewer.
    const fixed = header.replace(/ {2}\n$/, '\n');
    expect(fixed.length).toBe(headerLen);
    const path = join(fx.dir, 'py2.npy');
    writeFileSync(path, Buffer.concat([npy.subarray(0, 10), Buffer.from(fixed, 'latin1'), npy.subarray(10 + headerLen)]));
    const r = await readVectors(path);
    expect(r).toMatchObject({ n: 7, d: 5 });
    expect(r.data).toEqual(q);
  });

  it('a .npy named .f32 or .fvecs is read as the .npy it is (its header was read as float rows: 15 rows, 8 of them garbage, for a 7 x 4 array); a raw file named .npy says where raw rows go', async () => {
    const x = Float32Array.from({ length: 28 }, (_, i) => i / 7);
    const npyPath = join(fx.dir, 'x4.npy');
    await writeVectors(npyPath, x, 4);
    for (const name of ['x4-npy.f32', 'x4-npy.fvecs']) {
      writeFileSync(join(fx.dir, name), readFileSync(npyPath));
      const r = await readVectors(join(fx.dir, name), { dim: 4 });
      expect(r).toMatchObject({ n: 7, d: 4, format: 'npy' });
      expect(r.data).toEqual(x);
    }
    writeFileSync(join(fx.dir, 'raw.npy'), Buffer.from(x.buffer));
    await expectError(readVectors(join(fx.dir, 'raw.npy')), 'FORMAT', /raw\.npy: not a \.npy file: .*raw float32 rows, as x\.tofile writes them, go in a file named \.f32, read with --dim/);
  });

  it('a .npy of a structured dtype is UNSUPPORTED saying so (it was FORMAT "bad .npy header", as if the file were corrupt)', async () => {
    const header = "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3,), }";
    const dict = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const head = Buffer.alloc(10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
    head.writeUInt16LE(dict.length, 8);
    const path = join(fx.dir, 'struct.npy');
    writeFileSync(path, Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.alloc(24)]));
    await expectError(readVectors(path), 'UNSUPPORTED', /struct\.npy: the array has a structured dtype \(named fields\); tessera reads a plain float32 \(n, d\) array/);
  });

  it('readVectors on a base set too large for one array -> OUT_OF_MEMORY pointing at streamVectors, not a RangeError', async () => {
    // A .npy header claiming 6M x 768 float32 (17 GiB, past 2^32 values); the rows are never read.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (6000000, 768), }";
    const head = new Uint8Array(10 + dict.length + 1);
    head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(head.buffer).setUint16(8, dict.length + 1, true);
    head.set(new TextEncoder().encode(dict + '\n'), 10);
    const huge = { size: head.length + 6000000 * 768 * 4, read: async (o: number, n: number) => head.subarray(o, o + n), close: async () => {} };
    await expectError(readVectors(huge, { label: 'base.npy' }), 'OUT_OF_MEMORY', /^base\.npy: 6000000 x 768 float32 \(17\.2 GiB\) do not fit one array: .*streamVectors/);
  });

  it('streamVectors called as readVectors is (a path, or no layout) names its arguments and the way to them, not "reading \'n\'"', async () => {
    const drain = async (rows: AsyncIterable<unknown>) => {
      for await (const _ of rows) void _;
    };
    const path = join(fx.dir, 'queries.fvecs');
    // @ts-expect-error a path, as a user following the README's readVectors, streamVectors, writeVectors would pass
    await expectError(drain(streamVectors(path, { firstRow: 0, rowCount: 2 })), 'INVALID_ARGUMENT', /takes a ByteSource and its layout, got the path ".*queries\.fvecs" as the source: .*openFileSource\(path\).*inspectVectors\(source/);
    // @ts-expect-error the layout left out
    await expectError(drain(streamVectors(memorySource(new Uint8Array(8)))), 'INVALID_ARGUMENT', /got undefined as the layout/);
  });

  it('a missing file -> NOT_FOUND', async () => {
    await expectError(readVectors(join(fx.dir, 'nope.npy')), 'NOT_FOUND', /file not found/);
  });
});

describe('writing vector files', () => {
  it('NumPy reads the .npy, .fvecs and .f32 tessera writes, atomically', async () => {
    for (const ext of ['npy', 'fvecs', 'f32']) await writeVectors(join(fx.dir, `ours.${ext}`), q, 5);
    const script = `
import numpy as np, sys
d = sys.argv[1]
a = np.load(d + '/ours.npy'); assert a.dtype == np.float32 and a.shape == (7, 5) and a.flags.c_contiguous
f = np.fromfile(d + '/ours.fvecs', dtype='int32').reshape(7, 6); assert (f[:, 0] == 5).all()
b = f[:, 1:].copy().view('float32'); c = np.fromfile(d + '/ours.f32', dtype='float32').reshape(7, 5)
ref = np.load(d + '/q.npy'); assert (a == ref).all() and (b == ref).all() and (c == ref).all()
print('ok')`;
    expect(execFileSync(faissPython(), ['-c', script, fx.dir], { encoding: 'utf8' }).trim()).toBe('ok');
    for (const ext of ['npy', 'fvecs'] as const) expect((await readVectors(join(fx.dir, `ours.${ext}`))).data).toEqual(q);
  });

  it('refuses an unknown extension or rows that do not divide', async () => {
    await expectError(writeVectors(join(fx.dir, 'x.bin'), q, 5), 'INVALID_ARGUMENT', /name the file \.npy, \.fvecs or \.f32/);
    await expectError(writeVectors(join(fx.dir, 'x.npy'), q, 6), 'INVALID_ARGUMENT', /length 35 are not rows of dimension 6/);
  });

  it('refuses data that is not a Float32Array instead of writing a file whose bytes do not match its header', async () => {
    // Before, a Float64Array was written as its raw doubles (NumPy read garbage floats) and a plain
    // array as no bytes at all under an (n, d) header.
    const path = join(fx.dir, 'wrong.npy');
    await expectError(writeVectors(path, Float64Array.from(q) as unknown as Float32Array, 5), 'INVALID_ARGUMENT', /must be a Float32Array .*got Float64Array: convert with Float32Array\.from/);
    await expectError(writeVectors(path, Array.from(q) as unknown as Float32Array, 5), 'INVALID_ARGUMENT', /got an Array/);
    const read = await readVectors(join(fx.dir, 'q.npy'));
    await expectError(writeVectors(path, read as unknown as Float32Array, 5), 'INVALID_ARGUMENT', /got Object \(for what readVectors returns, pass its \.data and \.d\)/);
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });
});
