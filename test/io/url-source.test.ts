/**
 * urlSource: index files over http, as a browser or Deno reads them, from a local server that
 * answers ranges or not, compresses, redirects, answers 404, or closes mid-body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModelFolder } from '../../src/encoder/model-files.js';
import { indexFactory, inspectIndex, memorySink, readIndex, urlSource } from '../../src/index.js';

const d = 8;
const n = 2000;
const vectors = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.73));
let file: Uint8Array;
let server: Server;
let base: string;
const ranges: string[] = [];
/** The ETag the range server gives: a test bumps it to replace the file mid-read. */
let version = 1;
let want: bigint[];

beforeAll(async () => {
  const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
  await index.add(vectors);
  want = Array.from((await index.search(vectors.subarray(0, 4 * d), 3)).labels);
  const sink = memorySink();
  await index.save(sink);
  await index.dispose();
  file = sink.bytes();
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const range = req.headers.range;
    if (path === '/range/x.index' && range) {
      ranges.push(range);
      const m = /^bytes=(\d+)-(\d+)$/.exec(range)!;
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), file.length - 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${file.length}`, 'content-length': end - start + 1, etag: `"v${version}"` });
      res.end(file.subarray(start, end + 1));
    } else if (path === '/empty/x.index') {
      if (range) res.writeHead(416, { 'content-range': 'bytes */0' }).end();
      else res.writeHead(200, { 'content-length': 0 }).end();
    } else if (path === '/range/x.index' || path === '/plain/x.index') {
      res.writeHead(200, { 'content-length': file.length }).end(file);
    } else if (path === '/gzip/x.index') {
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(file));
    } else if (path === '/moved/x.index') {
      res.writeHead(302, { location: '/range/x.index' }).end();
    } else if (path === '/cut/x.index') {
      res.writeHead(200, { 'content-length': file.length });
      res.write(file.subarray(0, 1000), () => res.destroy());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('urlSource', () => {
  it.each([
    ['range', true],
    ['plain', false],
    ['gzip', false],
    ['moved', true],
  ] as const)('reads an index from a %s server (ranged: %s) with the same results', async (kind, ranged) => {
    ranges.length = 0;
    const source = await urlSource(`${base}/${kind}/x.index`);
    expect(source.ranged).toBe(ranged);
    expect(source.size).toBe(file.length);
    expect((await inspectIndex(source)).ntotal).toBe(n);
    let last = { done: 0, total: -1 };
    const index = await readIndex(source, { backend: 'wasm', threads: 1, onProgress: (e) => (last = { done: e.done, total: e.total ?? -1 }) });
    expect(last.done).toBe(last.total);
    expect(Array.from((await index.search(vectors.subarray(0, 4 * d), 3)).labels)).toEqual(want);
    await index.dispose();
    if (ranged) expect(ranges.length).toBeGreaterThan(1);
  });

  it('a 404 is NOT_FOUND naming the URL and the status', async () => {
    await expect(urlSource(`${base}/none/x.index`)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/\/none\/x\.index.*404/) });
  });

  it('a server that closes mid-body fails naming the URL', async () => {
    await expect(urlSource(`${base}/cut/x.index`)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`${base}/cut/x.index`) });
  });

  it('a refused connection is NOT_FOUND naming the URL', async () => {
    await expect(urlSource('http://127.0.0.1:1/x.index')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('http://127.0.0.1:1/x.index') });
  });

  it('a truncated file read over ranges names the URL in its FORMAT error', async () => {
    const source = await urlSource(`${base}/range/x.index`);
    const short = { ...source, size: 200 };
    await expect(readIndex(short, { backend: 'wasm' })).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`${base}/range/x.index`) });
  });

  it('readIndex and inspectIndex take a URL object or an http(s) URL string', async () => {
    for (const url of [new URL(`${base}/range/x.index`), `${base}/range/x.index`]) {
      expect((await inspectIndex(url)).ntotal).toBe(n);
      const index = await readIndex(url, { backend: 'wasm', threads: 1 });
      expect(Array.from((await index.search(vectors.subarray(0, 4 * d), 3)).labels)).toEqual(want);
      await index.dispose();
    }
    await expect(readIndex(`${base}/none/x.index`)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/404/) });
    await expect(readIndex(new URL(`${base}/none/x.index`))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/404/) });
  });

  it("Deno's refusal without --allow-net keeps its message and is not blamed on the server", async () => {
    const denied = Object.assign(new Error('Requires net access to "example.org:443", run again with the --allow-net flag'), { name: 'NotCapable' });
    const err = await urlSource('https://example.org/x.index', { fetch: async () => Promise.reject(denied) }).then(() => new Error("resolved"), (e: unknown) => e as Error);
    expect(err.message).toContain('--allow-net');
    expect(err.message).not.toMatch(/server answers/);
  });

  it("the encoder's file: URL refused by Deno (no --allow-read) names the permission, not the server", async () => {
    const denied = Object.assign(new Error('Requires read access to "/models/m/config.json", run again with the --allow-read flag'), { name: 'NotCapable' });
    const saved = globalThis.fetch;
    globalThis.fetch = async () => Promise.reject(denied);
    try {
      const err = await openModelFolder(new URL('file:///models/m/')).get('config.json').then(() => new Error("resolved"), (e: unknown) => e as Error);
      expect(err.message).toContain('--allow-read');
      expect(err.message).not.toMatch(/server answers/);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('an IVF of many lists loads in a few range requests, not two per list', async () => {
    const ivf = await indexFactory(d, 'IVF32,Flat', 'ip', { backend: 'wasm', threads: 1, seed: 5 });
    await ivf.train(vectors);
    await ivf.add(vectors);
    const want = Array.from((await ivf.search(vectors.subarray(0, 4 * d), 3, { nprobe: 32 })).labels);
    const sink = memorySink();
    await ivf.save(sink);
    await ivf.dispose();
    const saved = file;
    file = sink.bytes();
    try {
      ranges.length = 0;
      const index = await readIndex(await urlSource(`${base}/range/x.index`, { readAhead: 1 << 16 }), { backend: 'wasm', threads: 1 });
      expect(Array.from((await index.search(vectors.subarray(0, 4 * d), 3, { nprobe: 32 })).labels)).toEqual(want);
      await index.dispose();
      // the probe, then one request per 64 KiB of file (plus one where a field straddles a block)
      expect(ranges.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(file.length / (1 << 16)));
    } finally {
      file = saved;
    }
  });

  it('an empty file (416 to a range) is a FORMAT error naming the URL, not an HTTP failure', async () => {
    const source = await urlSource(`${base}/empty/x.index`);
    expect(source.size).toBe(0);
    await expect(readIndex(source)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining(`${base}/empty/x.index`) });
  });

  it('a relative URL where there is no page to resolve it against is INVALID_ARGUMENT saying so', async () => {
    await expect(urlSource('/x.index')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/relative URL/) });
  });

  it('a file replaced on the server between range reads is FORMAT saying so, not a mix of two files', async () => {
    const source = await urlSource(`${base}/range/x.index`, { readAhead: 256 });
    await source.read(0, 100);
    version++;
    try {
      await expect(source.read(5000, 100)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/changed on the server/) });
    } finally {
      version--;
    }
  });

  it('readIndex counts a whole-file download in onProgress (a server without ranges: python3 -m http.server), then the rows it loads', async () => {
    for (const [kind, total] of [
      ['plain', file.length],
      ['gzip', undefined], // a compressed body's length is not the file's
    ] as const) {
      const events: { phase: string; done: number; total?: number; unit: string }[] = [];
      const index = await readIndex(`${base}/${kind}/x.index`, { backend: 'wasm', threads: 1, onProgress: (e) => events.push({ ...e }) });
      await index.dispose();
      const downloads = events.filter((e) => e.phase === 'downloading index');
      // Before this, a large index came silently until every byte was in.
      expect(downloads.length).toBeGreaterThanOrEqual(2);
      expect(downloads[0]).toEqual({ phase: 'downloading index', done: 0, ...(total !== undefined ? { total } : {}), unit: 'bytes' });
      expect(downloads.at(-1)).toEqual({ phase: 'downloading index', done: file.length, ...(total !== undefined ? { total } : {}), unit: 'bytes' });
      expect(downloads.every((e, i) => i === 0 || e.done >= downloads[i - 1]!.done)).toBe(true);
      expect(events.indexOf(downloads.at(-1)!)).toBeLessThan(events.findIndex((e) => e.phase === 'loading index'));
    }
    // Ranged reads need no download phase: the rows' progress is the download's.
    const events: string[] = [];
    await (await readIndex(`${base}/range/x.index`, { backend: 'wasm', threads: 1, onProgress: (e) => events.push(e.phase) })).dispose();
    expect(events).not.toContain('downloading index');
  });

  it("an onProgress that throws mid-download stops it with the caller's error; a body cut short is still FORMAT naming the URL", async () => {
    const stop = new Error('user cancelled');
    await expect(
      readIndex(`${base}/plain/x.index`, {
        backend: 'wasm',
        onProgress: (e) => {
          if (e.phase === 'downloading index' && e.done > 0) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    await expect(readIndex(`${base}/cut/x.index`, { backend: 'wasm', onProgress: () => {} })).rejects.toMatchObject({
      code: 'FORMAT',
      message: expect.stringContaining(`${base}/cut/x.index`),
    });
  });
});
