/**
 * The browser example (examples/browser) in real headless Chromium (Debian's, driven by
 * playwright-core; no browser download): built with vite against the package as it ships, served by
 * a plain static server on 127.0.0.1, it loads the demo index, corpus and model, encodes a typed
 * query and shows the expected passage first, on WebGPU (Chromium's SwiftShader adapter), on the
 * forced WASM path (?backend=wasm), and where WebGPU is missing ('auto' falls back and says so once):
 * navigator.gpu deleted, requestDevice() failing, and a Chromium without --enable-unsafe-webgpu (no adapter).
 * Screenshots go to out/browser/ (ignored; CI keeps them as artifacts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, launchChromium } from './helpers/chromium.js';
import { runChild } from './helpers/child.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';
import { type StaticServer, serveStatic } from './helpers/static-server.js';

/** A query whose best passage in the demo corpus (WordNet glosses) is unambiguous: "Home", "where you live ...". */
const QUERY = 'where you live';
const EXPECTED_TITLE = 'Home';
const SHOTS = join(repoRoot, 'out', 'browser');

let pkg: BuiltPackage;
let site: string;
let server: StaticServer;
let gpuBrowser: Chromium | undefined;

beforeAll(async () => {
  pkg = await buildPackage({ omit: ['webgpu'] });
  site = mkdtempSync(join(tmpdir(), 'tessera-site-'));
  const out = await runChild(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', 'examples/browser'], repoRoot, {
    TESSERA_PACKAGE_DIR: pkg.dir,
    TESSERA_EXAMPLE_OUT: site,
  });
  if (out.code !== 0) throw new Error(`vite build of examples/browser failed:\n${out.stderr}\n${out.stdout}`);
  server = await serveStatic(site);
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await gpuBrowser?.close();
  await server?.close();
  if (site) rmSync(site, { recursive: true, force: true });
  pkg?.cleanup();
});

interface PageRun {
  backend: string;
  adapter: string;
  notice: string;
  /** The GPU plan line's text (after "GPU plan: "), '–' where none came. */
  gpuPlan: string;
  titles: string[];
  scores: number[];
  searchMs: string;
  /** The page's own timings (load, encode, search), for the log. */
  facts: string;
  logs: string[];
  offsite: string[];
}

/** Opens the page, waits until it is ready, searches QUERY, and reads what the page shows. */
async function searchOnPage(browser: Chromium, query: string, shot: string, initScript?: () => void): Promise<PageRun> {
  const page: Page = await browser.context.newPage();
  if (initScript) await page.addInitScript(initScript);
  const logs: string[] = [];
  const offsite: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  // Nothing beyond the static server: any other request is recorded and refused.
  await page.route(/.*/, (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url)) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  try {
    const t0 = performance.now();
    await page.goto(new URL(query, server.url).href);
    const state = await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 100_000 });
    await state.dispose();
    const status = await page.textContent('#status');
    if ((await page.getAttribute('body', 'data-state')) === 'error') throw new Error(`page failed: ${status}\n${logs.join('\n')}`);
    await page.fill('#query', QUERY);
    await page.press('#query', 'Enter');
    await page.waitForSelector('#results li', { timeout: 30_000 });
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
    console.log(`${shot}: ${((performance.now() - t0) / 1000).toFixed(1)} s from navigation to results`);
    return {
      backend: (await page.textContent('#backend')) ?? '',
      adapter: (await page.textContent('#adapter')) ?? '',
      notice: (await page.textContent('#notice')) ?? '',
      gpuPlan: (await page.textContent('#gpu-plan')) ?? '',
      titles: await page.$$eval('#results li .title', (els) => els.map((e) => e.textContent ?? '')),
      scores: (await page.$$eval('#results li .score', (els) => els.map((e) => e.textContent ?? ''))).map(Number),
      searchMs: (await page.textContent('#search-ms')) ?? '',
      facts: (await page.$$eval('#facts dd', (els) => els.map((e) => `${e.previousElementSibling?.textContent}: ${e.textContent}`))).join('; '),
      logs,
      offsite,
    };
  } finally {
    await page.close();
  }
}

/** The first run's results (WebGPU): every other path must show the same passages and scores. */
let reference: PageRun | undefined;

function expectGoodResults(r: PageRun): void {
  console.log(`  ${r.facts}`);
  if (reference && reference !== r) {
    expect(r.titles).toEqual(reference.titles);
    // Scores are shown with 4 decimals; f32 GPU and WASM sums may differ in the last one.
    r.scores.forEach((x, i) => expect(Math.abs(x - reference!.scores[i]!)).toBeLessThanOrEqual(1.5e-4));
  }
  expect(r.titles[0], r.logs.join('\n')).toBe(EXPECTED_TITLE);
  expect(r.titles).toHaveLength(5);
  // Scores are inner products of unit vectors, best first.
  for (let i = 0; i < r.scores.length; i++) {
    expect(r.scores[i]).toBeLessThanOrEqual(1.0001);
    if (i > 0) expect(r.scores[i]).toBeLessThanOrEqual(r.scores[i - 1]!);
  }
  expect(r.searchMs).toMatch(/^\d+\.\d ms \((WebGPU|WASM)\)$/);
  expect(r.offsite).toEqual([]);
  // A clean console: no page error, no failed request, no warning (e.g. onnxruntime-web's about
  // threads), except Chromium's own note when requestAdapter() finds no adapter.
  expect(r.logs.filter((l) => /^(pageerror|error|warning):/.test(l) && l !== 'warning: No available adapters.')).toEqual([]);
}

// Generous limits: on a loaded 2-core machine, Chromium's software WebGPU (SwiftShader) needs 7-17 s to
// compile the search kernels at the first search; each page also compiles onnxruntime-web's 14 MB .wasm.
describe('browser example in headless Chromium', { timeout: 180_000 }, () => {
  it('searches on WebGPU when Chromium exposes an adapter (?backend=gpu: the SwiftShader adapter is a software renderer)', async () => {
    gpuBrowser = await launchChromium({ webgpu: true });
    const r = await searchOnPage(gpuBrowser, './?backend=gpu', 'webgpu.png');
    reference = r;
    expect(r.backend, r.logs.join('\n')).toBe('WebGPU');
    expect(r.adapter).not.toMatch(/^none/);
    // The GPU plan line is a fact beside the adapter, not the notice (which names a fallback only).
    expect(r.notice).toBe('');
    expect(r.gpuPlan).toMatch(/^f32 /);
    expectGoodResults(r);
    expect(r.searchMs).toMatch(/\(WebGPU\)$/);
    // Every file came from the static server, onnxruntime-web's .wasm included, and none was missing.
    expect(server.requests.filter((q) => q.status !== 200)).toEqual([]);
    expect(server.requests.some((q) => /ort-wasm.*\.wasm$/.test(q.path))).toBe(true);
  });

  it("'auto' passes over a software renderer (Chromium's SwiftShader) for WASM, says why once, same answer", async () => {
    gpuBrowser ??= await launchChromium({ webgpu: true });
    const r = await searchOnPage(gpuBrowser, './', 'auto-software.png');
    if (!r.adapter.endsWith('(software renderer)')) {
      // A Chromium with a hardware adapter keeps it under 'auto'.
      expect(r.backend).toBe('WebGPU');
      expect(r.notice).toBe('');
    } else {
      expect(r.backend).toBe('WASM (CPU)');
      expect(r.notice).toMatch(/^the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM: .*WASM \(CPU\) backend \(backend 'gpu' uses the adapter anyway\)$/);
      expect(r.logs.filter((l) => l.includes('tessera:'))).toHaveLength(1);
    }
    expectGoodResults(r);
  });

  it('searches on WASM when forced (?backend=wasm), and says so once', async () => {
    gpuBrowser ??= await launchChromium({ webgpu: true });
    const r = await searchOnPage(gpuBrowser, './?backend=wasm', 'wasm-forced.png');
    expect(r.backend).toBe('WASM (CPU)');
    expect(r.notice).toMatch(/WASM/);
    expectGoodResults(r);
    expect(r.searchMs).toMatch(/\(WASM\)$/);
  });

  it("falls back to WASM when navigator.gpu is absent ('auto'), says why once, same answer", async () => {
    gpuBrowser ??= await launchChromium({ webgpu: true });
    // A browser without the WebGPU API at all (older or locked-down browsers).
    const r = await searchOnPage(gpuBrowser, './', 'no-navigator-gpu.png', () => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    expect(r.adapter).toBe('none (navigator.gpu absent)');
    expect(r.backend).toBe('WASM (CPU)');
    expect(r.notice).toMatch(/WebGPU/);
    expect(r.notice).toMatch(/WASM/);
    expect(r.logs.filter((l) => l.includes('tessera:'))).toHaveLength(1);
    expectGoodResults(r);
  });

  it("falls back to WASM when the WebGPU device fails ('auto'), says why once, same answer", async () => {
    gpuBrowser ??= await launchChromium({ webgpu: true });
    // An adapter that cannot give a device (driver refuses, out of memory, a blocklisted GPU).
    const r = await searchOnPage(gpuBrowser, './', 'device-fails.png', () => {
      // A hardware adapter ('auto' passes over SwiftShader, a software renderer, before asking it for a device).
      Object.defineProperty(GPUAdapterInfo.prototype, 'isFallbackAdapter', { get: () => false, configurable: true });
      GPUAdapter.prototype.requestDevice = () => Promise.reject(new Error('simulated device failure'));
    });
    expect(r.adapter).not.toMatch(/^none/);
    expect(r.backend).toBe('WASM (CPU)');
    // The library itself falls back under 'auto' (core/factory withGpuFallback) and says why.
    expect(r.notice).toMatch(/^WebGPU (device )?failed \(.*simulated device failure.*\).*WASM \(CPU\) backend$/);
    expect(r.logs.filter((l) => l.includes('tessera:'))).toHaveLength(1);
    expectGoodResults(r);
  });

  it("falls back to WASM on a Chromium whose WebGPU has no adapter ('auto'), says why once, same answer; ?backend=gpu refuses", async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const r = await searchOnPage(browser, './', 'no-adapter.png');
      // Chromium 156 without --enable-unsafe-webgpu on this machine: navigator.gpu exists, requestAdapter() gives null.
      expect(r.adapter).toMatch(/^none \(/);
      expect(r.backend).toBe('WASM (CPU)');
      expect(r.notice).toMatch(/WebGPU/);
      expect(r.notice).toMatch(/WASM/);
      expect(r.logs.filter((l) => l.includes('tessera:'))).toHaveLength(1);
      expectGoodResults(r);

      // ?backend=gpu refuses to fall back: the page stops with the library's GPU_UNAVAILABLE error.
      const page = await browser.context.newPage();
      try {
        await page.goto(new URL('./?backend=gpu', server.url).href);
        await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
        expect(await page.textContent('#status')).toMatch(/^Could not start: .*WebGPU.*wasm/i);
        expect(await page.textContent('#backend')).toBe('–');
      } finally {
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});

/** What a page that stops at start-up shows: its status line, its notice, and its console. */
async function startFailure(browser: Chromium, query: string, failPath?: { path: RegExp; fulfill: { status: number; body: string | Buffer } }) {
  const page = await browser.context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  if (failPath) await page.route(failPath.path, (route) => route.fulfill(failPath.fulfill));
  try {
    await page.goto(new URL(query, server.url).href);
    await page.waitForFunction(() => document.body.dataset.state === 'error' || document.body.dataset.state === 'ready', null, { timeout: 30_000 });
    return { state: await page.getAttribute('body', 'data-state'), status: (await page.textContent('#status')) ?? '', notice: (await page.textContent('#notice')) ?? '', logs };
  } finally {
    await page.close();
  }
}

// Pages that cannot start say why on the page, in a line that names the file and the fix: Chromium
// without WebGPU (the 'auto' path falls back to WASM before the file is read), no GPU time spent.
describe('browser example: start-up failures and download progress', { timeout: 60_000 }, () => {
  let browser: Chromium;
  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('a corrupt index file is reported as what it is, not as a WebGPU failure that fell back to WASM', async () => {
    const r = await startFailure(browser, './', { path: /index\.faiss$/, fulfill: { status: 200, body: Buffer.from('not an index at all, just text') } });
    expect(r.status).toMatch(/^Could not start: index file: not a FAISS index/);
    // The bad file was blamed on WebGPU ("WebGPU failed (index file: not a FAISS index ...): searching on the WASM (CPU) backend").
    expect(r.notice).toBe('');
    expect(r.logs.filter((l) => l.startsWith('pageerror:'))).toEqual([]);
  });

  it('a missing corpus or manifest names the file and its status (not a row count or a JSON syntax error)', async () => {
    const corpus = await startFailure(browser, './', { path: /\.jsonl$/, fulfill: { status: 404, body: 'not found' } });
    expect(corpus.status).toMatch(/^Could not start: GET \/demo\/data\/\S+\.jsonl answered 404/);
    const manifest = await startFailure(browser, './', { path: /manifest\.json$/, fulfill: { status: 404, body: 'not found' } });
    expect(manifest.status).toMatch(/^Could not start: GET \/demo\/manifest\.json answered 404/);
    expect([...corpus.logs, ...manifest.logs].filter((l) => l.startsWith('pageerror:'))).toEqual([]);
  });

  it('a bad ?backend= is the page\'s message, not an uncaught exception that leaves it at "Loading…"', async () => {
    const r = await startFailure(browser, './?backend=cpu');
    expect(r.state).toBe('error');
    expect(r.status).toBe('Could not start: ?backend must be auto, gpu or wasm, got "cpu"');
    expect(r.logs.filter((l) => l.startsWith('pageerror:'))).toEqual([]);
  });

  it('shows download progress in the status line while the index, corpus and model come', async () => {
    const page = await browser.context.newPage();
    try {
      // Every status the page shows, in order (the downloads take well under a second unthrottled).
      await page.addInitScript(() => {
        const seen: string[] = ((window as unknown as { statuses: string[] }).statuses = []);
        document.addEventListener('DOMContentLoaded', () => {
          const el = document.getElementById('status')!;
          new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
        });
      });
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.enable');
      // 40 MB/s: the demo's 7 MB of index, corpus and model come in many chunks, each a status update.
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 40e6, uploadThroughput: 40e6 });
      await page.goto(server.url);
      await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 50_000 });
      expect(await page.textContent('#status')).toBe('Ready.');
      const seen = (await page.evaluate('window.statuses')) as string[];
      const progress = seen.filter((s) => s.startsWith('Downloading'));
      expect(progress.length, seen.join('\n')).toBeGreaterThan(2);
      for (const s of progress) expect(s).toMatch(/^Downloading… \d+\.\d MB of \d+\.\d MB \(\d{1,3}%\)$/);
      // The status goes on to the next step once the bytes are in.
      expect(seen.slice(-2)).toEqual(['Warming up…', 'Ready.']);
    } finally {
      await page.close();
    }
  });
});
