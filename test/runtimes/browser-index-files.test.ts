/**
 * Index files in Chromium without paths: readIndex from a URL served with Range support (fetching
 * ranges, not the file), from a File, and saving with memorySink into a Blob, through the
 * universal entry bundled for the browser from src/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wgslTextPlugin } from '../../scripts/wgsl-text.js';
import { indexFactory, memorySink } from '../../src/index.js';
import { type Chromium, launchChromium } from './helpers/chromium.js';
import { repoRoot } from './helpers/package-build.js';

const d = 8;
const vectors = new Float32Array(3000 * d).map((_, i) => Math.sin(i * 0.41));
let file: Uint8Array;
let want: string;
let bundle: string;
let server: Server;
let base: string;
const ranges: string[] = [];
let browser: Chromium;

beforeAll(async () => {
  const index = await indexFactory(d, 'IVF16,Flat', 'ip', { backend: 'wasm', threads: 1, seed: 2 });
  await index.train(vectors);
  await index.add(vectors);
  want = Array.from((await index.search(vectors.subarray(0, 2 * d), 3, { nprobe: 16 })).labels).join(' ');
  const sink = memorySink();
  await index.save(sink);
  await index.dispose();
  file = sink.bytes();
  const out = await build({
    stdin: { contents: "export { readIndex, memorySink } from './src/index.ts';", resolveDir: repoRoot, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['onnxruntime-web', '@huggingface/tokenizers'],
    plugins: [wgslTextPlugin],
    logLevel: 'error',
  });
  // The encoder's packages are not needed here: stub them so the page loads without them.
  bundle = out.outputFiles[0]!.text.replace(/from\s*["'](onnxruntime-web|@huggingface\/tokenizers)["']/g, 'from "/stub.js"');
  server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>t</title>');
    else if (req.url === '/tessera.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (req.url === '/stub.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end('export default {}; export const InferenceSession = {}, Tensor = {}, env = {}, Tokenizer = {};');
    else if (req.url === '/x.index' && req.headers.range) {
      ranges.push(req.headers.range);
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range)!;
      const [start, end] = [Number(m[1]), Math.min(Number(m[2]), file.length - 1)];
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${file.length}` }).end(file.subarray(start, end + 1));
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium({ webgpu: false });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

it('reads an index from a URL (ranges; a string relative to the page too) and a File, saves it into a Blob, and a 404 names the URL', { timeout: 120_000 }, async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  // A string, not a function: vitest would rewrite a function's import() into its own loader.
  const got = (await page.evaluate(`(async () => {
    const { readIndex, memorySink } = await import('/tessera.js');
    const q = new Float32Array(${JSON.stringify(Array.from(vectors.subarray(0, 2 * d)))});
    const lines = [];
    const fromUrl = await readIndex(new URL('/x.index', location.href), { backend: 'wasm', threads: 1 });
    lines.push(Array.from((await fromUrl.search(q, 3, { nprobe: 16 })).labels).join(' '));
    const sink = memorySink();
    await fromUrl.save(sink);
    await fromUrl.dispose();
    const blob = new Blob([sink.bytes()]);
    lines.push(String(blob.size));
    const fromFile = await readIndex(new File([blob], 'x.index'), { backend: 'wasm', threads: 1 });
    lines.push(Array.from((await fromFile.search(q, 3, { nprobe: 16 })).labels).join(' '));
    await fromFile.dispose();
    lines.push(await readIndex(new URL('/none.index', location.href)).then(() => 'resolved', (e) => e.code + ' ' + e.message));
    // A page has no files: a string without a scheme is a URL relative to the page, as fetch() takes it.
    for (const relative of ['/x.index', 'x.index']) {
      const index = await readIndex(relative, { backend: 'wasm', threads: 1 });
      lines.push(Array.from((await index.search(q, 3, { nprobe: 16 })).labels).join(' '));
      await index.dispose();
    }
    lines.push(await readIndex('/none.index').then(() => 'resolved', (e) => e.code + ' ' + e.message));
    return lines;
  })()`)) as string[];
  expect(got[0]).toBe(want);
  expect(got[1]).toBe(String(file.length));
  expect(got[2]).toBe(want);
  expect(got[3]).toBe(`NOT_FOUND GET ${base}/none.index (bytes=0-0) answered 404 Not Found`);
  // These were UNSUPPORTED "file paths need tessera's Node entry".
  expect(got.slice(4, 6)).toEqual([want, want]);
  expect(got[6]).toBe(`NOT_FOUND GET ${base}/none.index (bytes=0-0) answered 404 Not Found`);
  expect(ranges.length).toBeGreaterThanOrEqual(2);
  await page.close();
});

it("a URL of another origin that does not allow the page (no CORS headers) says to check CORS, not only that the server answers", { timeout: 60_000 }, async () => {
  const page = await browser.context.newPage();
  try {
    await page.goto(`${base}/`);
    // The same server under another name is another origin; it sends no Access-Control-Allow-Origin.
    const other = base.replace('127.0.0.1', 'localhost');
    const got = (await page.evaluate(`(async () => {
      const { readIndex } = await import('/tessera.js');
      return readIndex(${JSON.stringify(`${other}/x.index`)}, { backend: 'wasm', threads: 1 }).then(() => 'resolved', (e) => e.code + ' ' + e.message);
    })()`)) as string;
    // Chromium gives the page only "Failed to fetch"; the reason (CORS) is in its console alone.
    expect(got).toMatch(new RegExp(`^NOT_FOUND GET ${other}/x\\.index \\(bytes=0-0\\) failed \\(.*\\): .*allows this page's origin ${base} \\(CORS`));
  } finally {
    await page.close();
  }
});
