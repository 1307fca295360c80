/**
 * FAISS interop of two parts of IVF / SQ8 files that search does not use, with real FAISS
 * (python3-faiss) as the oracle, both ways (test/fixtures/faiss/rangestat_directmap.py):
 * - the ScalarQuantizer's range statistic (RS_minmax with rangestat_arg, RS_meanstd, RS_quantiles,
 *   RS_optim): files trained with each search as in FAISS, and save keeps the statistic; an
 *   untrained file's RS_minmax with rangestat_arg trains here to FAISS's exact ranges, the others
 *   are refused as UNSUPPORTED;
 * - the IVF direct map (array or hashtable, FAISS's reconstruct): save writes it again, rebuilt from
 *   the lists (with vectors added here, sharded too), so FAISS's reconstruct works on what tessera wrote.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import { encodeDirectMap } from '../../src/io/faiss/ivf.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { faissPython, faissServer, readF32 } from './faiss-python.js';

const script = resolve(import.meta.dirname, '../fixtures/faiss/rangestat_directmap.py');

interface Expected {
  file: string;
  labels: number[][];
  distances: number[][];
}
interface Fixtures {
  d: number;
  n: number;
  k: number;
  nprobe: number;
  x: string;
  extra: string;
  queries: string;
  trained: Record<string, Expected & { rangestat: number; rangestat_arg: number }>;
  untrained: Record<string, string>;
  dm: Record<string, Expected & { type: 'array' | 'hashtable' }>;
}
interface View {
  ntotal: number;
  is_trained: boolean;
  rangestat?: number;
  rangestat_arg?: number;
  trained?: number[];
  dm_type?: 'none' | 'array' | 'hashtable';
  dm_array?: number[];
  reconstructed?: number[][];
  reconstruct_error?: string;
  labels?: number[][];
  distances?: number[][];
}

let dir = '';
let fx: Fixtures;
/** One Python for every view (the script's serve mode): a process a view was most of this file's time. */
const server = faissServer<object, View[]>(script, ['serve']);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-rsdm-'));
  execFileSync(faissPython(), [script, 'make', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  fx = JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) as Fixtures;
});
afterAll(() => {
  server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** FAISS reads each file (training on / adding raw float32 files first, when named) and describes it. */
function faissView(files: { file: string; train?: string; add?: string; reconstruct?: number[] }[]): Promise<View[]> {
  return server.ask({ files, queries: fx.queries, d: fx.d, k: fx.k, nprobe: fx.nprobe });
}

/** Distances position by position (float tolerance); labels where the distance is not tied within the row. */
function expectSame(got: SearchResult, want: { labels: number[][]; distances: number[][] }): void {
  const k = got.k;
  for (let q = 0; q < got.nq; q++) {
    const wd = want.distances[q]!;
    for (let i = 0; i < k; i++) {
      const gd = got.distances[q * k + i]!;
      const tol = 1e-4 * Math.max(1, Math.abs(wd[i]!));
      expect(Math.abs(gd - wd[i]!), `query ${q} rank ${i}: ${gd} vs FAISS ${wd[i]}`).toBeLessThanOrEqual(tol);
      const tied = wd.some((v, j) => j !== i && Math.abs(v - wd[i]!) <= 2 * tol);
      if (!tied) expect(Number(got.labels[q * k + i]), `query ${q} rank ${i}`).toBe(want.labels[q]![i]);
    }
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('ScalarQuantizer range statistics', () => {
  const kinds = ['sq', 'ivfsq'];
  const stats = ['minmax_arg', 'meanstd', 'quantiles', 'optim'];
  const cases = kinds.flatMap((k) => stats.flatMap((s) => ['l2', 'ip'].map((m) => `${k}_${s}_${m}`)));

  it.each(cases)('%s: FAISS-trained ranges search as in FAISS; save keeps rangestat and rangestat_arg (single; l2 sharded too)', async (name) => {
    const f = fx.trained[name]!;
    for (const shardBytes of name.endsWith('_l2') ? [undefined, 4096] : [undefined]) {
      const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes });
      try {
        if (shardBytes) expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
        const q = readF32(fx.queries);
        expectSame(await index.search(q, fx.k, { nprobe: fx.nprobe }), f);
        const out = join(dir, `saved-${name}-${shardBytes ?? 0}.index`);
        await index.save(out);
        const [orig, saved] = await faissView([{ file: f.file }, { file: out }]);
        expect(saved!.rangestat).toBe(f.rangestat);
        expect(saved!.rangestat_arg).toBe(f.rangestat_arg);
        expect(saved!.trained).toEqual(orig!.trained);
        expect(saved!.labels).toEqual(orig!.labels);
        expect(saved!.distances).toEqual(orig!.distances);
      } finally {
        await index.dispose();
      }
    }
  });

  it.each(['l2', 'ip'])('SQ8 %s, untrained, RS_minmax with rangestat_arg 0.05: train gives FAISS\'s widened ranges exactly', async (m) => {
    const file = fx.untrained[`sq_minmax_arg_${m}`]!;
    const index = await readIndex(file, { backend: 'wasm', threads: 1 });
    try {
      expect(index.isTrained).toBe(false);
      await index.train(readF32(fx.x));
      await index.add(readF32(fx.x));
      const out = join(dir, `trained-sq-minmax-${m}.index`);
      await index.save(out);
      const [faiss, ours] = await faissView([{ file, train: fx.x, add: fx.x }, { file: out }]);
      expect(ours!.rangestat).toBe(0);
      expect(ours!.rangestat_arg).toBe(faiss!.rangestat_arg);
      expect(ours!.trained).toEqual(faiss!.trained);
      expect(ours!.labels).toEqual(faiss!.labels);
      expect(ours!.distances).toEqual(faiss!.distances);
      expectSame(await index.search(readF32(fx.queries), fx.k), { labels: faiss!.labels!, distances: faiss!.distances! });
    } finally {
      await index.dispose();
    }
  });

  it.each(['sq', 'ivfsq'])('%s, untrained, IVF-SQ8 RS_minmax with rangestat_arg: save records the statistic it trained by', async (kind) => {
    const file = fx.untrained[`${kind}_minmax_arg_l2`]!;
    const index = await readIndex(file, { backend: 'wasm', threads: 1 });
    try {
      await index.train(readF32(fx.x));
      const out = join(dir, `trained-${kind}-minmax-record.index`);
      await index.save(out);
      const [ours] = await faissView([{ file: out }]);
      expect(ours!.is_trained).toBe(true);
      expect(ours!.rangestat_arg).toBeCloseTo(0.05, 6);
    } finally {
      await index.dispose();
    }
  });

  it.each(['sq_meanstd_l2', 'ivfsq_meanstd_ip'])('%s, untrained: train is UNSUPPORTED, naming the statistic and how to train it in FAISS', async (name) => {
    for (const shardBytes of [undefined, 4096]) {
      const index = await readIndex(fx.untrained[name]!, { backend: 'wasm', threads: 1, shardBytes });
      try {
        await expect(index.train(readF32(fx.x))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/RS_meanstd.*rangestat_arg 2\.5.*index\.train\(x\); faiss\.write_index/) });
        expect(index.isTrained).toBe(false);
      } finally {
        await index.dispose();
      }
    }
  });

  it('tessera info names a statistic other than the default', async () => {
    const info = await inspectIndex(fx.trained['ivfsq_meanstd_l2']!.file);
    expect(info.details).toMatchObject({ rangestat: 'RS_meanstd', rangestatArg: 2.5 });
    expect((await inspectIndex(fx.trained['sq_quantiles_ip']!.file)).details).toMatchObject({ rangestat: 'RS_quantiles' });
  });
});

describe('IVF direct map', () => {
  const cases = ['ivfflat', 'ivfsq'].flatMap((k) => ['array', 'hashtable'].flatMap((t) => ['l2', 'ip'].map((m) => `${k}_${t}_${m}`)));

  it.each(cases)('%s: searches as in FAISS; save keeps the direct map, so FAISS reconstructs every vector (single; l2 sharded too)', async (name) => {
    const f = fx.dm[name]!;
    expect((await inspectIndex(f.file)).details).toMatchObject({ directMap: f.type });
    for (const shardBytes of name.endsWith('_l2') ? [undefined, 4096] : [undefined]) {
      const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes });
      try {
        if (shardBytes) expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
        expectSame(await index.search(readF32(fx.queries), fx.k, { nprobe: fx.nprobe }), f);
        const out = join(dir, `dm-${name}-${shardBytes ?? 0}.index`);
        await index.save(out);
        const all = range(0, fx.n);
        const [orig, saved] = await faissView([
          { file: f.file, reconstruct: all },
          { file: out, reconstruct: all },
        ]);
        expect(saved!.dm_type).toBe(f.type);
        expect(saved!.reconstruct_error).toBeUndefined();
        expect(saved!.dm_array).toEqual(orig!.dm_array);
        expect(saved!.reconstructed).toEqual(orig!.reconstructed);
        expect(saved!.labels).toEqual(orig!.labels);
      } finally {
        await index.dispose();
      }
    }
  });

  it.each(['ivfflat_array_l2', 'ivfsq_array_ip'])('%s: vectors added here are in the saved direct map, as FAISS\'s add puts them', async (name) => {
    const f = fx.dm[name]!;
    const extra = readF32(fx.extra);
    const m = extra.length / fx.d;
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1 });
    try {
      await index.add(extra);
      const out = join(dir, `dm-added-${name}.index`);
      await index.save(out);
      const ids = range(0, fx.n + m);
      const [faiss, ours] = await faissView([
        { file: f.file, add: fx.extra, reconstruct: ids },
        { file: out, reconstruct: ids },
      ]);
      expect(ours!.reconstruct_error).toBeUndefined();
      expect(ours!.ntotal).toBe(fx.n + m);
      expect(ours!.dm_array).toEqual(faiss!.dm_array);
      expect(ours!.reconstructed).toEqual(faiss!.reconstructed);
      if (name.startsWith('ivfflat')) expect(ours!.reconstructed!.slice(fx.n).flat()).toEqual(Array.from(extra));
    } finally {
      await index.dispose();
    }
  });

  it('ivfflat_hashtable_ip: vectors added here are in the saved hashtable too (FAISS 1.7.3\'s own add leaves them out of it: reconstruct says key not found)', async () => {
    const f = fx.dm['ivfflat_hashtable_ip']!;
    const extra = readF32(fx.extra);
    const m = extra.length / fx.d;
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1 });
    try {
      await index.add(extra);
      const out = join(dir, 'dm-added-hashtable.index');
      await index.save(out);
      const [faiss, ours] = await faissView([
        { file: f.file, reconstruct: range(0, fx.n) },
        { file: out, reconstruct: range(0, fx.n + m) },
      ]);
      expect(ours!.dm_type).toBe('hashtable');
      expect(ours!.reconstruct_error).toBeUndefined();
      expect(ours!.reconstructed!.slice(0, fx.n)).toEqual(faiss!.reconstructed);
      expect(ours!.reconstructed!.slice(fx.n).flat()).toEqual(Array.from(extra));
    } finally {
      await index.dispose();
    }
  });

  it.each(['l2', 'ip'])('%s: a hashtable direct map over add_with_ids ids is written again, FAISS reconstructing by those ids', async (m) => {
    const f = fx.dm[`ivfflat_hashids_${m}`]!;
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1 });
    try {
      expectSame(await index.search(readF32(fx.queries), fx.k, { nprobe: fx.nprobe }), f);
      const out = join(dir, `dm-hashids-${m}.index`);
      await index.save(out);
      const ids = range(0, fx.n).map((i) => 5000 + 3 * i);
      const [ours] = await faissView([{ file: out, reconstruct: ids }]);
      expect(ours!.dm_type).toBe('hashtable');
      expect(ours!.reconstruct_error).toBeUndefined();
      expect(ours!.reconstructed!.flat()).toEqual(Array.from(readF32(fx.x)));
    } finally {
      await index.dispose();
    }
  });

  it('an array direct map over an id outside 0..ntotal-1 (a crafted file: FAISS refuses to make one) is UNSUPPORTED, naming the id and the hashtable instead', () => {
    const ids = [Int32Array.of(0, 1), Int32Array.of(7)];
    expect(() => encodeDirectMap(1, 3, [2, 1], (l) => ids[l]!)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/list 1 holds id 7, outside 0\.\.2.*DirectMap\.Hashtable/) }));
    // the same lists in a hashtable: (id, list << 32 | offset) pairs after an empty array
    const bytes = encodeDirectMap(2, 3, [2, 1], (l) => ids[l]!);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([v.getUint8(0), v.getBigUint64(1, true), v.getBigUint64(9, true)]).toEqual([2, 0n, 3n]);
    expect([v.getBigInt64(17 + 32, true), v.getBigInt64(17 + 40, true)]).toEqual([7n, 1n << 32n]);
  });

  it('an index trained here from a file without a direct map is saved without one, as FAISS builds it', async () => {
    const index = await readIndex(fx.untrained['ivfsq_minmax_arg_l2']!, { backend: 'wasm', threads: 1 });
    try {
      await index.train(readF32(fx.x));
      await index.add(readF32(fx.x));
      const out = join(dir, 'dm-none.index');
      await index.save(out);
      const [ours] = await faissView([{ file: out, reconstruct: [0] }]);
      expect(ours!.dm_type).toBe('none');
      expect(ours!.reconstruct_error).toBeDefined();
    } finally {
      await index.dispose();
    }
  });
});
