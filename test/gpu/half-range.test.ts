/**
 * precision 'f16' at the edges of float16 through the public API: rows that would lose their
 * values to float16's subnormal range (below 6.1e-5 a half keeps a fixed quantum of 6e-8; below
 * 3e-8 it is 0) are refused naming the row, as rows beyond +-65504 are; queries are not rounded
 * to float16, so queries far outside its range rank exactly as the float64 oracle on the rows.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { readIndex } from '../../src/io/read-index.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { normalizeRows, randomVectors } from '../helpers/data.js';
import { bruteForce } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('float16 range checks');
const d = 16;

describe.skipIf(!hasGpu)('f16 rows and queries at the edges of float16', () => {
  it('a row of values near 1e-7 is refused naming it, before any row is added; unit rows with a few tiny values are kept', async () => {
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'gpu', precision: 'f16' });
    try {
      const rows = normalizeRows(randomVectors(20, d, 1), d);
      // A unit row with values of 1e-9 in some dimensions (rounded to 0): a negligible part of its norm.
      for (let j = 0; j < 4; j++) rows[3 * d + j] = 1e-9;
      await index.add(rows);
      const tiny = normalizeRows(randomVectors(10, d, 2), d);
      for (let j = 0; j < d; j++) tiny[7 * d + j]! *= 4e-7;
      await expect(index.add(tiny)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^vectors to add: row 7 \(largest value \d\.\d\de-7\) would lose \d+\.\d% of its norm in float16, .*use precision 'f32' or 'int8', or scale the vectors up/),
      });
      expect(index.ntotal).toBe(20);
      const r = await index.search(rows.subarray(3 * d, 4 * d), 1);
      expect(r.labels[0]).toBe(3n);
    } finally {
      await index.dispose();
    }
  });

  it("the loader's path checks too: a float32 file of tiny rows read as f16", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-half-'));
    const flat = await indexFactory(d, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    const rows = normalizeRows(randomVectors(30, d, 3), d).map((v) => v * 1e-8);
    await flat.add(rows);
    await flat.save(join(dir, 'tiny.index'));
    await flat.dispose();
    await expect(readIndex(join(dir, 'tiny.index'), { backend: 'gpu', precision: 'f16' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 0 \(largest value \d\.\d\de-9\) would lose 100\.0% of its norm in float16/) });
    const f32 = await readIndex(join(dir, 'tiny.index'), { backend: 'gpu', precision: 'f32' });
    try {
      const r = await f32.search(rows.subarray(5 * d, 6 * d), 1);
      expect(r.labels[0]).toBe(5n);
    } finally {
      await f32.dispose();
    }
  });

  it.each(['ip', 'l2'] as const)('%s: queries of 1e6 and 1e-12 (beyond float16) rank as the oracle on the f16-rounded rows', async (metric) => {
    const base = normalizeRows(randomVectors(200, d, 4), d);
    const halves = base.map((v) => fromHalfBits(toHalfBits(v)));
    const index = await indexFactory(d, 'Flat', metric, { backend: 'gpu', precision: 'f16' });
    try {
      await index.add(base);
      for (const scale of [1e6, 1e-12]) {
        const q = randomVectors(3, d, 5).map((v) => v * scale);
        const got = await index.search(q, 5);
        // L2 at 1e6: distances of ~1e12 whose differences fall below float32's resolution; compare IP there.
        if (metric === 'l2' && scale > 1) continue;
        expect(Array.from(got.labels, Number), `scale ${scale}`).toEqual(Array.from(bruteForce(halves, q, d, 5, metric).labels));
      }
    } finally {
      await index.dispose();
    }
  });
});
