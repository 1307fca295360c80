/**
 * `tessera info <file>`: what a FAISS index file holds (type, d, ntotal, metric, bytes) and which
 * backends can serve it here, read from its header alone; vector files (.npy, .fvecs, .f32 with
 * --dim) get their shape.
 */
import type { Command } from 'commander';
import { formatBytes, TesseraError } from '../../core/errors.js';
import { planeRowBytes, rowBytes, type StoragePrecision } from '../../core/planner.js';
import { autoSkipsGpu, registration } from '../../core/factory.js';
import type { Backend } from '../../core/types.js';
import { faissFormat } from '../../io/faiss/formats.js';
import { openFileSource } from '../../io/node-fs.js';
import { inspectIndex } from '../../io/read-index.js';
import { asCliWords } from '../../server/files.js';
import { inspectVectors, vectorFormatOf } from '../../io/vectors.js';
import { intOption, MAX_THREADS, writeOut } from '../options.js';
import { formatShardPlan, type ShardPlan, shardPlanForFile } from '../../wasm/shards.js';
import { say } from '../progress.js';

interface InfoFlags {
  json?: boolean;
  dim?: number;
  threads?: number;
}

/**
 * Whether each backend that reads this file can run here (the GPU one needs an adapter). The GPU is
 * asked through backend 'auto's probe (a child process in Node), not in-process: info opens no
 * device, so that one look (the adapter, and whether 'auto' passes it over) is all it pays, and a
 * CPU-only machine's output gets none of Dawn's clamped-limit lines (gpu/dawn.ts probeDawnAdapter).
 */
async function backendStatus(kind: ReturnType<typeof faissFormat>['kind'], backends: Backend[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const b of backends) {
    const r = registration(b, kind)!;
    // The probe's wait and give-up lines on stderr, as search and serve print them.
    const opts = { onNotice: (line: string) => say(asCliWords(line)) };
    const ok = await r.available(opts);
    const skip = ok && b === 'gpu' ? await autoSkipsGpu(kind, opts) : undefined;
    out[b] = !ok ? (b === 'gpu' ? noAdapterHere(await r.unavailableWhy?.(opts)) : 'unavailable here') : skip ? `available with --backend gpu (${skip}: --backend auto uses wasm)` : 'available';
  }
  return out;
}

/**
 * The gpu backend's status where the probe found no adapter, with why where tessera knows (Node's
 * permission model refused Dawn's addon: the fix is a Node flag, not a driver), the library's
 * backend 'wasm' named as the CLI's flag.
 */
function noAdapterHere(why: string | undefined): string {
  return why ? `no WebGPU adapter here: ${asCliWords(why)}` : 'no WebGPU adapter here';
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show what an index file (or a .npy/.fvecs/.f32 vector file) holds and which backends can serve it, from its header')
    .argument('<file>', 'FAISS index file, or vector file')
    .option('--json', 'print one JSON object instead of text')
    .option('--dim <d>', 'dimension of a raw .f32 vector file', intOption('--dim', 1))
    .option('--threads <n>', 'worker threads the wasm shard plan is for, as search/serve would be given (default: all cores, at most 256; HNSW keeps a visited byte per vector for each)', intOption('--threads', 1, MAX_THREADS))
    .action(async (file: string, flags: InfoFlags) => {
      const vectorFormat = vectorFormatOf(file);
      if (vectorFormat) {
        if (flags.threads !== undefined) say("--threads sizes an index file's wasm shard plan, and a vector file has none: ignored");
        const source = await openFileSource(file);
        try {
          const layout = await inspectVectors(source, { format: vectorFormat, dim: flags.dim, label: file });
          const info = { file, format: layout.format, n: layout.n, d: layout.d, dtype: 'float32', bytes: source.size };
          await writeOut(
            flags.json
              ? `${JSON.stringify(info)}\n`
              : table([
                  ['file', file],
                  ['format', layout.format],
                  ['shape', `${layout.n} x ${layout.d} float32`],
                  ['bytes', `${formatBytes(source.size)} (${source.size})`],
                ]),
          );
        } finally {
          await source.close();
        }
        return;
      }
      const info = await inspectIndex(file);
      // A FAISS file's dimension is its header's: a --dim that differs was ignored without a word, as convert refuses it.
      if (flags.dim !== undefined && flags.dim !== info.d) {
        throw new TesseraError('INVALID_ARGUMENT', `${file} holds vectors of dimension ${info.d}, but --dim ${flags.dim} was given: --dim is for raw .f32 vector files; drop it`);
      }
      const kind = faissFormat(info.fourcc, file).kind;
      const status = await backendStatus(kind, info.backends);
      const gpuBytes = gpuStorageBytes(info.ntotal, info.d, info.metric);
      // How the WASM backend lays the index over 4 GiB WebAssembly memories (src/wasm/shards.ts),
      // with the threads a load gets: HNSW counts a visited byte per vector for each.
      let plan: ShardPlan | undefined;
      try {
        plan = info.backends.includes('wasm') ? shardPlanForFile(info, { threads: flags.threads }) : undefined;
      } catch {
        plan = undefined;
      }
      if (flags.json) {
        await writeOut(`${JSON.stringify({ file, ...info, backendStatus: status, gpuStorageBytes: kind === 'flat' ? gpuBytes : undefined, shardPlan: plan })}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['file', file],
        ['type', `${info.type} (fourcc ${info.fourcc}, factory "${info.description}")`],
        ['d', String(info.d)],
        ['ntotal', String(info.ntotal)],
        ['metric', info.metric ? `${info.metricName} (${info.metric})` : `${info.metricName} (not served by tessera)`],
        ['trained', info.isTrained ? 'yes' : 'no'],
        ['bytes', `${formatBytes(info.bytes)} (${info.bytes})`],
      ];
      const details = Object.entries(info.details).map(([k, v]) => `${k}=${v}`);
      if (details.length) rows.push(['details', details.join(' ')]);
      rows.push([
        'backends',
        info.backends.length ? info.backends.map((b) => `${b} (${status[b]})`).join(', ') : 'none: no loaded backend reads this type or metric',
      ]);
      if (kind === 'flat') {
        rows.push(['gpu storage', `f32 ${formatBytes(gpuBytes.f32)}, f16 ${formatBytes(gpuBytes.f16)}, int8 ${formatBytes(gpuBytes.int8)} (re-ranked against this file's f32 rows, read by offset)`]);
        const planes = gpuBytes.digitPlanes;
        if (planes) {
          const beside = [planes.f32 ? `f32 + ${formatBytes(planes.f32)} digit planes` : '', planes.f16 ? `f16 + ${formatBytes(planes.f16)} code plane` : ''].filter(Boolean).join(', ');
          rows.push(['gpu planes', `with --allow-experimental on a GPU with subgroup matrices, where the memory holds them: ${beside} (--no-digit-planes leaves them out)`]);
        }
      }
      if (plan) formatShardPlan(plan).split('\n').forEach((line, i) => rows.push([i === 0 ? 'wasm shards' : '', line]));
      await writeOut(table(rows));
    });
}

/**
 * The rows' GPU bytes at each precision (rows padded to whole 16-byte words, as the planner lays
 * them out), and for an inner-product index the tensor cores' planes that --allow-experimental adds
 * by default (planner digitPrecisions: f32 two bytes a stored dimension, f16 one; only for stored
 * dimensions in multiples of 32, the tensor kernel's step).
 */
export function gpuStorageBytes(ntotal: number, d: number, metric: string | null | undefined): { f32: number; f16: number; int8: number; digitPlanes?: { f32?: number; f16?: number } } {
  const bytes = (p: StoragePrecision) => ntotal * rowBytes(d, p);
  const planes = (p: 'f32' | 'f16') => (metric === 'ip' && planeRowBytes(d, p) > 0 ? ntotal * planeRowBytes(d, p) : undefined);
  const digitPlanes = { f32: planes('f32'), f16: planes('f16') };
  return { f32: bytes('f32'), f16: bytes('f16'), int8: bytes('int8'), ...(digitPlanes.f32 !== undefined || digitPlanes.f16 !== undefined ? { digitPlanes } : {}) };
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}\n`).join('');
}
