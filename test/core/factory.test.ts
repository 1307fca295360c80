import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexFactory, parseFactoryString } from '../../src/core/factory.js';
import { TesseraError } from '../../src/core/errors.js';
import { memorySink } from '../../src/io/byte-reader.js';
import '../../src/wasm/register.js';
import { faissPython } from '../io/faiss-python.js';

describe('factory strings', () => {
  it.each([
    ['Flat', { kind: 'flat' }],
    ['HNSW32', { kind: 'hnsw', M: 32 }],
    ['HNSW64,Flat', { kind: 'hnsw', M: 64 }],
    // FAISS reads an HNSW with no M as HNSW32, and takes its storage after '_' as after ','
    ['HNSW', { kind: 'hnsw', M: 32 }],
    ['HNSW,Flat', { kind: 'hnsw', M: 32 }],
    ['HNSW16_Flat', { kind: 'hnsw', M: 16 }],
    ['HNSW16_', { kind: 'hnsw', M: 16 }],
    ['IVF4096,Flat', { kind: 'ivf', nlist: 4096, storage: 'flat' }],
    ['IVF1024, SQ8', { kind: 'ivf', nlist: 1024, storage: 'sq8' }],
    ['SQ8', { kind: 'sq', bits: 8 }],
  ])('parses %s', (s, spec) => {
    expect(parseFactoryString(s)).toEqual(spec);
  });
  it.each(['', 'flat', 'HNSW1', 'IVF0,Flat', 'IVF64', 'IVF64,PQ8', 'Flat,Flat', 'HNSW32,SQ8', 'PCA64,Flat'])(
    'rejects %j with INVALID_ARGUMENT naming the stage',
    (s) => {
      expect(() => parseFactoryString(s)).toThrowError(TesseraError);
      try {
        parseFactoryString(s);
      } catch (e) {
        expect((e as TesseraError).code).toBe('INVALID_ARGUMENT');
      }
    },
  );

  // What FAISS builds from each, the part tessera lacks, and the string to use instead.
  it.each([
    ['OPQ4,IVF8,Flat', /pre-transform "OPQ4" .*not supported.*nearest supported: "IVF8,Flat"/],
    ['OPQ16_64,IVF8,PQ16', /pre-transform "OPQ16_64".*list storage "PQ16" is not supported.*nearest supported: "IVF8,SQ8"/],
    ['PCA64,HNSW32', /pre-transform "PCA64".*nearest supported: "HNSW32"/],
    ['L2norm,Flat', /pre-transform "L2norm".*normalise the vectors yourself.*nearest supported: "Flat"/],
    ['IDMap,Flat', /stage "IDMap" \(FAISS IndexIDMap\) is not supported.*ids\[label\].*nearest supported: "Flat"/],
    ['IDMap2,HNSW32', /stage "IDMap2".*nearest supported: "HNSW32"/],
    ['IVF8,SQ8,RFlat', /refine stage "RFlat".*nearest supported: "IVF8,SQ8"/],
    ['IVF8,PQ4,Refine(Flat)', /refine stage "Refine\(Flat\)".*list storage "PQ4".*nearest supported: "IVF8,SQ8"/],
    ['IVF8_HNSW32,Flat', /coarse quantizer "HNSW32" of "IVF8_HNSW32" is not supported.*nearest supported: "IVF8,Flat"/],
    ['IVF8,SQfp16', /list storage "SQfp16" is not supported after IVF.*nearest supported: "IVF8,SQ8"/],
    ['IVF8', /"IVF8" needs its list storage after it, "IVF8,Flat" or "IVF8,SQ8"/],
    ['HNSW32,SQ8', /"SQ8" storage under HNSW .*not supported.*nearest supported: "HNSW32"/],
    ['HNSW16_PQ8', /"PQ8" storage under HNSW.*nearest supported: "HNSW16"/],
    ['HNSW32,Flat,Flat', /stage "Flat" cannot follow "HNSW32,Flat".*nearest supported: "HNSW32"/],
    ['SQ4', /scalar quantizer "SQ4" is not supported.*nearest supported: "SQ8"/],
    ['SQfp16', /scalar quantizer "SQfp16".*nearest supported: "SQ8"/],
    ['PQ16', /index type "PQ16" is not supported.*nearest supported: "SQ8"/],
    ['IMI2x8,Flat', /multi-index quantizer "IMI2x8" is not supported.*nearest supported: "IVF65536,Flat"/],
    ['NSG32,Flat', /index type "NSG32" is not supported.*nearest supported: "HNSW32"/],
    ['flat', /case-sensitive.*nearest supported: "Flat"/],
    ['hnsw32,flat', /case-sensitive.*nearest supported: "HNSW32"/],
    ['HNSW32,flat', /^cannot parse index type "HNSW32,flat": factory strings are case-sensitive, as in FAISS; nearest supported: "HNSW32"/],
    ['IVF64,flat', /case-sensitive.*nearest supported: "IVF64,Flat"/],
    ['ivf64,sq8', /case-sensitive.*nearest supported: "IVF64,SQ8"/],
    ['HNSW1', /needs M in \[2, 512\].*nearest supported: "HNSW2"/],
    ['Flat,', /empty stage \(a stray comma\).*nearest supported: "Flat"/],
    ['Flatt', /stage "Flatt" is not a known index type; supported: Flat/],
  ])('refuses %j naming the unsupported part and the nearest supported string', (s, message) => {
    expect(() => parseFactoryString(s)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }));
  });

  it('rejects an unknown backend and a bad metric before doing anything', async () => {
    await expect(indexFactory(4, 'Flat', 'ip', { backend: 'cuda' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(indexFactory(4, 'Flat', 'cos' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(indexFactory(0, 'Flat')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('indexFactory memoryLimit', () => {
  it.each(['Flat', 'HNSW32', 'IVF4,Flat', 'SQ8'])('caps the WebAssembly memory of %s', async (s) => {
    const d = 64;
    // 16 MiB of vectors against an 8 MiB memory; Flat used to grow past it to 4 GiB
    const x = new Float32Array(65_536 * d).map((_, i) => (i % 7) - 3);
    const index = await indexFactory(d, s, 'ip', { backend: 'wasm', threads: 1, memoryLimit: 8 << 20 });
    try {
      if (!index.isTrained) await index.train(x.subarray(0, 256 * d));
      await expect(index.add(x)).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(index.ntotal).toBe(0);
      await index.add(x.subarray(0, 1024 * d));
      expect(index.ntotal).toBe(1024);
    } finally {
      await index.dispose();
    }
    await expect(indexFactory(d, s, 'ip', { backend: 'wasm', threads: 1, memoryLimit: 1024 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/memoryLimit 1024 \(bytes\) is less than/) });
  }, 60_000);
});

describe('factory strings against faiss.index_factory', () => {
  // Each string FAISS and tessera both take: tessera's index, saved and read back by FAISS, is the
  // class FAISS's factory builds, with its parameters (M, efConstruction, efSearch, nlist, nprobe,
  // quantizer type, metric).
  const strings = ['Flat', 'HNSW', 'HNSW,Flat', 'HNSW16', 'HNSW8_Flat', 'HNSW8_', 'IVF4,Flat', 'IVF4,SQ8', 'SQ8'];
  const script = `
import faiss, json, sys
def props(owner):
    i = faiss.downcast_index(owner)  # a view: owner must outlive it
    p = {'class': type(i).__name__, 'metric': 'ip' if i.metric_type == faiss.METRIC_INNER_PRODUCT else 'l2', 'd': i.d}
    if hasattr(i, 'hnsw'):
        p.update(M=i.hnsw.nb_neighbors(1), M0=i.hnsw.nb_neighbors(0), efConstruction=i.hnsw.efConstruction, efSearch=i.hnsw.efSearch)
    if hasattr(i, 'nlist'):
        q = faiss.downcast_index(i.quantizer)
        p.update(nlist=i.nlist, nprobe=i.nprobe, quantizer=type(q).__name__, quantizerMetric=q.metric_type, byResidual=getattr(i, 'by_residual', None))
    if hasattr(i, 'sq'):
        p.update(qtype=i.sq.qtype, rangestat=i.sq.rangestat)
    return p
out = []
for s, metric, path in json.loads(sys.argv[1]):
    m = faiss.METRIC_INNER_PRODUCT if metric == 'ip' else faiss.METRIC_L2
    out.append([props(faiss.index_factory(8, s, m)), props(faiss.read_index(path))])
print(json.dumps(out))
`;
  it('builds the index faiss.index_factory builds, with its defaults', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-factory-'));
    try {
      const d = 8;
      const x = new Float32Array(64 * d).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
      const cases: [string, string, string][] = [];
      for (const s of strings) {
        for (const metric of ['ip', 'l2'] as const) {
          const index = await indexFactory(d, s, metric, { backend: 'wasm', threads: 1, seed: 1 });
          try {
            if (!index.isTrained) await index.train(x);
            await index.add(x);
            const path = join(dir, `${cases.length}.index`);
            const sink = memorySink();
            await index.save(sink);
            writeFileSync(path, sink.bytes());
            cases.push([s, metric, path]);
          } finally {
            await index.dispose();
          }
        }
      }
      const views = JSON.parse(execFileSync(faissPython(), ['-c', script, JSON.stringify(cases)], { encoding: 'utf8' })) as [object, object][];
      views.forEach(([fromFactory, fromTessera], i) => expect({ s: cases[i]![0], ...fromTessera }).toEqual({ s: cases[i]![0], ...fromFactory }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
