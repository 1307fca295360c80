/**
 * HTTP contract and every limit of POST /retrieve, over the service wired with test doubles
 * (deterministic encoder, brute-force index with fault injection). fastify's inject: no sockets.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TesseraError, isTesseraError } from '../../src/core/errors.js';
import type { Backend, Index } from '../../src/core/types.js';
import { WordPieceTokenizer } from '../../src/encoder/tokenizer.js';
import { LINGER_MAX_BYTES, STREAM_ABOVE_CHARS, renderResult, renderResultParts, scoreJson } from '../../src/server/app.js';
import { asTyped, startService } from '../../src/server/service.js';
import type { RunningService, ServiceOptions } from '../../src/server/service.js';
import { BruteForceIndex, CoarseShortlistIndex, MemoryRows, WarmableIndex, WordHashEncoder, TEST_SERVICE_LIMITS, demoRows, embed } from './doubles.js';

const D = 16;
const ROWS = demoRows(60);
const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

interface Fixture {
  service: RunningService;
  encoder: WordHashEncoder;
  indexes: BruteForceIndex[];
}

async function serve(more: Partial<ServiceOptions> = {}, setup: { gate?: Promise<void>; failReload?: Backend[] } = {}): Promise<Fixture> {
  const encoder = new WordHashEncoder(D);
  const indexes: BruteForceIndex[] = [];
  const base = embed(ROWS.map((r) => JSON.parse(r).contents as string), D);
  const service = await startService({
    ...TEST_SERVICE_LIMITS,
    loadCorpus: async () => {
      await setup.gate;
      return new MemoryRows(ROWS);
    },
    loadEncoder: async () => encoder,
    loadIndex: async (backend?: Backend): Promise<Index> => {
      if (backend && setup.failReload?.includes(backend)) throw new TesseraError('GPU_UNAVAILABLE', `no ${backend} (test)`);
      const index = new BruteForceIndex(D, base, backend ?? 'gpu');
      indexes.push(index);
      return index;
    },
    ...more,
  });
  running.push(service);
  if (!setup.gate) await service.ready;
  return { service, encoder, indexes };
}

/** vi.waitFor's polling for a state the server reaches within a few event-loop turns, patient with a loaded machine. */
const WAIT = { timeout: 5000, interval: 5 };

const post = (s: RunningService, body: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({
    method: 'POST',
    url: '/retrieve',
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('POST /retrieve contract', () => {
  it('answers Search-R1 style: one list per query, in order, documents as stored, scores best first', async () => {
    const { service } = await serve();
    const queries = ['piano number 4', 'rocket 5', 'castle'];
    const res = await post(service, { queries, topk: 3, return_scores: true });
    expect(res.statusCode).toBe(200);
    const { result } = res.json() as { result: { document: { id: string; contents: string }; score: number }[][] };
    expect(result).toHaveLength(3);
    const want = new BruteForceIndex(D, embed(ROWS.map((r) => JSON.parse(r).contents), D));
    const oracle = await want.search(embed(queries, D), 3);
    result.forEach((hits, q) => {
      expect(hits).toHaveLength(3);
      hits.forEach((h, j) => {
        const id = Number(oracle.labels[q * 3 + j]);
        expect(h.document).toEqual(JSON.parse(ROWS[id]!));
        expect(h.score).toBeCloseTo(oracle.distances[q * 3 + j]!, 6);
        if (j > 0) expect(h.score).toBeLessThanOrEqual(hits[j - 1]!.score);
      });
    });
    expect(result[0]![0]!.document.contents).toContain('piano 4');
    // A trailing slash, which Search-R1's FastAPI server redirects to /retrieve, is the same route (was 404).
    const slash = await service.app.inject({ method: 'POST', url: '/retrieve/', payload: JSON.stringify({ queries, topk: 3, return_scores: true }), headers: { 'content-type': 'application/json' } });
    expect(slash.statusCode).toBe(200);
    expect(slash.json()).toEqual(res.json());
  });

  it('without return_scores answers the rows alone (Search-R1 itself fails there with 500)', async () => {
    const { service } = await serve();
    for (const body of [{ queries: ['dog'], topk: 2, return_scores: false }, { queries: ['dog'], topk: 2 }]) {
      const res = await post(service, body);
      expect(res.statusCode).toBe(200);
      const { result } = res.json() as { result: { id: string; contents: string }[][] };
      expect(result[0]).toHaveLength(2);
      expect(Object.keys(result[0]![0]!)).toEqual(['id', 'contents']);
    }
  });

  it('topk missing, null or 0 takes the server default; unknown fields are ignored', async () => {
    const { service } = await serve();
    for (const body of [{ queries: ['a'] }, { queries: ['a'], topk: null }, { queries: ['a'], topk: 0, extra: { x: 1 }, return_scores: true }]) {
      const res = await post(service, body);
      expect(res.statusCode).toBe(200);
      expect((res.json() as { result: unknown[][] }).result[0]).toHaveLength(3);
    }
  });

  it('queries: [] -> {"result": []}', async () => {
    const { service, encoder } = await serve();
    const res = await post(service, { queries: [], topk: 3, return_scores: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: [] });
    expect(encoder.calls).toHaveLength(0);
  });

  it('integral scores are written as floats (0.0, 1.0, -0.0), as Python writes them: json.loads gives float, not int', async () => {
    const { service } = await serve();
    // No words: the encoder's vector is zero, so every score is exactly 0 (was written "score":0).
    const res = await post(service, { queries: ['?!'], topk: 2, return_scores: true });
    expect(res.statusCode).toBe(200);
    expect(res.payload).toMatch(/"score":0\.0\}.*"score":0\.0\}/);
    const found = { nq: 1, k: 5, labels: BigInt64Array.from([0n, 1n, 2n, 3n, 4n]), distances: Float32Array.from([1, 0.25, 0, -0, -2]) };
    const text = await renderResult(found, new MemoryRows(ROWS), true);
    expect([...text.matchAll(/"score":([^}]*)\}/g)].map((m) => m[1])).toEqual(['1.0', '0.25', '0.0', '-0.0', '-2.0']);
    expect(scoreJson(0.8912345409393311)).toBe('0.8912345409393311');
    expect(scoreJson(1e21)).toBe('1e+21');
  });

  it('a {"title", "text"} row is sent with the "contents" Search-R1\'s trainer reads (as build encoded it); a row that is not a JSON object as {"contents": row}; other rows as stored', async () => {
    const rows = [
      '{"id": "0", "title": "Cat", "text": "a small animal"}',
      '{"id": 1, "text": "no title"}',
      '{"id": "2", "contents": "\\"Dog\\"\\nbarks", "text": "kept as is"}',
      'not json',
      // JSON but no object (bad rows to build, zero vectors): were sent as they are, a TypeError in Search-R1's trainer.
      '"a bare string"',
      '[1, 2]',
      'null',
    ];
    const found = { nq: 1, k: 7, labels: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n, 6n]), distances: Float32Array.from([4, 3, 2, 1, 0, 0, 0]) };
    const docs = (JSON.parse(await renderResult(found, new MemoryRows(rows), false)) as { result: Record<string, unknown>[][] }).result[0]!;
    expect(docs).toEqual([
      { id: '0', title: 'Cat', text: 'a small animal', contents: '"Cat"\na small animal' },
      { id: 1, text: 'no title', contents: 'no title' },
      { id: '2', contents: '"Dog"\nbarks', text: 'kept as is' },
      { contents: 'not json' },
      { contents: '"a bare string"' },
      { contents: '[1, 2]' },
      { contents: 'null' },
    ]);
  });

  it('topk above the corpus size returns what exists, never padding rows', async () => {
    const { service } = await serve();
    const res = await post(service, { queries: ['x'], topk: 50 });
    expect((res.json() as { result: unknown[][] }).result[0]).toHaveLength(50);
    const small = await serve({ maxTopk: 100 });
    const res2 = await post(small.service, { queries: ['x'], topk: 100, return_scores: true });
    const hits = (res2.json() as { result: { document: unknown }[][] }).result[0]!;
    expect(hits).toHaveLength(ROWS.length);
    expect(new Set(hits.map((h) => JSON.stringify(h.document))).size).toBe(ROWS.length);
  });

  it('an answer past STREAM_ABOVE_CHARS is sent in pieces, one a query, never joined (joined past V8\'s longest string, 512 Mi characters, it was a 500 "Invalid string length")', async () => {
    const pad = 'x'.repeat(Math.ceil(STREAM_ABOVE_CHARS / 40));
    const long = ROWS.map((r) => JSON.stringify({ ...(JSON.parse(r) as object), text: pad }));
    const { service } = await serve({ loadCorpus: async () => new MemoryRows(long) });
    const answer = await new Promise<{ headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const req = httpRequest(`${service.url}/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ queries: ['cat', 'dog'], topk: 30, return_scores: true }));
    });
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const { result } = JSON.parse(answer.text) as { result: { document: { text: string }; score: number }[][] };
    expect(result.map((hits) => hits.length)).toEqual([30, 30]);
    expect(result[1]![29]!.document.text).toBe(pad);
    // The pieces are the answer renderResult gives whole.
    const found = { nq: 1, k: 2, labels: BigInt64Array.from([0n, -1n]), distances: Float32Array.from([1, -Infinity]) };
    expect((await renderResultParts(found, new MemoryRows(ROWS), true)).join('')).toBe(await renderResult(found, new MemoryRows(ROWS), true));
    expect(await renderResult({ nq: 0, k: 3, labels: new BigInt64Array(0), distances: new Float32Array(0) }, new MemoryRows(ROWS), true)).toBe('{"result":[]}');
  }, 30_000);

  it.each(['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8'])('accepts JSON sent as %s (curl -d, fetch with a string body)', async (type) => {
    const { service } = await serve();
    const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: '{"queries":["cat"]}', headers: { 'content-type': type } });
    expect(res.statusCode).toBe(200);
  });
});

describe("request types as Search-R1's server reads them (pydantic v2, lax mode)", () => {
  interface LaxCase {
    field: 'topk' | 'return_scores' | 'queries';
    json: string;
    accepted: boolean;
    /** JSON of the value pydantic read. */
    value?: string;
  }
  // Written by real pydantic (test/fixtures/server/make_pydantic_lax.py): each field's value as JSON text, and what pydantic made of it.
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/server/pydantic-lax.json', import.meta.url), 'utf8')) as { pydantic: string; cases: LaxCase[] };

  it(`accepts and reads what pydantic ${fixture.pydantic} does, refuses the rest naming the field (was: "3", "yes", true for topk refused)`, async () => {
    const { service } = await serve();
    const wrong: string[] = [];
    for (const c of fixture.cases) {
      const payload = c.field === 'queries' ? `{"queries": ${c.json}}` : `{"queries": ["cat"], "${c.field}": ${c.json}}`;
      const res = await post(service, payload);
      const body = res.json() as { result?: Record<string, unknown>[][]; error?: { field?: string; message: string } };
      const got = `${res.statusCode} ${res.payload.slice(0, 160)}`;
      if (!c.accepted) {
        if (res.statusCode !== 400 || !body.error?.field?.startsWith(c.field)) wrong.push(`${c.field}: ${c.json} is refused by pydantic, here ${got}`);
        continue;
      }
      const value = JSON.parse(c.value!) as unknown;
      if (c.field === 'topk') {
        const k = value === null ? 0 : Number(value);
        // Search-R1 searches with a negative topk (FAISS fails: 500) or any large one; here both are 400s.
        const outside = k < 0 ? /topk must be >= 0/ : k > 50 ? /topk must be <= 50, the server's --max-topk/ : undefined;
        if (outside) {
          if (res.statusCode !== 400 || !outside.test(body.error?.message ?? '')) wrong.push(`topk: ${c.json} reads as ${k}, expected a 400 (${outside}), here ${got}`);
        } else if (res.statusCode !== 200 || body.result?.[0]?.length !== (k || 3)) wrong.push(`topk: ${c.json} reads as ${k}, expected ${k || 3} hits, here ${got}`);
      } else if (c.field === 'return_scores') {
        if (res.statusCode !== 200 || 'score' in body.result![0]![0]! !== value) wrong.push(`return_scores: ${c.json} reads as ${String(value)}, here ${got}`);
      } else if (res.statusCode !== 200 || body.result?.length !== (value as string[]).length) wrong.push(`queries: ${c.json} is accepted by pydantic, here ${got}`);
    }
    expect(wrong).toEqual([]);
  });

  it('a long string topk is read in linear time: spaces inside a 2 MB value are a quick 400 (a trim regex took minutes)', async () => {
    const { service } = await serve({ bodyLimit: 8 << 20 });
    const t0 = performance.now();
    const res = await post(service, { queries: ['a'], topk: `1${' '.repeat(2_000_000)}1`, return_scores: `${' '.repeat(2_000_000)}x` });
    expect(res.statusCode).toBe(400);
    expect(performance.now() - t0).toBeLessThan(2000);
    const padded = await post(service, { queries: ['a'], topk: `${' '.repeat(1_000_000)}2${' '.repeat(1_000_000)}` });
    expect((padded.json() as { result: unknown[][] }).result[0]).toHaveLength(2);
  });

  it('a refused topk or return_scores names what is read as the type', async () => {
    const { service } = await serve();
    const topk = await post(service, { queries: ['a'], topk: '3.5' });
    expect(topk.statusCode).toBe(400);
    expect((topk.json() as { error: { message: string } }).error.message).toBe('invalid request: topk must be an integer or null (a string of an integer such as "3" is read as one)');
    const scores = await post(service, { queries: ['a'], return_scores: 'maybe' });
    expect(scores.statusCode).toBe(400);
    expect((scores.json() as { error: { message: string } }).error.message).toMatch(/^invalid request: return_scores must be a boolean, true or false \(0\/1 and the strings "true"\/"false", "yes"\/"no"/);
  });
});

describe('compressed request bodies (Content-Encoding)', () => {
  const body = JSON.stringify({ queries: ['cat', 'river'], topk: 2, return_scores: true });
  const send = (s: RunningService, payload: Buffer | string, encoding: string) =>
    s.app.inject({ method: 'POST', url: '/retrieve', payload, headers: { 'content-type': 'application/json', 'content-encoding': encoding } });

  it('gzip, deflate, br, stacked codings and identity are decoded: the answer is the uncompressed request\'s (gzip was a 400 about JSON)', async () => {
    const { service } = await serve();
    const plain = await post(service, body);
    expect(plain.statusCode).toBe(200);
    const sent: [string, Buffer | string][] = [
      ['gzip', gzipSync(body)],
      ['x-gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['br', brotliCompressSync(body)],
      ['GZIP', gzipSync(body)],
      ['deflate, br', brotliCompressSync(deflateSync(body))], // applied in the listed order
      ['identity', body],
    ];
    for (const [encoding, payload] of sent) {
      const res = await send(service, payload, encoding);
      expect([encoding, res.statusCode, res.payload]).toEqual([encoding, 200, plain.payload]);
    }
  });

  it('a body that is not what its Content-Encoding says -> 400 INVALID_ENCODING, also when an inner decoder fails; an unknown coding -> 415', async () => {
    const { service } = await serve();
    for (const [encoding, payload] of [['gzip', body], ['br, gzip', gzipSync(body)], ['gzip, br', gzipSync(body)]] as const) {
      const res = await send(service, payload, encoding);
      expect(res.statusCode).toBe(400);
      expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'INVALID_ENCODING',
        message: expect.stringMatching(/^the request body is not valid (gzip|br) data \(.+\), as its Content-Encoding says: compress it with (gzip|br), or send it uncompressed/),
      });
    }
    const zstd = await send(service, body, 'zstd');
    expect(zstd.statusCode).toBe(415);
    expect((zstd.json() as { error: { code: string; message: string } }).error).toEqual({
      status: 415,
      code: 'UNSUPPORTED_ENCODING',
      message: 'the request body is sent with Content-Encoding zstd, which this server does not decode: send it uncompressed or as gzip, x-gzip, deflate, br',
    });
    expect((await post(service, body)).statusCode).toBe(200);
    // A request without a body has nothing to decode (a GET was 415 for the header alone).
    expect((await service.app.inject({ url: '/health', headers: { 'content-encoding': 'zstd' } })).statusCode).toBe(200);
    // gzip bytes sent without the header: said so, not a JSON error quoting binary bytes
    const bare = await service.app.inject({ method: 'POST', url: '/retrieve', payload: gzipSync(body), headers: { 'content-type': 'application/json' } });
    expect(bare.statusCode).toBe(400);
    expect((bare.json() as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'INVALID_JSON',
      message: expect.stringMatching(/^the body is gzip-compressed but sent without Content-Encoding: add the header Content-Encoding: gzip/),
    });
    const empty = await send(service, '', 'gzip');
    expect((empty.json() as { error: { message: string } }).error.message).toMatch(/^the body is empty/);
  });

  it('a body gzipped twice but sent with one Content-Encoding gzip is said to be compressed twice (it was told to add the header it had sent)', async () => {
    const { service } = await serve();
    const error = async (payload: Buffer, encoding?: string) => {
      const res = encoding ? await send(service, payload, encoding) : await service.app.inject({ method: 'POST', url: '/retrieve', payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      return (res.json() as { error: { code: string; message: string } }).error;
    };
    const twice = gzipSync(gzipSync(body));
    for (const encoding of ['gzip', 'identity, gzip']) {
      expect(await error(twice, encoding)).toEqual({
        status: 400,
        code: 'INVALID_JSON',
        message: `the body is still gzip-compressed after undoing its Content-Encoding ${encoding}: it was compressed twice: compress it once (keeping the header Content-Encoding: ${encoding}), or send it uncompressed without Content-Encoding`,
      });
    }
    // Gzip under another coding too: the header named is the one sent.
    expect((await error(brotliCompressSync(gzipSync(body)), 'br')).message).toMatch(/^the body is still gzip-compressed after undoing its Content-Encoding br: it was compressed twice/);
    // Without the header (or with identity only, which decodes nothing), the fix is still the header.
    for (const encoding of [undefined, 'identity']) {
      expect((await error(gzipSync(body), encoding)).message).toBe("the body is gzip-compressed but sent without Content-Encoding: add the header Content-Encoding: gzip (curl -H 'Content-Encoding: gzip'), or send it uncompressed");
    }
    // Compressed once with the header: answered.
    expect((await send(service, gzipSync(body), 'gzip')).statusCode).toBe(200);
  });

  it('over a keep-alive socket: gzip bodies sent chunked, many at once, each get their own answer', async () => {
    const { service } = await serve({ bodyLimit: 1 << 20 });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const send = (queries: string[]) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${service.url}/retrieve`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        // Written in pieces without Content-Length: chunked transfer, decoded as it arrives.
        const zipped = gzipSync(JSON.stringify({ queries, topk: 2 }));
        for (let at = 0; at < zipped.length; at += 7) req.write(zipped.subarray(at, at + 7));
        req.end();
      });
    try {
      const asked = Array.from({ length: 64 }, (_, i) => [`${['cat', 'river', 'piano'][i % 3]} number ${i}`, `ocean ${i}`]);
      const answers = await Promise.all(asked.map(send));
      for (const [i, a] of answers.entries()) {
        expect(a.status).toBe(200);
        expect(a.body).toBe((await post(service, { queries: asked[i], topk: 2 })).payload);
      }
    } finally {
      agent.destroy();
    }
  });

  it('--body-limit applies to the decoded body: a small gzip that expands past it -> 413', async () => {
    const { service, encoder } = await serve();
    const bomb = gzipSync(JSON.stringify({ queries: [' '.repeat(100_000)] }));
    expect(bomb.length).toBeLessThan(4096);
    const res = await send(service, bomb, 'gzip');
    expect(res.statusCode).toBe(413);
    expect((res.json() as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    expect(encoder.calls).toHaveLength(0);
  });
});

describe('limits: every bad request gets its 4xx/5xx, named', () => {
  const cases: [string, unknown, number, string, RegExp][] = [
    ['missing queries', { topk: 3 }, 400, 'queries', /^invalid request: queries is required$/],
    ['queries not an array', { queries: 'what is a cat' }, 400, 'queries', /queries must be array/],
    ['a query not a string', { queries: ['ok', 3] }, 400, 'queries[1]', /queries\[1\] must be string/],
    ['topk a string that is no integer', { queries: ['a'], topk: 'three' }, 400, 'topk', /topk must be an integer or null/],
    ['topk negative', { queries: ['a'], topk: -1 }, 400, 'topk', /topk/],
    ['topk fractional', { queries: ['a'], topk: 2.5 }, 400, 'topk', /topk/],
    ['topk above the max', { queries: ['a'], topk: 51 }, 400, 'topk', /^invalid request: topk must be <= 50, the server's --max-topk: ask for fewer or start the server with a larger --max-topk$/],
    ['return_scores not a boolean', { queries: ['a'], return_scores: 'maybe' }, 400, 'return_scores', /return_scores must be a boolean/],
    ['body not an object', [1, 2], 400, 'body', /body must be a JSON object: send a JSON object such as \{"queries": \[/],
  ];
  it.each(cases)('%s -> %i naming the field', async (_name, body, status, field, message) => {
    const { service } = await serve();
    const res = await post(service, body);
    expect(res.statusCode).toBe(status);
    const { error } = res.json() as { error: { status: number; field: string; message: string; code: string } };
    expect(error).toMatchObject({ status, field, code: 'INVALID_ARGUMENT' });
    expect(error.message).toMatch(message);
  });

  it.each(['application/json', 'text/plain', 'application/x-www-form-urlencoded'])(
    "invalid JSON sent as %s -> 400 INVALID_JSON with the parser's reason, whatever the content type; empty body -> 400",
    async (type) => {
      const { service } = await serve();
      const bad = await post(service, '{"queries": [', { 'content-type': type });
      expect(bad.statusCode).toBe(400);
      const { error } = bad.json() as { error: { code: string; message: string } };
      expect(error.code).toBe('INVALID_JSON');
      expect(error.message).toMatch(/^the body is not valid JSON \(Unexpected .*\): send a JSON object such as \{"queries": \[/);
      expect(error.message).not.toMatch(/content-type/);
      const empty = await post(service, '', { 'content-type': type });
      expect(empty.statusCode).toBe(400);
      expect((empty.json() as { error: { message: string } }).error.message).toMatch(/^(the body is empty|invalid request: body must be a JSON object): send a JSON object/);
    },
  );

  it("a body led by a byte-order mark: read past it as the parser does, its reason the real fault's (it blamed an invisible U+FEFF at position 0); a BOM alone is an empty body", async () => {
    const { service } = await serve();
    const bom = '\ufeff';
    const ok = await post(service, `${bom}{"queries": ["cat"], "topk": 1}`);
    expect(ok.statusCode).toBe(200);
    const cut = await post(service, `${bom}{"queries": ["cat"], "topk": 1`);
    const plain = await post(service, '{"queries": ["cat"], "topk": 1');
    expect(cut.statusCode).toBe(400);
    // the same reason as without the BOM, naming what is wrong ("Expected ',' or '}' ... at position 30")
    expect((cut.json() as { error: { message: string } }).error.message).toBe((plain.json() as { error: { message: string } }).error.message);
    expect((cut.json() as { error: { message: string } }).error.message).not.toContain(bom);
    const only = await post(service, bom);
    expect(only.statusCode).toBe(400);
    expect((only.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'INVALID_JSON', message: expect.stringMatching(/^the body is empty: send a JSON object such as/) });
  });

  it('a body that is not UTF-8 -> 400 INVALID_JSON naming the byte offset and the fix, nothing searched (it was read with U+FFFD and answered for a mangled query)', async () => {
    const { service, encoder } = await serve();
    const head = Buffer.from('{"queries": ["Z');
    const tail = Buffer.from('rich"], "topk": 2}');
    const cases: [string, Buffer, number, string][] = [
      // Latin-1's ü (fc) in a query string value: a client that encoded its text as Latin-1
      ['Latin-1 in a query', Buffer.concat([head, Buffer.from([0xfc]), tail]), head.length, 'fc 72 69 63'],
      // "/" as an overlong two-byte sequence (c0 af), and as an overlong three-byte one (e0 80 af)
      ['overlong, two bytes', Buffer.concat([head, Buffer.from([0xc0, 0xaf]), tail]), head.length, 'c0 af 72 69'],
      ['overlong, three bytes', Buffer.concat([head, Buffer.from([0xe0, 0x80, 0xaf]), tail]), head.length, 'e0 80 af 72'],
      // a lone UTF-16 surrogate half, U+D800, as CESU-8 / WTF-8 write it
      ['lone surrogate', Buffer.concat([head, Buffer.from([0xed, 0xa0, 0x80]), tail]), head.length, 'ed a0 80 72'],
      // a multi-byte sequence cut short at the end of the body (the first two bytes of U+20AC)
      ['truncated at the end', Buffer.concat([Buffer.from('{"queries": ["a"]}'), Buffer.from([0xe2, 0x82])]), 18, 'e2 82'],
      // after a U+FFFD sent as UTF-8 (ef bf bd, valid) and other multi-byte text: the offset counts bytes
      ['after valid multi-byte text', Buffer.concat([Buffer.from('{"queries": ["\ufffd é 🦀 '), Buffer.from([0xff]), tail]), 26, 'ff 72 69 63'],
    ];
    for (const [name, payload, offset, bytes] of cases) {
      for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain']) {
        const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload, headers: { 'content-type': type } });
        expect(res.statusCode, `${name} as ${type}`).toBe(400);
        expect((res.json() as { error: unknown }).error, name).toEqual({
          status: 400,
          code: 'INVALID_JSON',
          message: `the body is not valid UTF-8 at byte offset ${offset} (bytes from there: ${bytes}): send the body as UTF-8, as JSON requires (text in another encoding, e.g. Latin-1, would be searched as other words)`,
        });
      }
    }
    // Also when it came compressed: judged after decoding
    const zipped = await service.app.inject({ method: 'POST', url: '/retrieve', payload: gzipSync(cases[0]![1]), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect(zipped.statusCode).toBe(400);
    expect((zipped.json() as { error: { message: string } }).error.message).toMatch(/^the body is not valid UTF-8 at byte offset 15 \(bytes from there: fc 72 69 63\)/);
    expect(encoder.calls).toHaveLength(0);
    // Valid multi-byte text is answered, and searched as sent
    const queries = ['Zürich', 'crab 🦀', 'CJK 東京', 'U+FFFD \ufffd as such', '\ufeffa leading BOM in a string'];
    const ok = await service.app.inject({ method: 'POST', url: '/retrieve', payload: Buffer.from(JSON.stringify({ queries, topk: 2 })), headers: { 'content-type': 'application/json' } });
    expect(ok.statusCode).toBe(200);
    expect((ok.json() as { result: unknown[][] }).result).toHaveLength(queries.length);
    expect(encoder.calls.flat()).toEqual(queries);
  });

  it('a POST without a body -> 400 saying what to send; __proto__ keys are ignored like other unknown fields', async () => {
    const { service } = await serve();
    const none = await service.app.inject({ method: 'POST', url: '/retrieve' });
    expect(none.statusCode).toBe(400);
    expect((none.json() as { error: { message: string } }).error.message).toMatch(/body must be a JSON object: send a JSON object such as/);
    const proto = await post(service, '{"queries": ["cat"], "__proto__": {"topk": 1}, "constructor": {"prototype": {}}}');
    expect(proto.statusCode).toBe(200);
    expect((proto.json() as { result: unknown[][] }).result[0]).toHaveLength(3);
  });

  it('body over the size limit -> 413', async () => {
    const { service, encoder } = await serve();
    const res = await post(service, { queries: ['x'.repeat(5000)] });
    expect(res.statusCode).toBe(413);
    // The message names the limit and the flag that raises it (it said only "Request body is too large").
    expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'BODY_TOO_LARGE',
      message: expect.stringMatching(/larger than the server's limit of 4\.0 KiB \(4096 bytes\): send fewer or shorter queries per request, or start the server with a larger --body-limit$/),
    });
    expect(encoder.calls).toHaveLength(0);
  });

  it('a body far over the limit sent by Python urllib (body out before the answer is read) gets the 413, not a reset', async () => {
    const { service, encoder } = await serve();
    // urllib sends the whole body, then reads: closing with unread bytes reset the connection
    // ("Broken pipe") past a few MB; the rest of the body is now drained before the close.
    const py = [
      'import sys, urllib.request, urllib.error',
      'for n in (100_000, 20_000_000):',
      '    body = b\'{"queries": ["\' + b"a" * n + b\'"]}\'',
      '    try:',
      '        urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"}), timeout=30)',
      '        print(n, "no error")',
      '    except urllib.error.HTTPError as e:',
      '        print(n, e.code, e.headers.get("connection"), e.read().decode()[:40])',
      '    except Exception as e:',
      '        print(n, "failed", repr(e))',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile('python3', ['-c', py, `${service.url}/retrieve`], { timeout: 60_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(out.trim().split('\n')).toEqual([
      '100000 413 close {"error":{"status":413,"code":"BODY_TOO_',
      '20000000 413 close {"error":{"status":413,"code":"BODY_TOO_',
    ]);
    expect(encoder.calls).toHaveLength(0);
  }, 60_000);

  it('the unread body drained after a 413 is bounded: a client that never stops sending is cut off after LINGER_MAX_BYTES', async () => {
    const { service } = await serve();
    // Half-open: the server's FIN after its answer does not end the sending here.
    const socket = connect({ port: Number(new URL(service.url).port), host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {}); // the reset, once the server stops draining
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * LINGER_MAX_BYTES}\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let sent = 0;
    while (!socket.destroyed && sent < 4 * LINGER_MAX_BYTES) {
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
      sent += chunk.length;
    }
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 [\s\S]*connection: close[\s\S]*BODY_TOO_LARGE/i);
    expect(sent).toBeGreaterThan(LINGER_MAX_BYTES);
    expect(sent).toBeLessThan(2 * LINGER_MAX_BYTES);
  }, 60_000);

  it('a socket draining an unread body after its 413 does not hold a shutdown for the drain limit', async () => {
    const { service } = await serve();
    const socket = connect({ port: Number(new URL(service.url).port), host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.write(`POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"queries": ["`);
    expect(await answered).toMatch(/^HTTP\/1\.1 413 /);
    const t0 = performance.now();
    await service.close(); // the client sends nothing more: the drain would wait LINGER_MAX_MS
    expect(performance.now() - t0).toBeLessThan(2000);
    socket.destroy();
  });

  it('more queries than --max-batch are split over batches and answered in order, as asked one by one', async () => {
    const { service, encoder } = await serve();
    const queries = Array.from({ length: 20 }, (_, i) => `${['cat', 'river', 'piano', 'ocean'][i % 4]} number ${i * 3}`);
    const res = await post(service, { queries, topk: 2, return_scores: true });
    expect(res.statusCode).toBe(200);
    const together = (res.json() as { result: unknown[] }).result;
    expect(together).toHaveLength(20);
    expect(encoder.calls.map((c) => c.length)).toEqual([8, 8, 4]);
    for (let i = 0; i < queries.length; i++) {
      const alone = await post(service, { queries: [queries[i]], topk: 2, return_scores: true });
      expect(together[i]).toEqual((alone.json() as { result: unknown[] }).result[0]);
    }
  });

  it('an answer does not depend on the requests batched beside it: topk 1 next to topk 50 gets what it gets alone, from an index that searches deeper for a larger k (GPU int8/f16 re-rank depth)', async () => {
    const contents = ROWS.map((r) => JSON.parse(r).contents as string);
    const reranked = new CoarseShortlistIndex(D, embed(contents, D), 'gpu');
    // A query whose best row the shortlist of topk 1 misses but the one of topk 50 holds.
    const query = Array.from({ length: 400 }, (_, i) => `${['cat', 'river', 'piano', 'ocean', 'castle'][i % 5]} ${['violin', 'bread', 'desert', 'rocket'][i % 4]} ${i}`).find(
      (c) => reranked.searchSync(embed([c], D), 1).labels[0] !== reranked.searchSync(embed([c], D), 50).labels[0],
    );
    expect(query).toBeDefined();
    const { service, encoder } = await serve({ loadIndex: async () => reranked });
    const alone = (await post(service, { queries: [query], topk: 1, return_scores: true })).json();
    encoder.delayMs = 200;
    const holding = post(service, { queries: ['cat'] });
    await vi.waitFor(() => expect(encoder.calls.at(-1)).toEqual(['cat']), { interval: 1 });
    const [shared, deep] = await Promise.all([post(service, { queries: [query], topk: 1, return_scores: true }), post(service, { queries: ['piano'], topk: 50 })]);
    expect((await holding).statusCode).toBe(200);
    expect(deep.statusCode).toBe(200);
    expect(shared.json()).toEqual(alone);
  });

  it('more queries than the queue holds (--max-queue) -> 413 naming queries', async () => {
    const { service } = await serve({ maxQueue: 16 });
    const res = await post(service, { queries: Array.from({ length: 17 }, (_, i) => `q${i}`) });
    expect(res.statusCode).toBe(413);
    expect((res.json() as { error: unknown }).error).toMatchObject({ code: 'BATCH_TOO_LARGE', field: 'queries', message: expect.stringMatching(/17 queries, at most 16 .*--max-queue/) });
  });

  it('a query the tokenizer would have to take whole past --max-text-chars -> 413 TEXT_TOO_LONG naming it; the queries batched beside it are answered', async () => {
    // A byte-level BPE tokenizer: a 16 MB word held the server for minutes; refused, it failed every request of its batch with a 400.
    const tok = WordPieceTokenizer.fromTokenizerJson({
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', use_regex: true },
      decoder: null,
      post_processor: null,
      model: { type: 'BPE', vocab: Object.fromEntries(['<s>', '</s>', '<pad>', 'a', 'b', 'Ġ'].map((t, i) => [t, i])), merges: [] },
    });
    class LimitedEncoder extends WordHashEncoder {
      check(text: string): void {
        tok.encode(text, 16, 1000);
      }
      override async encode(texts: readonly string[]): Promise<Float32Array> {
        for (const t of texts) this.check(t);
        return super.encode(texts);
      }
    }
    const encoder = new LimitedEncoder(D);
    const { service } = await serve({ loadEncoder: async () => encoder, maxWaitMs: 20 });
    const [bad, good] = await Promise.all([post(service, { queries: ['piano', 'ab'.repeat(1000)] }), post(service, { queries: ['castle', 'a b '.repeat(1000)] })]);
    expect(bad.statusCode).toBe(413);
    expect((bad.json() as { error: unknown }).error).toMatchObject({
      status: 413,
      code: 'TEXT_TOO_LONG',
      field: 'queries[1]',
      message: expect.stringMatching(/a text of 2000 characters has no place within its first 1000 .*--max-text-chars/),
    });
    expect(good.statusCode).toBe(200);
    expect(encoder.calls.flat()).not.toContain('piano');
  });

  it('full queue -> 503 with Retry-After; served again once it drains', async () => {
    const { service, encoder } = await serve({ maxQueue: 8 });
    // The first batch is held in the encoder until the test lets it go (150 ms and 20 ms sleeps let a
    // loaded machine reorder the steps: the queue drained, or the first request queued behind the rest).
    let release!: () => void;
    encoder.gate = new Promise<void>((r) => (release = r));
    const first = post(service, { queries: ['a'] }); // runs, held
    await vi.waitFor(() => expect(encoder.calls).toHaveLength(1), WAIT);
    const queued = post(service, { queries: Array.from({ length: 8 }, () => 'b') }); // fills the queue
    await vi.waitFor(() => expect(service.state.batcher?.depth).toBe(8), WAIT);
    const refused = await post(service, { queries: ['c'] });
    expect(refused.statusCode).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((refused.json() as { error: { code: string } }).error.code).toBe('QUEUE_FULL');
    encoder.gate = undefined;
    release();
    expect((await first).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
    expect((await post(service, { queries: ['c'] })).statusCode).toBe(200);
    const metrics = (await service.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/tessera_errors_total\{reason="queue_full"\} 1/);
  });

  it('a request past its deadline -> 504; the server keeps serving', async () => {
    const { service, encoder } = await serve({ timeoutMs: 60 });
    encoder.delayMs = 200;
    const res = await post(service, { queries: ['slow'] });
    expect(res.statusCode).toBe(504);
    expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/within 60 ms/) });
    encoder.delayMs = 0;
    await new Promise((r) => setTimeout(r, 200));
    expect((await post(service, { queries: ['fast'] })).statusCode).toBe(200);
  });

  it('a client that hangs up takes its queued queries with it: they are never searched; the server keeps serving', async () => {
    const { service, encoder } = await serve();
    encoder.delayMs = 1000;
    // Over a real socket: the first request holds the batch, the second waits behind it and hangs up.
    const running = fetch(`${service.url}/retrieve`, { method: 'POST', body: JSON.stringify({ queries: ['cat'] }) });
    await vi.waitFor(() => expect(encoder.calls).toHaveLength(1), { interval: 1 });
    const body = JSON.stringify({ queries: ['abandoned river', 'abandoned piano'], topk: 3, return_scores: true });
    const socket = connect(Number(new URL(service.url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await vi.waitFor(() => expect(service.state.batcher!.depth).toBe(2));
    socket.destroy();
    await vi.waitFor(() => expect(service.state.batcher!.depth).toBe(0)); // out of the queue at once, not after the batch
    expect((await running).status).toBe(200);
    encoder.delayMs = 0;
    expect((await post(service, { queries: ['fast'] })).statusCode).toBe(200);
    // Searched for nobody before: the abandoned queries went through the encoder and the index.
    expect(encoder.calls.flat()).toEqual(['cat', 'fast']);
    const metrics = (await service.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/tessera_errors_total\{reason="client_closed"\} 1/);
  });

  it('between the batches of a large request the server reads its sockets: /health is answered, not held until the last batch', async () => {
    const { service, encoder } = await serve();
    encoder.blockMs = 40; // each encoder run holds the thread, as ONNX on WASM does
    const queries = Array.from({ length: 64 }, (_, i) => `river ${i}`); // 8 batches of 8
    const big = fetch(`${service.url}/retrieve`, { method: 'POST', body: JSON.stringify({ queries }) });
    await vi.waitFor(() => expect(encoder.calls.length).toBeGreaterThan(0), { interval: 1 });
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(200);
    // Batches chained in one promise chain read no socket until the queue was empty (all 8 runs).
    expect(encoder.calls.length).toBeLessThan(6);
    expect((await big).status).toBe(200);
  });

  it('unknown route -> 404 in the same envelope', async () => {
    const { service } = await serve();
    const res = await service.app.inject({ url: '/search' });
    expect(res.statusCode).toBe(404);
    expect((res.json() as { error: { message: string } }).error.message).toMatch(/POST \/retrieve/);
  });

  it('a known path with another method -> 405 with Allow, as FastAPI answers (was 404 "no route")', async () => {
    const { service } = await serve();
    for (const [method, url, allow] of [['GET', '/retrieve', 'POST'], ['PUT', '/retrieve/?x=1', 'POST'], ['POST', '/health', 'GET, HEAD'], ['DELETE', '/metrics', 'GET, HEAD']] as const) {
      const res = await service.app.inject({ method, url });
      expect([method, url, res.statusCode, res.headers.allow]).toEqual([method, url, 405, allow]);
      expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining(`does not take ${method}, only`) });
    }
    // A long run of slashes inside the path is looked up in linear time.
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) expect((await service.app.inject({ url: `/${'/'.repeat(15_000)}x` })).statusCode).toBe(404);
    expect(performance.now() - t0).toBeLessThan(1000);
    // Two trailing slashes are no route for any method (was 405 "does not take POST, only POST").
    for (const method of ['POST', 'GET'] as const) {
      const res = await service.app.inject({ method, url: '/retrieve//', payload: method === 'POST' ? '{"queries": ["a"]}' : undefined, headers: { 'content-type': 'application/json' } });
      expect([method, res.statusCode]).toEqual([method, 404]);
    }
  });
});

describe('readiness, faults and shutdown', () => {
  it('while loading: /health answers 503 + Retry-After, a /retrieve waits for the load and is answered', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { service } = await serve({}, { gate });
    const health = await service.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.headers['retry-after']).toBe('5');
    expect(health.json()).toMatchObject({ status: 'loading' });
    // Sent before the load ends, as a trainer started beside the server (or one waiting only for the port) does.
    let answered = false;
    const early = post(service, { queries: ['a cat'] }).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    // An empty request, which the trainer posts when no rollout searched, needs no index: answered at once (was 503).
    const none = await post(service, { queries: [], topk: 3, return_scores: true });
    expect([none.statusCode, none.json()]).toEqual([200, { result: [] }]);
    open();
    await service.ready;
    const res = await early;
    expect(res.statusCode).toBe(200);
    expect((res.json() as { result: unknown[][] }).result[0]).toHaveLength(3);
    const ok = await service.app.inject({ url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ok', loaded: { corpus: expect.any(Number), model: expect.any(Number), index: expect.any(Number) } });
  });

  it('while loading: a request waits at most the request timeout, and waiting queries are bounded by --max-queue', async () => {
    const { service } = await serve({ timeoutMs: 600, maxQueue: 4 }, { gate: new Promise<void>(() => {}) });
    const t0 = performance.now();
    const waiting = post(service, { queries: ['a', 'b', 'c'] });
    // They count in queue_depth, /health's and the gauge's (which read 0 while queries waited for the load).
    await vi.waitFor(async () => expect((await service.app.inject({ url: '/health' })).json()).toMatchObject({ status: 'loading', queue_depth: 3 }), WAIT);
    expect((await service.app.inject({ url: '/metrics' })).body).toMatch(/^tessera_queue_depth 3$/m);
    // 3 of 4 places taken: 2 more queries do not wait, they are told at once.
    const refused = await post(service, { queries: ['d', 'e'] });
    expect(refused.statusCode).toBe(503);
    expect((refused.json() as { error: { message: string } }).error.message).toMatch(/still loading and 3 queries already wait for them: retry shortly/);
    const late = await waiting;
    expect(late.statusCode).toBe(503);
    expect(late.headers['retry-after']).toBe('5');
    expect((late.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/still loading after 600 ms of waiting/) });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(590);
    expect((await service.app.inject({ url: '/health' })).json()).toMatchObject({ queue_depth: 0 });
  });

  it('an injected request (no socket: complete undefined) arms no stalled-body timer, whose 408 wrote to a socket it does not have (an uncaught TypeError when the timer won its race with the answer)', async () => {
    const { service } = await serve({ timeoutMs: 12_345 });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const res = await post(service, { queries: ['cat'] });
      expect(res.statusCode).toBe(200);
      // The stalled-body timer (app.ts onRequest) defers its check by setImmediate; the batcher's own 12_345 ms wait is not it.
      expect(spy.mock.calls.filter((c) => c[1] === 12_345 && String(c[0]).includes('setImmediate'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('while loading: a client that hangs up gives its places among the waiting queries back at once (they counted against --max-queue until the load ended)', async () => {
    let open!: () => void;
    const { service, encoder } = await serve({ timeoutMs: 60_000, maxQueue: 4 }, { gate: new Promise<void>((r) => (open = r)) });
    const body = JSON.stringify({ queries: ['gone a', 'gone b', 'gone c', 'gone d'] });
    const socket = connect(Number(new URL(service.url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    // Waiting for the load (not after a 200 ms sleep, which a loaded machine can outlast).
    await vi.waitFor(async () => expect((await service.app.inject({ url: '/health' })).json()).toMatchObject({ queue_depth: 4 }), WAIT);
    const full = await post(service, { queries: ['x'] });
    expect((full.json() as { error: { message: string } }).error.message).toMatch(/4 queries already wait for them/);
    socket.destroy();
    const metrics = async () => (await service.app.inject({ url: '/metrics' })).body;
    await vi.waitFor(async () => expect(await metrics()).toMatch(/tessera_errors_total\{reason="client_closed"\} 1/));
    // All 4 places free again: a request of 4 waits for the load and is answered.
    let answered = false;
    const waiting = post(service, { queries: ['cat', 'river', 'piano', 'ocean'] }).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    open();
    const res = await waiting;
    expect(res.statusCode).toBe(200);
    expect((res.json() as { result: unknown[] }).result).toHaveLength(4);
    expect(encoder.calls.flat()).not.toContain('gone a');
  });

  it('a load that fails, or a close during the load, answers the waiting requests at once', async () => {
    let fail!: (e: Error) => void;
    const gate = new Promise<void>((_, rej) => (fail = rej));
    const { service } = await serve({ timeoutMs: 60_000 }, { gate });
    service.ready.catch(() => {});
    const waiting = post(service, { queries: ['a'] });
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    fail(new Error('disk gone (test)'));
    const res = await waiting;
    expect(res.statusCode).toBe(503);
    const message = (res.json() as { error: { message: string } }).error.message;
    expect(message).toMatch(/loading failed: disk gone \(test\); the server is stopping: fix that and start it again/);
    // The server closes after a failed load: it never turns ready (was: "retry shortly (GET /health says when ready)").
    expect(message).not.toMatch(/retry shortly|says when ready/);
    expect(performance.now() - t0).toBeLessThan(5000);

    const second = await serve({ timeoutMs: 60_000 }, { gate: new Promise<void>(() => {}) });
    const waiting2 = post(second.service, { queries: ['a'] });
    await new Promise((r) => setTimeout(r, 30));
    const t1 = performance.now();
    await second.service.close();
    const stopped = await waiting2;
    expect(stopped.statusCode).toBe(503);
    expect((stopped.json() as { error: { message: string } }).error.message).toBe('the server is shutting down: retry on another replica or after restart');
    expect(performance.now() - t1).toBeLessThan(5000);
  });

  it('refuses to start when index and corpus sizes differ, or the model dimension differs', async () => {
    const wrongRows = startService({
      host: '127.0.0.1', port: 0, defaultTopk: 3, maxTopk: 10, maxBatch: 4, maxWaitMs: 0, timeoutMs: 1000, bodyLimit: 1024,
      loadCorpus: async () => new MemoryRows(ROWS.slice(0, 10)),
      loadEncoder: async () => new WordHashEncoder(D),
      loadIndex: async () => new BruteForceIndex(D, embed(ROWS, D)),
    });
    await expect((await wrongRows).ready).rejects.toThrow(/index holds 60 vectors but the corpus has 10 rows/);
    const wrongDim = startService({
      host: '127.0.0.1', port: 0, defaultTopk: 3, maxTopk: 10, maxBatch: 4, maxWaitMs: 0, timeoutMs: 1000, bodyLimit: 1024,
      loadCorpus: async () => new MemoryRows(ROWS),
      loadEncoder: async () => new WordHashEncoder(8),
      loadIndex: async () => new BruteForceIndex(D, embed(ROWS, D)),
    });
    await expect((await wrongDim).ready).rejects.toThrow(/makes 8-dimensional vectors but the index holds 16-dimensional/);
  });

  it('refuses a --max-topk above what the index returns per query (one such request would fail its whole batch)', async () => {
    const limited = (maxTopk: number) =>
      startService({
        host: '127.0.0.1', port: 0, defaultTopk: 3, maxTopk, maxBatch: 4, maxWaitMs: 0, timeoutMs: 1000, bodyLimit: 1024,
        loadCorpus: async () => new MemoryRows(ROWS),
        loadEncoder: async () => new WordHashEncoder(D),
        loadIndex: async () => Object.assign(new BruteForceIndex(D, embed(ROWS, D)), { kLimit: 32 }),
      });
    const tooMany = await limited(50);
    await expect(tooMany.ready).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && /--max-topk 50 is more than this gpu index returns per query \(32\): pass --max-topk 32 or less/.test((e as Error).message),
    );
    // Above 2^20 every index refuses the search (a 400 for every such request, and before the
    // batcher searched each topk apart, for the requests batched beside it too): refused before listening.
    await expect(limited(2 ** 20 + 1)).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && /--max-topk 1048577 is more than an index search returns per query \(1048576\): pass --max-topk 1048576 or less/.test((e as Error).message),
    );
    const fits = await limited(32);
    running.push(fits);
    await fits.ready;
    expect((await post(fits, { queries: ['cat'], topk: 32 })).statusCode).toBe(200);
  });

  it('a port in use or a host that is not this machine: one line naming the fix, not a stack', async () => {
    const { service } = await serve();
    const port = Number(new URL(service.url).port);
    await expect(serve({ port })).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use .*pass --port N`).test((e as Error).message),
    );
    // Started through npm (npm start runs the demo), a flag before npm's `--` never reaches the server: both are said.
    vi.stubEnv('npm_lifecycle_event', 'start');
    try {
      await expect(serve({ port })).rejects.toThrow(/the port is in use .*pass --port N \(through npm: npm start -- --port N\) \(0: any free port\)/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(asTyped('--port N', { npm_lifecycle_event: 'serve' })).toBe('--port N (through npm: npm run serve -- --port N)');
    expect(asTyped('--port N', { npm_lifecycle_event: 'npx' })).toBe('--port N');
    expect(asTyped('--port N', {})).toBe('--port N');
    await expect(serve({ host: '192.0.2.1' })).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && /192\.0\.2\.1 is not an address of this machine: pass --host 127\.0\.0\.1/.test((e as Error).message),
    );
  });

  it('GPU device loss: that batch gets 503 + Retry-After, the index is reloaded, service recovers', async () => {
    const { service, indexes } = await serve();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(200);
    indexes[0]!.loseDevice();
    const lost = await post(service, { queries: ['dog'] });
    expect(lost.statusCode).toBe(503);
    expect(lost.headers['retry-after']).toBeDefined();
    expect((lost.json() as { error: { message: string } }).error.message).toMatch(/device was lost/);
    await service.retriever()!.settled();
    expect(indexes[0]!.disposed).toBe(true);
    expect(indexes[1]!.backend).toBe('gpu');
    const again = await post(service, { queries: ['dog'] });
    expect(again.statusCode).toBe(200);
    expect((await service.app.inject({ url: '/metrics' })).body).toMatch(/tessera_device_lost_total 1/);
  });

  it('GPU device loss where the GPU reloaded on returns fewer results a query than --max-topk: the reload goes on to WASM (it served on, failing every topk above the limit with a 400 naming the library\'s backend \'wasm\')', async () => {
    const base = embed(ROWS.map((r) => JSON.parse(r).contents as string), D);
    const loaded: Index[] = [];
    const { service } = await serve({
      maxTopk: 50,
      loadIndex: async (backend?: Backend) => {
        const index = new BruteForceIndex(D, base, backend ?? 'gpu');
        // After the loss, another adapter whose merge returns at most 32 results a query.
        loaded.push(backend === 'gpu' ? Object.assign(index, { kLimit: 32 }) : index);
        return loaded.at(-1)!;
      },
    });
    (loaded[0] as BruteForceIndex).loseDevice();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(503);
    await service.retriever()!.settled();
    expect(loaded.map((i) => i.backend)).toEqual(['gpu', 'gpu', 'wasm']);
    expect((loaded[1] as BruteForceIndex).disposed).toBe(true);
    expect(service.retriever()!.index).toBe(loaded[2]);
    const deep = await post(service, { queries: ['dog'], topk: 50 });
    expect(deep.statusCode).toBe(200);
    expect((deep.json() as { result: unknown[][] }).result[0]).toHaveLength(50);
  });

  it('GPU device loss with no GPU to come back to: falls back to the WASM index', async () => {
    const { service, indexes } = await serve({}, { failReload: ['gpu'] });
    indexes[0]!.loseDevice();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(503);
    await service.retriever()!.settled();
    expect(indexes.at(-1)!.backend).toBe('wasm');
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(200);
  });

  it('while no index can be loaded it keeps answering 503 (health too) and recovers when one can', async () => {
    const fail: Backend[] = ['gpu', 'wasm'];
    const { service, indexes } = await serve({}, { failReload: fail });
    indexes[0]!.loseDevice();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(503);
    await new Promise((r) => setTimeout(r, 50));
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(503);
    const health = await service.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'recovering' });
    fail.length = 0; // the device is back
    await service.retriever()!.settled();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(200);
    expect((await service.app.inject({ url: '/health' })).statusCode).toBe(200);
  });

  it('close(): in-flight requests finish, then the index is freed', async () => {
    const { service, encoder, indexes } = await serve();
    // Held in the encoder until the close has begun (an 80 ms encoder run and a 20 ms sleep: on a loaded
    // machine the request could be answered before the close, without 'connection: close').
    let release!: () => void;
    encoder.gate = new Promise<void>((r) => (release = r));
    const inFlight = post(service, { queries: ['cat'] });
    await vi.waitFor(() => expect(encoder.calls).toHaveLength(1), WAIT);
    const closing = service.close();
    release();
    const res = await inFlight;
    expect(res.statusCode).toBe(200);
    // The answer closes its keep-alive connection, so the close does not wait out the keep-alive timeout.
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(indexes[0]!.disposed).toBe(true);
  });

  it('/metrics: Prometheus text with requests, errors, batch sizes, queue depth, encode/search latency', async () => {
    const { service } = await serve();
    await Promise.all([post(service, { queries: ['a', 'b'] }), post(service, { queries: ['c'] }), post(service, { topk: 1 })]);
    const res = await service.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const text = res.body;
    for (const family of ['tessera_requests_total', 'tessera_errors_total', 'tessera_batch_queries', 'tessera_queue_depth', 'tessera_encode_seconds', 'tessera_search_seconds', 'tessera_request_seconds']) {
      expect(text).toContain(`# TYPE ${family} `);
    }
    expect(text).toMatch(/tessera_requests_total\{route="\/retrieve",status="200"\} 2/);
    expect(text).toMatch(/tessera_requests_total\{route="\/retrieve",status="400"\} 1/);
    expect(text).toMatch(/tessera_queries_total 3/);
    expect(text).toMatch(/tessera_batch_queries_sum 3/);
    expect(text).toMatch(/tessera_encode_seconds_count [12]\n/);
    expect(text).toMatch(/tessera_queue_depth 0/);
    expect(text).toMatch(/tessera_ready 1/);
  });
});

describe('GPU warm-up before serving', () => {
  const base = () => embed(ROWS.map((r) => JSON.parse(r).contents as string), D);

  it('an index with warmUp (a GPU index) compiles for the default topk before the first request, and again after a reload', async () => {
    const warm: WarmableIndex[] = [];
    const started: string[] = [];
    const steps: string[] = [];
    const { service } = await serve({
      defaultTopk: 4,
      loadIndex: async (backend?: Backend) => {
        const index = new WarmableIndex(D, base(), backend ?? 'gpu');
        warm.push(index);
        return index;
      },
      onStepStart: (step, line) => started.push(`${step}: ${line}`),
      onStep: (step) => steps.push(step),
    });
    expect(warm[0]!.warmed).toEqual([{ k: 4, searchesBefore: 0 }]);
    expect(started).toEqual(['warm-up: compiling GPU pipelines for topk 4...']);
    expect(steps).toEqual(['model', 'corpus', 'index', 'warm-up']);
    expect((await service.app.inject({ url: '/health' })).json()).toMatchObject({ loaded: { 'warm-up': expect.any(Number) } });
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(200);
    warm[0]!.loseDevice();
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(503);
    await service.retriever()!.settled();
    expect(warm[1]!.warmed).toEqual([{ k: 4, searchesBefore: 0 }]);
    expect((await post(service, { queries: ['dog'] })).statusCode).toBe(200);
  });

  it('an index without warmUp (WASM) is served as loaded, with no warm-up step', async () => {
    const started: string[] = [];
    const { service } = await serve({ loadIndex: async () => new BruteForceIndex(D, base(), 'wasm'), onStepStart: (step) => started.push(step) });
    expect(started).toEqual([]);
    expect(Object.keys((await service.app.inject({ url: '/health' })).json().loaded as object)).toEqual(['model', 'corpus', 'index']);
  });

  it('a failed warm-up is logged and the service still turns ready and answers', async () => {
    const { service } = await serve({
      loadIndex: async () => {
        const index = new WarmableIndex(D, base());
        index.failWarmUp = true;
        return index;
      },
    });
    expect(service.state.phase).toBe('ready');
    expect(service.state.loaded['warm-up']).toBeUndefined();
    expect((await post(service, { queries: ['cat'] })).statusCode).toBe(200);
  });
});
