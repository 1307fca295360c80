/**
 * `tessera search --index F --queries Q [-k 10] [--backend auto|gpu|wasm] [--json] ...`: loads a
 * FAISS index file (streamed into GPU tiles or WASM memory), searches query vectors read from .npy,
 * .fvecs or raw .f32, and prints the results. --json prints {"labels": [[...]], "distances": [[...]]}
 * (one row per query, best first; missing results are label -1 with distance null).
 */
import { Option, type Command } from 'commander';
import { TesseraError } from '../../core/errors.js';
import { checkVectors, MAX_K } from '../../core/validate.js';
import type { Index, SearchResult } from '../../core/types.js';
import { inspectIndex, readIndex } from '../../io/read-index.js';
import { asCliWords, gpuLimitShortOf, softwareRendererNote, storedEfOverrides, unusedIndexOptions } from '../../server/files.js';
import { topkLimit } from '../../server/service.js';
import { readVectors } from '../../io/vectors.js';
import { addGpuIndexOptions, digitPlanesOption, inCliWords, intOption, MAX_THREADS, writeOut } from '../options.js';
import { progressBars, say } from '../progress.js';

interface SearchFlags {
  index: string;
  queries: string;
  k: number;
  backend: 'auto' | 'gpu' | 'wasm';
  efSearch?: number;
  nprobe?: number;
  precision: 'auto' | 'f32' | 'f16' | 'int8';
  gpuMemory?: number;
  allowExperimental?: boolean;
  disableRobustness?: boolean;
  digitPlanes?: boolean;
  dim?: number;
  threads?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('search')
    .description('search query vectors in a FAISS index file and print the k best ids and scores per query')
    .requiredOption('--index <file>', 'FAISS index file (IndexFlatIP/L2, HNSW, IVF, SQ; tessera info says which backends serve it), a path or an http(s) URL')
    .requiredOption('--queries <file>', 'query vectors: .npy (float32), .fvecs, or raw .f32 (with --dim)')
    // Above MAX_K every index refuses the search: refused as parsed, not once the index has loaded.
    .option('-k, --k <n>', 'results per query', intOption('-k', 1, MAX_K), 10)
    .addOption(new Option('--backend <b>', 'gpu (WebGPU), wasm (CPU), or auto (GPU on a WebGPU adapter that is not a software renderer, else wasm)').choices(['auto', 'gpu', 'wasm']).default('auto'))
    .option('--ef-search <n>', 'HNSW: candidate list size (FAISS efSearch)', intOption('--ef-search', 1))
    .option('--nprobe <n>', 'IVF: inverted lists visited (FAISS nprobe)', intOption('--nprobe', 1));
  addGpuIndexOptions(cmd)
    .option('--dim <d>', 'dimension of a raw .f32 query file (default: the index dimension)', intOption('--dim', 1))
    .option('--threads <n>', 'worker threads of a wasm index (default: all cores, at most 256; HNSW keeps a visited byte per vector for each: tessera info --threads shows the plan)', intOption('--threads', 1, MAX_THREADS))
    .option('--json', 'print {"labels": [[...]], "distances": [[...]]} instead of text')
    .action(inCliWords(async (flags: SearchFlags) => {
      // Header and queries first: a wrong file or dimension fails before gigabytes are loaded.
      const info = await inspectIndex(flags.index);
      // Texts are what a user has at hand; the vector readers would only say the format is unknown.
      if (/\.(txt|json|jsonl)$/i.test(flags.queries)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${flags.queries}: search takes query vectors (.npy, .fvecs or .f32), not texts: encode the texts with the model that built the index first (tessera encode --model DIR --texts ${flags.queries} --out q.npy), then pass --queries q.npy`,
        );
      }
      const dim = flags.dim ?? (/\.f32$/i.test(flags.queries) ? info.d : undefined);
      const q = await readVectors(flags.queries, { dim });
      if (q.d !== info.d) {
        // A raw .f32 file's dimension is the --dim given: the file may be right and the flag wrong.
        const fix =
          q.format === 'f32' && flags.dim !== undefined
            ? `--dim ${flags.dim} reads its raw floats as rows of ${flags.dim}: pass --dim ${info.d}, or leave --dim out (a .f32 file takes the index's dimension)`
            : 'encode the queries with the model that built the index';
        throw new TesseraError('INVALID_ARGUMENT', `queries in ${flags.queries} have dimension ${q.d}, but the index ${flags.index} has d=${info.d}: ${fix}`);
      }
      if (q.n === 0) throw new TesseraError('INVALID_ARGUMENT', `${flags.queries} holds no query vectors: give at least one`);
      // A NaN query failed only at the search, after the index had loaded (minutes for a large one).
      checkVectors(q.data, q.d, `queries in ${flags.queries}`);
      // An HNSW file storing an ef above the limit opens with the limit (told), not refused.
      const efs = storedEfOverrides(info, flags.efSearch, flags.index);
      for (const note of efs.notes) say(note);
      const knobs = { efSearch: flags.efSearch ?? efs.efSearch, nprobe: flags.nprobe };
      // A GPU returns at most its merge list a query (1024 on some adapters): --backend auto takes
      // WASM for a larger -k before loading, and --backend gpu refuses before loading.
      // One printer for the probe and the load: the probe's give-up it printed is not said again as
      // the reason in the load's fallback notice (gpu/device.ts gpuUnavailableReason).
      const notice = (line: string) => say(asCliWords(line));
      const limit = await gpuLimitShortOf(flags.k, info, flags.backend, notice);
      if (limit !== undefined && (flags.backend === 'gpu' || !info.backends.includes('wasm'))) throw kLimitError(flags.k, limit, info.backends.includes('wasm'));
      const why = limit !== undefined ? `the GPU returns at most ${limit} results a query, fewer than -k ${flags.k}: searching on wasm instead (-k ${limit} keeps the GPU)` : undefined;
      const index = await readIndex(flags.index, {
        backend: limit !== undefined ? 'wasm' : flags.backend,
        precision: flags.precision,
        gpuMemory: flags.gpuMemory,
        allowExperimental: flags.allowExperimental,
        disableRobustness: flags.disableRobustness,
        digitPlanes: digitPlanesOption(flags),
        threads: flags.threads,
        ...knobs,
        efConstruction: efs.efConstruction,
        onProgress: progressBars(),
        onNotice: notice,
      });
      for (const note of unusedOptions(flags, index)) say(note);
      let result: SearchResult;
      try {
        // The library's own refusal names its backend option, not the CLI flag.
        const loadedLimit = topkLimit(index);
        if (loadedLimit !== undefined && flags.k > loadedLimit) throw kLimitError(flags.k, loadedLimit, info.backends.includes('wasm'));
        const t0 = performance.now();
        result = await index.search(q.data, flags.k, knobs);
        const ms = performance.now() - t0;
        const notes = [why, await softwareRendererNote(index)].filter(Boolean);
        say(`${q.n} queries, k=${flags.k}, on ${describe(index)}${notes.length ? ` (${notes.join('; ')})` : ''}: ${ms.toFixed(1)} ms (${((q.n / ms) * 1000).toFixed(0)} queries/s)`);
      } finally {
        await index.dispose();
      }
      await writeOut(flags.json ? toJson(result) : toText(result, index.metric));
    }));
}

/** -k above what the GPU returns a query, naming the CLI's fixes. */
function kLimitError(k: number, limit: number, wasm: boolean): TesseraError {
  return new TesseraError(
    'INVALID_ARGUMENT',
    `-k ${k} is more than the GPU returns per query (${limit}): pass -k ${limit} or less${wasm ? `, or --backend wasm (exact too, -k up to ${MAX_K})` : ''}`,
  );
}

/** unusedIndexOptions, and `--threads` on the GPU (the wasm backend's workers; the GPU's int8 re-rank has its own). */
function unusedOptions(flags: SearchFlags, index: Index): string[] {
  const notes = unusedIndexOptions(flags, index, 'this search runs');
  if (index.backend === 'gpu' && flags.threads !== undefined) notes.push('--threads applies to the wasm backend, and this search runs on gpu: ignored');
  return notes;
}

function describe(index: Index): string {
  return `${index.backend} (${index.description}, ${index.ntotal} vectors, d=${index.d}, ${index.metric})`;
}

/** Row i of labels as numbers (ids < 2^53) and distances with padding as null (JSON has no Infinity). */
function row(r: SearchResult, i: number): { labels: number[]; distances: (number | null)[] } {
  const labels: number[] = [];
  const distances: (number | null)[] = [];
  for (let j = i * r.k; j < (i + 1) * r.k; j++) {
    labels.push(Number(r.labels[j]));
    const v = r.distances[j]!;
    distances.push(Number.isFinite(v) ? v : null);
  }
  return { labels, distances };
}

function toJson(r: SearchResult): string {
  const labels: string[] = [];
  const distances: string[] = [];
  for (let i = 0; i < r.nq; i++) {
    const x = row(r, i);
    labels.push(JSON.stringify(x.labels));
    distances.push(JSON.stringify(x.distances));
  }
  return `{"labels": [${labels.join(', ')}], "distances": [${distances.join(', ')}]}\n`;
}

/** One line per query: "query 0: 12 (0.8123)  45 (0.8011) ...". */
function toText(r: SearchResult, metric: string): string {
  const lines = [`# best first; score = ${metric === 'ip' ? 'inner product (larger is closer)' : 'squared L2 distance (smaller is closer)'}; -1 = no result`];
  for (let i = 0; i < r.nq; i++) {
    const x = row(r, i);
    lines.push(`query ${i}: ${x.labels.map((l, j) => `${l} (${x.distances[j] === null ? '-' : x.distances[j]!.toPrecision(6)})`).join('  ')}`);
  }
  return `${lines.join('\n')}\n`;
}
