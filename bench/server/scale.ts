/**
 * `tessera serve` at Search-R1 scale on the device machine: a synthetic 21,015,324 x 768 FAISS IndexFlatIP file and an e5-base-shaped model, served on the GPU; start-up time, memory, and /retrieve at batches of 1, 64 and 512.
 *
 *   node scale.mjs --cli cli.mjs --model DIR [--dir /dev/shm/tessera-scale] [--rows 21015324] [--dim 768]
 *                  [--encoder webgpu,wasm] [--backend gpu|wasm] [--out $OUT] [--keep]
 *
 * 1. Writes DIR/synth.index (FAISS IndexFlatIP: header, then rows from bench/gpu-flat/synthetic.ts's
 *    unit-norm generator) and DIR/corpus.jsonl (one fixed-length row per vector) with one worker
 *    thread per core, each writing its own row range at its byte offset.
 * 2. Starts `node cli.mjs serve --index DIR/synth.index --corpus DIR/corpus.jsonl --model DIR
 *    --backend gpu --max-batch 512` as a child, records its start-up lines (per-step timings), and
 *    samples its host memory (VmRSS / VmHWM from /proc) and the GPU's (nvidia-smi) once ready.
 * 3. Posts Search-R1 trainer requests ({"queries": [...], "topk": 3, "return_scores": true}) of 1,
 *    64 and 512 queries, one at a time (a warm-up, then repeats), and reports latency, queries/s,
 *    and the encoder / search split from /metrics.
 * 4. SIGTERM, and deletes DIR unless --keep. Results: scale.json and scale.md in --out.
 */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { encodeFlatHeader } from '../../src/io/faiss/flat.js';
import { syntheticRow } from '../gpu-flat/synthetic.js';

const SEED = 20261125;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Fixed-length corpus row i (so every worker knows where its rows start). */
function corpusRow(i: number): string {
  const id = String(i).padStart(8, '0');
  return `{"id":"${id}","contents":"\\"Passage ${id}\\"\\nsynthetic passage ${id} standing in for a wiki-18 paragraph of the Search-R1 corpus"}\n`;
}

interface Job {
  index: string;
  corpus: string;
  d: number;
  from: number;
  to: number;
  headerBytes: number;
  rowBytes: number;
}

function writeRange(job: Job): void {
  const fi = openSync(job.index, 'r+');
  const fc = openSync(job.corpus, 'r+');
  const CHUNK = 8192;
  const buf = new Float32Array(CHUNK * job.d);
  const row = new Float32Array(job.d);
  try {
    for (let r = job.from; r < job.to; r += CHUNK) {
      const n = Math.min(CHUNK, job.to - r);
      let text = '';
      for (let i = 0; i < n; i++) {
        syntheticRow(SEED, r + i, job.d, row);
        buf.set(row, i * job.d);
        text += corpusRow(r + i);
      }
      writeSync(fi, new Uint8Array(buf.buffer, 0, n * job.d * 4), 0, n * job.d * 4, job.headerBytes + r * job.d * 4);
      const bytes = Buffer.from(text, 'latin1');
      writeSync(fc, bytes, 0, bytes.length, r * job.rowBytes);
    }
  } finally {
    closeSync(fi);
    closeSync(fc);
  }
}


async function generate(dir: string, rows: number, d: number): Promise<{ seconds: number; indexBytes: number; corpusBytes: number }> {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const index = join(dir, 'synth.index');
  const corpus = join(dir, 'corpus.jsonl');
  const header = encodeFlatHeader(d, rows, 'ip');
  writeFileSync(index, header);
  writeFileSync(corpus, '');
  const rowBytes = corpusRow(0).length;
  const workers = Math.max(1, cpus().length - 1);
  const per = Math.ceil(rows / workers);
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const job: Job = { index, corpus, d, from: Math.min(rows, w * per), to: Math.min(rows, (w + 1) * per), headerBytes: header.length, rowBytes };
      return new Promise<void>((res, rej) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: job });
        worker.on('error', rej);
        worker.on('exit', (c) => (c === 0 ? res() : rej(new Error(`generator worker exited with ${c}`))));
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, indexBytes: header.length + rows * d * 4, corpusBytes: rows * rowBytes };
}

function procMemory(pid: number): { rssGiB: number; hwmGiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssGiB: kb('VmRSS') / 2 ** 20, hwmGiB: kb('VmHWM') / 2 ** 20 };
}

function gpuMemoryGiB(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]) / 1024;
  } catch {
    return undefined;
  }
}

function histogramSum(text: string, name: string): number {
  return Number(new RegExp(`^${name}_sum (\\S+)`, 'm').exec(text)?.[1] ?? 0);
}

const WORDS = 'who what when where which wrote invented discovered capital river mountain president war battle king queen city country novel film album song team player born died founded largest first element planet ocean language author director company university'.split(' ');

function queries(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: 5 + Math.floor(rand() * 6) }, () => WORDS[Math.floor(rand() * WORDS.length)]!).join(' '));
}

async function main(): Promise<void> {
  const cli = arg('cli', 'cli.mjs');
  const model = arg('model', '');
  const dir = arg('dir', '/dev/shm/tessera-scale');
  const rows = Number(arg('rows', '21015324'));
  const d = Number(arg('dim', '768'));
  const out = arg('out', process.env.OUT ?? '.');
  const encoder = arg('encoder', 'webgpu,wasm');
  const report: Record<string, unknown> = { rows, d, encoder };
  const log = (line: string) => {
    process.stderr.write(`scale: ${line}\n`);
    ((report.log ??= []) as string[]).push(line);
  };
  const save = () => writeFileSync(join(out, 'scale.json'), JSON.stringify(report, null, 2));

  try {
    const gen = await generate(dir, rows, d);
    report.generate = gen;
    log(`wrote ${(gen.indexBytes / 2 ** 30).toFixed(1)} GiB index + ${(gen.corpusBytes / 2 ** 30).toFixed(2)} GiB corpus in ${gen.seconds.toFixed(1)} s`);
    save();

    // Encoders in order of preference (default: WebGPU on Dawn, else WASM): a start or first request
    // that fails with one moves on to the next.
    let child: ReturnType<typeof spawn> | undefined;
    let url = '';
    for (const enc of encoder.split(',')) {
      const args = [cli, 'serve', '--index', join(dir, 'synth.index'), '--corpus', join(dir, 'corpus.jsonl'), '--model', model, '--backend', arg('backend', 'gpu'), '--max-batch', '512', '--port', '0', '--log-level', 'warn', '--encoder', enc, '--timeout-ms', '300000'];
      const t0 = performance.now();
      const c = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
      let stderr = '';
      try {
        url = await new Promise<string>((res, rej) => {
          c.stderr!.on('data', (b: Buffer) => {
            process.stderr.write(b);
            stderr += b.toString();
            const m = /serving (http:\/\/\S+)/.exec(stderr);
            if (m) res(m[1]!);
          });
          c.on('exit', (code) => rej(new Error(`tessera serve (encoder ${enc}) exited with ${code} before ready`)));
        });
        const probe = await fetch(`${url}/retrieve`, { method: 'POST', body: JSON.stringify({ queries: ['probe query'], topk: 3 }) });
        if (probe.status !== 200) throw new Error(`first request with encoder ${enc}: HTTP ${probe.status} ${(await probe.text()).slice(0, 300)}`);
      } catch (e) {
        log(`encoder ${enc} failed: ${(e as Error).message}`);
        c.kill('SIGKILL');
        continue;
      }
      child = c;
      report.encoderUsed = enc;
      report.startupSeconds = (performance.now() - t0) / 1000;
      report.startupLines = stderr.split('\n').filter((l) => /loaded |backend:|ready in|offset table|index file|loading index/.test(l));
      break;
    }
    if (!child) throw new Error(`no encoder of ${encoder} could serve`);
    report.memoryAtReady = { host: procMemory(child.pid!), gpuGiB: gpuMemoryGiB() };
    log(`ready after ${(report.startupSeconds as number).toFixed(1)} s with encoder ${report.encoderUsed as string}; memory ${JSON.stringify(report.memoryAtReady)}`);
    save();

    const results: Record<string, unknown>[] = [];
    for (const [size, reps] of [[1, 10], [64, 5], [512, 2]] as const) {
      const post = async (qs: string[]) => {
        const s = performance.now();
        const res = await fetch(`${url}/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queries: qs, topk: 3, return_scores: true }) });
        const body = (await res.json()) as { result?: unknown[][] };
        if (res.status !== 200 || body.result?.length !== qs.length) throw new Error(`batch of ${qs.length}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        return performance.now() - s;
      };
      await post(queries(size, 1)); // warm-up: pipelines for this batch size, encoder buffers
      const m0 = await (await fetch(`${url}/metrics`)).text();
      const times: number[] = [];
      for (let r = 0; r < reps; r++) times.push(await post(queries(size, 100 + r)));
      const m1 = await (await fetch(`${url}/metrics`)).text();
      times.sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const row = {
        batch: size,
        reps,
        p50Ms: +times[Math.floor(times.length / 2)]!.toFixed(1),
        maxMs: +times.at(-1)!.toFixed(1),
        queriesPerSecond: +((size * 1000) / mean).toFixed(1),
        encodeMsPerBatch: +(((histogramSum(m1, 'tessera_encode_seconds') - histogramSum(m0, 'tessera_encode_seconds')) * 1000) / reps).toFixed(1),
        searchMsPerBatch: +(((histogramSum(m1, 'tessera_search_seconds') - histogramSum(m0, 'tessera_search_seconds')) * 1000) / reps).toFixed(1),
      };
      results.push(row);
      log(JSON.stringify(row));
      report.retrieve = results;
      save();
    }
    report.memoryAfter = { host: procMemory(child.pid!), gpuGiB: gpuMemoryGiB() };
    const t1 = performance.now();
    child.kill('SIGTERM');
    await new Promise((r) => child!.on('exit', r));
    report.shutdownSeconds = (performance.now() - t1) / 1000;
    log(`stopped in ${(report.shutdownSeconds as number).toFixed(1)} s`);
  } catch (e) {
    report.error = (e as Error).stack ?? String(e);
    log(`FAILED: ${(e as Error).message}`);
    process.exitCode = 1;
  } finally {
    save();
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

// Dispatch last, once every module-level constant above is initialised.
if (!isMainThread) writeRange(workerData as Job);
else await main();
