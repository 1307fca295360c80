/**
 * serveFiles (what `tessera serve` runs) over real files: --ef-search / --nprobe reach the HNSW and
 * IVF indexes it serves, in place of the defaults stored in the FAISS file; a corpus in a folder it
 * cannot write names --offsets; --retriever_name encodes queries as Search-R1 does (mean pooling)
 * whatever the folder's pooling, and --pooling overrides both.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { open } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { serveFiles } from '../../src/server/files.js';
import { tempFilePath, thisWriter } from '../../src/io/node-fs.js';
import { cachedOffsetTablePath } from '../../src/io/corpus.js';
import type { ServeFilesOptions } from '../../src/server/files.js';
import { writeToyFolder } from '../encoder/toy-model.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100;
const N = 40;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-files-'));
const corpus = join(tmp, 'corpus.jsonl');

beforeAll(async () => {
  writeFileSync(corpus, Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i), contents: `"Row ${i}"\ntext ${i}` })).join('\n') + '\n');
  let seed = 7;
  const x = Float32Array.from({ length: N * D }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31) - 0.5);
  for (const [type, file] of [['HNSW32', 'hnsw.index'], ['IVF4,Flat', 'ivf.index']] as const) {
    const index = await indexFactory(D, type, 'ip', { backend: 'wasm', threads: 1 });
    await index.train(x);
    await index.add(x);
    await index.save(join(tmp, file));
    await index.dispose();
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('serveFiles', () => {
  it.each([
    ['hnsw.index', { efSearch: 77 }, 'efSearch', 77],
    ['ivf.index', { nprobe: 3 }, 'nprobe', 3],
  ] as const)('%s: the search knob given is the one every search uses', async (file, knob, name, value) => {
    const service = await serveFiles({ index: join(tmp, file), corpus, model: MODEL, offsets: join(tmp, `${file}.offsets`), port: 0, backend: 'wasm', threads: 1, ...knob });
    try {
      await service.ready;
      expect((service.retriever()!.index as unknown as Record<string, number>)[name]).toBe(value);
      const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: ['row'], topk: 5 } });
      expect(res.statusCode).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('index options the served index has no use for are said to be ignored, as tessera search says them (they were dropped without a word)', async () => {
    const lines: string[] = [];
    const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus, model: MODEL, offsets: join(tmp, 'hnsw.index.offsets'), port: 0, backend: 'wasm', threads: 1, nprobe: 8, precision: 'int8', gpuMemory: 1 << 30, efSearch: 20, say: (l) => lines.push(l) });
    try {
      await service.ready;
      expect(lines).toContain('--nprobe does nothing for a HNSW32 index (only IVF indexes take it): ignored');
      expect(lines).toContain('--precision int8, --gpu-memory apply to the GPU backend, and this server runs on wasm: ignored');
      expect(lines.join('\n')).not.toMatch(/--ef-search.*ignored/);
    } finally {
      await service.close();
    }
  });

  describe('a corpus in a folder where the offset table cannot be written (a shared, read-only dataset)', () => {
    const readOnly = '/sys/kernel/address_bits'; // sysfs: no new files, even for root; one row ("64")
    const cache = process.env.XDG_CACHE_HOME;
    afterEach(() => {
      if (cache === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = cache;
    });

    it("the table goes to the user's cache folder, saying where (Search-R1's launch script passes no --offsets: serve failed)", async (ctx) => {
      if (!existsSync(readOnly)) return ctx.skip();
      process.env.XDG_CACHE_HOME = join(tmp, 'cache');
      const expected = await cachedOffsetTablePath(readOnly);
      expect(expected.startsWith(join(tmp, 'cache', 'tessera', 'offsets', 'address_bits.'))).toBe(true);
      for (const start of ['built', 'reused']) {
        const lines: string[] = [];
        const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus: readOnly, model: MODEL, port: 0, backend: 'wasm', threads: 1, say: (l) => lines.push(l) });
        // The corpus loads from the table in the cache; then its one row is not the index's 40.
        await expect(service.ready).rejects.toThrow(`holds ${N} vectors but the corpus ${readOnly} has 1 rows`);
        await service.close();
        expect(lines).toContain(`corpus ${readOnly}: its folder cannot be written (EACCES), so its offset table goes to ${expected} (--offsets FILE to choose another)`);
        expect(lines).toContain(`corpus ${readOnly}: offset table ${start === 'built' ? 'built and saved to' : 'reused from'} ${expected}`);
      }
      expect(existsSync(expected)).toBe(true);
    });

    it('where the cache folder cannot be made either, the error names --offsets', async (ctx) => {
      if (!existsSync(readOnly)) return ctx.skip();
      process.env.XDG_CACHE_HOME = '/sys/kernel/no-cache';
      const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus: readOnly, model: MODEL, port: 0, backend: 'wasm', threads: 1 });
      await expect(service.ready).rejects.toThrow(/cannot write \/sys\/kernel\/address_bits\.offsets: .*; nor can \/sys\/kernel\/no-cache\/tessera\/offsets be created .*: pass --offsets FILE in a folder you can write/);
      await service.close();
    });
  });

  it('a corpus folder with no space left for the offset table: the error names --offsets too', async () => {
    const probe = await open(join(tmp, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const spy = vi.spyOn(proto, 'write').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
    try {
      const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus, model: MODEL, port: 0, backend: 'wasm', threads: 1 });
      await expect(service.ready).rejects.toThrow(/cannot write .*corpus\.jsonl\.offsets: no space left on the device \(ENOSPC\).*: pass --offsets FILE in a folder you can write/);
    } finally {
      spy.mockRestore();
    }
    expect(existsSync(`${corpus}.offsets`)).toBe(false);
  });

  it("a corpus name too long for its offset table's temp file beside it: the error names --offsets, the one way to name the table", async () => {
    const long = join(tmp, `${'c'.repeat(225)}.jsonl`); // 231 bytes: the corpus itself is a file
    writeFileSync(long, readFileSync(corpus));
    const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus: long, model: MODEL, port: 0, backend: 'wasm', threads: 1 });
    await expect(service.ready).rejects.toThrow(/cannot write .*c\.jsonl\.offsets: its name \(239 bytes\) is too long .*: pass --offsets FILE in a folder you can write/);
    await service.close();
  });

  it('a missing or compressed corpus fails before the model loads (it failed only after the model had loaded)', async () => {
    const gz = join(tmp, 'corpus.jsonl.gz');
    writeFileSync(gz, gzipSync(Buffer.from('{"id": "0", "contents": "x"}\n')));
    const start = (c: string) => serveFiles({ index: join(tmp, 'hnsw.index'), corpus: c, model: MODEL, port: 0, backend: 'wasm', threads: 1 });
    await expect(start(gz)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`corpus ${gz} is gzip-compressed`) });
    await expect(start(join(tmp, 'nope.jsonl'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('nope.jsonl') });
  });

  it("a model file given in place of its folder is named as such, with the folder to pass (it said to export the model to ONNX with optimum-cli)", async () => {
    const start = (model: string) => serveFiles({ index: join(tmp, 'hnsw.index'), corpus, model, offsets: join(tmp, 'hnsw.index.offsets'), port: 0, backend: 'wasm', threads: 1 });
    const nested = join(tmp, 'nested-model', 'onnx');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(nested, 'model.onnx'), 'x');
    for (const [file, folder] of [[join(MODEL, 'model.onnx'), MODEL], [join(nested, 'model.onnx'), join(tmp, 'nested-model')]] as const) {
      const e = await start(file).then(() => undefined, (err: unknown) => err);
      expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', message: `model ${file} is a file: --model takes the model's folder (tokenizer.json or vocab.txt, config.json, onnx/model.onnx or model.onnx): pass --model ${folder}` });
    }
  });

  it('an index with no vectors is refused at start (it served, and every request got 400 "the index is empty: add vectors (index.add) before searching")', async () => {
    const empty = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm' });
    await empty.save(join(tmp, 'empty.index'));
    await empty.dispose();
    writeFileSync(join(tmp, 'empty.jsonl'), '');
    const start = serveFiles({ index: join(tmp, 'empty.index'), corpus: join(tmp, 'empty.jsonl'), model: MODEL, offsets: join(tmp, 'empty.offsets'), port: 0, backend: 'wasm', threads: 1 });
    await expect(start).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/empty\.index holds no vectors: serve an index built from the corpus \(tessera build --corpus .*empty\.jsonl/) });
  });

  it("--backend gpu (Search-R1's --faiss_gpu) with an HNSW or IVF file fails before the model loads and the corpus is scanned (it failed after both)", async () => {
    const offsets = join(tmp, 'never-gpu.offsets');
    const loads = vi.spyOn(Encoder, 'fromDirectory');
    for (const file of ['hnsw.index', 'ivf.index']) {
      const start = serveFiles({ index: join(tmp, file), corpus, model: MODEL, offsets, port: 0, backend: 'gpu', threads: 1 });
      await expect(start).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/is an Index(HNSWFlat|IVFFlat), which the gpu backend does not serve: leave out --backend gpu \(Search-R1's --faiss_gpu\), the wasm backend serves it/) });
    }
    expect(loads).not.toHaveBeenCalled();
    expect(existsSync(offsets)).toBe(false);
    loads.mockRestore();
  });

  it('a model whose vectors do not fit the index fails before the corpus is scanned for its offset table', async () => {
    const small = writeToyFolder(join(tmp, 'toy-8'), 8);
    const offsets = join(tmp, 'never.offsets');
    const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus, model: small, offsets, port: 0, backend: 'wasm', threads: 1, encoderProvider: 'wasm' });
    await expect(service.ready).rejects.toThrow(/8.*100|100.*8/);
    expect(existsSync(offsets)).toBe(false);
  });

  it("serve removes, saying so, the offset table's temp file that a serve killed while writing it (kill -9) left beside the corpus (hidden, 8 bytes a row, it stayed there)", async () => {
    const me = await thisWriter();
    const offsets = join(tmp, 'leftover.offsets');
    const left = tempFilePath(offsets, { ...me, pid: 99_999_999 }); // above any pid_max: no such process
    writeFileSync(left, Buffer.alloc(4096));
    const lines: string[] = [];
    const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus, model: MODEL, offsets, port: 0, backend: 'wasm', threads: 1, say: (l) => lines.push(l) });
    try {
      await service.ready;
    } finally {
      await service.close();
    }
    expect(existsSync(left)).toBe(false);
    expect(lines).toContain(`removed ${left} (4.0 KiB), left by process 99999999, which was stopped while writing the offset table ${offsets}`);
  });

  it('a corpus with rows that are not UTF-8: told at start when the offset table is built (count, lines), else as answers meet them (they were sent with U+FFFD without a word)', async () => {
    const latin1 = join(tmp, 'latin1.jsonl');
    const rows = Array.from({ length: N }, (_, i) => Buffer.from(JSON.stringify({ id: String(i), contents: `caf\u00e9 ${i}` }) + '\n', i === 4 || i === 9 ? 'latin1' : 'utf8'));
    writeFileSync(latin1, Buffer.concat(rows));
    const offsets = join(tmp, 'latin1.offsets');
    for (const start of ['built', 'reused']) {
      const lines: string[] = [];
      const service = await serveFiles({ index: join(tmp, 'hnsw.index'), corpus: latin1, model: MODEL, offsets, port: 0, backend: 'wasm', threads: 1, say: (l) => lines.push(l) });
      try {
        await service.ready;
        const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: ['row'], topk: N } });
        expect(res.statusCode).toBe(200);
        const told = lines.filter((l) => l.includes('not valid UTF-8'));
        if (start === 'built') {
          expect(told).toEqual([`${latin1}: 2 rows are not valid UTF-8, read with U+FFFD (the replacement character) for the bad bytes: lines 5, 10; if the corpus is in another encoding, convert it (iconv -f <its encoding> -t UTF-8) and build the index again`]);
        } else {
          expect(told.sort()).toEqual([4, 9].map((r) => `corpus ${latin1}: row ${r} is not valid UTF-8, answered with U+FFFD (the replacement character) for the bad bytes; if the corpus is in another encoding, convert it (iconv -f <its encoding> -t UTF-8) and build the index again`));
        }
      } finally {
        await service.close();
      }
    }
  });

  describe('query encoding', () => {
    // A model folder whose sentence-transformers config says CLS pooling, and an index of two rows:
    // the query's CLS-pooled vector ("cls") and its mean-pooled one ("mean"). The top hit tells
    // which pooling the server used.
    const QUERY = 'the cat sat';
    const toy = join(tmp, 'toy-cls');
    const toyIndex = join(tmp, 'toy.index');
    const toyCorpus = join(tmp, 'toy.jsonl');
    beforeAll(async () => {
      writeToyFolder(toy, 8, { pooling: 'cls' });
      const rows: Float32Array[] = [];
      for (const pooling of ['cls', 'mean'] as const) {
        const enc = await Encoder.fromDirectory(toy, { pooling, prefixes: 'none', executionProvider: 'wasm', threads: 1 });
        rows.push(await enc.encode([QUERY], { prefix: 'query' }));
        await enc.dispose();
      }
      const index = await indexFactory(8, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
      await index.add(Float32Array.from([...rows[0]!, ...rows[1]!]));
      await index.save(toyIndex);
      await index.dispose();
      writeFileSync(toyCorpus, ['cls', 'mean'].map((c) => JSON.stringify({ id: c, contents: c })).join('\n') + '\n');
    });

    const topHit = async (opts: Partial<ServeFilesOptions>): Promise<{ hit: string; lines: string[] }> => {
      const lines: string[] = [];
      const service = await serveFiles({ index: toyIndex, corpus: toyCorpus, model: toy, port: 0, backend: 'wasm', threads: 1, encoderProvider: 'wasm', say: (l) => lines.push(l), ...opts });
      try {
        await service.ready;
        const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: [QUERY], topk: 1 } });
        expect(res.statusCode).toBe(200);
        return { hit: (res.json() as { result: { contents: string }[][] }).result[0]![0]!.contents, lines };
      } finally {
        await service.close();
      }
    };

    it("without --retriever_name the folder's pooling (CLS) encodes the queries", async () => {
      const { hit, lines } = await topHit({});
      expect(hit).toBe('cls');
      expect(lines.join('\n')).toMatch(/loaded model .*cls pooling, L2-normalised, query prefix "", max 512 tokens/);
    });

    it("--retriever_name: Search-R1's mean pooling and 256 tokens, whatever the folder says", async () => {
      const { hit, lines } = await topHit({ retrieverName: 'toy' });
      expect(hit).toBe('mean');
      expect(lines.join('\n')).toMatch(/loaded model .*mean pooling, L2-normalised, query prefix "", max 256 tokens/);
    });

    it('--pooling and --max-length override --retriever_name', async () => {
      const { hit, lines } = await topHit({ retrieverName: 'toy', pooling: 'cls', maxLength: 64 });
      expect(hit).toBe('cls');
      expect(lines.join('\n')).toMatch(/loaded model .*cls pooling, L2-normalised, query prefix "", max 64 tokens/);
    });
  });
});
