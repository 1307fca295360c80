/**
 * Load test of `tessera serve` with autocannon on 127.0.0.1: QPS and p50/p99 latency at 1, 16 and 64 concurrent clients.
 *
 *   npx tessera bench server [--backend wasm|gpu|auto] [--seconds 8] [--clients 1,16,64]
 *                            [--queries-per-request 1] [--topk 3] [--url http://127.0.0.1:8000] [--json out.json]
 *
 * Without --url it starts the demo server (`tessera demo`'s files: bundled corpus and model, index
 * cached in .cache/demo) in a child process, so the load generator and the server do not share an
 * event loop, and stops it with SIGTERM at the end. Each client posts what verl's Search-R1 tool
 * posts ({"queries": [q], "topk": 3, "return_scores": true}, JSON headers), cycling through queries
 * made of corpus words. Per level it reports requests/s, latency p50/p99, errors (any non-2xx or
 * socket error counts; the run fails unless zero), and the micro-batch sizes the server formed,
 * read from /metrics before and after the level. Bounded in time: levels x --seconds.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import '../../src/node.js';
import { ensureDemoIndex, packageRoot } from '../../src/server/demo.js';
import { serveFiles } from '../../src/server/files.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Child mode: serve the demo on a free port and print the URL. */
async function serveChild(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'gpu' | 'auto';
  const files = await ensureDemoIndex({ say: (l) => process.stderr.write(`server: ${l}\n`) });
  const service = await serveFiles({
    index: files.index,
    corpus: files.corpus,
    model: files.model,
    offsets: files.offsets,
    port: 0,
    backend,
    logger: false,
    say: (l) => process.stderr.write(`server: ${l}\n`),
  });
  await service.ready;
  process.stdout.write(`URL ${service.url}\n`);
  process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
}

/** Sum and count of a Prometheus histogram, and its bucket counts. */
function histogram(text: string, name: string): { sum: number; count: number; buckets: Map<string, number> } {
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))) buckets.set(m[1]!, Number(m[2]));
  return { sum: num(new RegExp(`^${name}_sum (\\S+)`, 'm')), count: num(new RegExp(`^${name}_count (\\S+)`, 'm')), buckets };
}

/** Queries of 1 to 4 corpus words, deterministic. */
function makeQueries(n: number): string[] {
  const words = readFileSync(join(packageRoot(), 'assets/demo/corpus.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { contents: string }).contents.split('\n')[1] ?? '')
    .join(' ')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 3);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => words[Math.floor(rand() * words.length)]!).join(' '));
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve-child')) return serveChild();
  const require = createRequire(import.meta.url);
  const autocannon = require('autocannon') as Autocannon;
  const seconds = Number(arg('seconds', '8'));
  const levels = arg('clients', '1,16,64').split(',').map(Number);
  const perRequest = Number(arg('queries-per-request', '1'));
  const topk = Number(arg('topk', '3'));
  const backend = arg('backend', 'wasm');

  let url = arg('url', '');
  let child: ReturnType<typeof spawn> | undefined;
  if (!url) {
    child = spawn(process.execPath, [process.argv[1]!, '--serve-child', '--backend', backend], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /URL (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.on('exit', (code) => reject(new Error(`demo server exited with ${code} before ready`)));
    });
  }
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(url)) throw new Error(`load tests run on 127.0.0.1 only, got ${url}`);
  const queries = makeQueries(4096);
  const metricsText = async () => (await fetch(`${url}/metrics`)).text();
  const rows: Record<string, number | string>[] = [];
  let failed = false;
  try {
    for (const clients of levels) {
      let next = 0;
      const before = await metricsText();
      const result = await autocannon({
        url: `${url}/retrieve`,
        connections: clients,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/retrieve',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            setupRequest: (req: Record<string, unknown>) => {
              const qs = Array.from({ length: perRequest }, () => queries[next++ % queries.length]!);
              return { ...req, body: JSON.stringify({ queries: qs, topk, return_scores: true }) };
            },
          },
        ],
      });
      const after = await metricsText();
      const b0 = histogram(before, 'tessera_batch_queries');
      const b1 = histogram(after, 'tessera_batch_queries');
      const r0 = histogram(before, 'tessera_batch_requests');
      const r1 = histogram(after, 'tessera_batch_requests');
      const batches = b1.count - b0.count;
      // Buckets are cumulative: the first bound holding every batch of this level bounds the largest one.
      let largest = '-';
      for (const [le, c] of b1.buckets) {
        if (batches > 0 && c - (b0.buckets.get(le) ?? 0) === batches) {
          largest = le;
          break;
        }
      }
      const errors = result.non2xx + result.errors + result.timeouts;
      if (errors > 0) failed = true;
      rows.push({
        clients,
        qps: Math.round((result.requests.total * perRequest) / result.duration),
        requests: result.requests.total,
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        errors,
        batches,
        mean_batch_queries: batches ? +((b1.sum - b0.sum) / batches).toFixed(1) : 0,
        max_batch_queries_le: largest,
        mean_requests_per_batch: batches ? +((r1.sum - r0.sum) / batches).toFixed(1) : 0,
      });
      process.stderr.write(`clients ${clients}: ${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    child?.kill('SIGTERM');
  }
  const header = '| clients | queries/s | p50 ms | p99 ms | errors | batches | mean queries/batch | largest batch (bucket le) | mean requests/batch |';
  const lines = [header, '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.clients} | ${r.qps} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} | ${r.batches} | ${r.mean_batch_queries} | ${r.max_batch_queries_le} | ${r.mean_requests_per_batch} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = arg('json', '');
  if (json) writeFileSync(json, JSON.stringify({ url, backend, seconds, perRequest, topk, rows }, null, 2));
  if (failed) {
    process.stderr.write('load test FAILED: some requests failed (see errors)\n');
    process.exitCode = 1;
  }
}

await main();
