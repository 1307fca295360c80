/**
 * `tessera convert --in F --out G --index-type T`: builds an index (Flat, HNSW, IVF, SQ8) from a FAISS
 * file that stores its vectors as they are (IndexFlatIP/L2 such as Search-R1's e5_Flat.index,
 * IndexHNSWFlat such as e5_HNSW64.index, IndexIVFFlat) or a vector file (.npy, .fvecs, .f32 with
 * --dim), and writes it as a FAISS file, atomically (a temp file renamed into place when complete).
 *
 * Rows stream from the input in bounded chunks, in label order (an IVF's lists are gathered by id);
 * training reads an evenly spread sample (FAISS keeps at most 256 x nlist points for k-means anyway).
 * Indexes larger than one 4 GiB WebAssembly memory are built over shards (src/wasm/shards.ts) and
 * still written as one FAISS file.
 */
import { stat } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { formatBytes, TesseraError } from '../../core/errors.js';
import { defaultTrainSize, factoryDescription, indexFactory, parseFactoryString } from '../../core/factory.js';
import { checkFileRows } from '../../core/validate.js';
import type { ByteSource, Index, Metric, ProgressCallback } from '../../core/types.js';
import { ByteReader } from '../../io/byte-reader.js';
import { faissFormat } from '../../io/faiss/formats.js';
import { type FaissFormat, showFourcc } from '../../io/faiss/header.js';
import { type RowChunk, readFlatLayout, streamFlatRows, writeFlatIndex } from '../../io/faiss/flat.js';
import { HNSW_FLAT_FOURCC, readHnswSummary } from '../../io/faiss/hnsw.js';
import { IVF_FLAT_FOURCC, readIvfLayout, readIvfRowOffsets, streamIvfRows } from '../../io/faiss/ivf.js';
import { openFileSource, removeLeftoversOf } from '../../io/node-fs.js';
import { openSink } from '../../platform.js';
import { hasNpyMagic, inspectVectors, streamVectors, vectorFormatOf } from '../../io/vectors.js';
import { HNSW_DEFAULTS } from '../../wasm/hnsw-index.js';
import { needsShards, planShards, shardedIndex } from '../../wasm/shards.js';
import { WASM_MEMORY_LIMIT } from '../../wasm/sq-index.js';
import { bytesOptionAtMost, inCliWords, intOption, MAX_THREADS } from '../options.js';
import { progressBars, say } from '../progress.js';

export interface ConvertOptions {
  input: string;
  output: string;
  /** FAISS factory string of the output, e.g. "HNSW32", "IVF4096,SQ8", "SQ8". */
  indexType: string;
  /** Metric of the output; default the input's (FAISS files) or ip (vector files). */
  metric?: Metric;
  /** Raw .f32 input: the dimension. */
  dim?: number;
  /** Training vectors to sample (default: 256 x nlist for IVF, at most 262144; all up to that for SQ8). */
  trainSize?: number;
  /** HNSW build parameter; IVF default nprobe stored in the file. */
  efConstruction?: number;
  efSearch?: number;
  nprobe?: number;
  threads?: number;
  seed?: number;
  /** Bytes per WebAssembly instance (default 4 GiB); smaller forces shards. */
  shardBytes?: number;
  onProgress?: ProgressCallback;
  /** Human-readable notes: temp files of --out that killed converts left, removed (removeLeftoversOf), or kept as another machine's. */
  say?: (line: string) => void;
}

export interface ConvertResult {
  d: number;
  ntotal: number;
  metric: Metric;
  description: string;
  shards: number;
  trainRows: number;
  seconds: number;
  /** Options given that the output type does not use (notes to show the user). */
  ignored: string[];
}

/** The rows of the input file, whichever format it is. */
interface RowInput {
  d: number;
  n: number;
  metric: Metric | undefined;
  rows(first: number, count: number): AsyncGenerator<RowChunk>;
}

async function openRows(source: ByteSource, path: string, dim: number | undefined, onProgress?: ProgressCallback): Promise<RowInput> {
  // A .npy is known by its magic too: one named .index was sent by readIndex's message to convert, which refused it.
  const vf = vectorFormatOf(path) ?? ((await hasNpyMagic(source)) ? 'npy' : undefined);
  if (vf) {
    const layout = await inspectVectors(source, { format: vf, dim, label: path });
    return { d: layout.d, n: layout.n, metric: undefined, rows: (firstRow, rowCount) => streamVectors(source, layout, { firstRow, rowCount }) };
  }
  // A FAISS file: the types that store their vectors as they are.
  const r = new ByteReader(source, 0, path);
  const fourcc = await r.fourcc('a FAISS fourcc (4 bytes, e.g. "IxFI")');
  let format: FaissFormat;
  try {
    format = faissFormat(fourcc, path);
  } catch (e) {
    // FAISS fourccs start with "I": other bytes are likely vectors in a file whose name does not say so
    if (fourcc.startsWith('I')) throw e;
    throw new TesseraError(
      'UNSUPPORTED',
      `${path}: not a FAISS index (its first bytes ${showFourcc(fourcc)} are no FAISS fourcc) nor a vector file convert knows by its name: name it .npy, .fvecs, or .f32 for raw float32 rows (then give --dim D)`,
    );
  }
  if (format.kind === 'flat') {
    const layout = await readFlatLayout(source, 0, path);
    return { d: layout.d, n: layout.ntotal, metric: layout.metric, rows: (firstRow, rowCount) => streamFlatRows(source, layout, { firstRow, rowCount, label: path }) };
  }
  if (fourcc === HNSW_FLAT_FOURCC) {
    // Its storage is a flat index inside the file, rows in label order; the graph is skipped unread.
    const { storage, metric } = await readHnswSummary(r);
    return { d: storage.d, n: storage.ntotal, metric, rows: (firstRow, rowCount) => streamFlatRows(source, storage, { firstRow, rowCount, label: path }) };
  }
  if (fourcc === IVF_FLAT_FOURCC) {
    const layout = await readIvfLayout(r, fourcc);
    const rowAt = await readIvfRowOffsets(source, layout, { label: path, onProgress });
    return { d: layout.d, n: layout.ntotal, metric: layout.metric, rows: (firstRow, rowCount) => streamIvfRows(source, layout, rowAt, { firstRow, rowCount, label: path }) };
  }
  // Named from the fourcc alone: the reason (codes, not vectors) needs nothing more of the file.
  throw new TesseraError(
    'UNSUPPORTED',
    `${path} is an ${format.type}, whose vectors are 8-bit codes: convert reads the types that store vectors exactly (flat IndexFlatIP/L2, IndexHNSWFlat, IndexIVFFlat) ` +
      'or vector files (.npy, .fvecs, .f32); converting codes would add a second rounding: convert from the original flat file or vectors',
  );
}

/**
 * The rows, each checked finite as it streams, by its row in the input: a Flat output was written
 * with a NaN that readIndex then refused, and the other outputs named the row of an add chunk or of
 * the training sample, not of the file.
 */
function finiteRows(input: RowInput, path: string): RowInput {
  return {
    ...input,
    async *rows(first, count) {
      for await (const c of input.rows(first, count)) {
        checkFileRows(c.data, input.d, c.start, path);
        yield c;
      }
    },
  };
}

/**
 * An evenly spread sample of m rows: rows floor(j n / m), all of them when m >= n (FAISS trains SQ8
 * on every row it is given: its ranges must cover every vector). A dense sample (m >= n / 2) is one
 * pass over the rows; a sparse one reads blocks of 16 consecutive rows spread over the file.
 */
async function sampleRows(input: RowInput, m: number, onProgress?: ProgressCallback): Promise<Float32Array> {
  const { d, n } = input;
  if (m >= n) m = n;
  const out = new Float32Array(m * d);
  let filled = 0;
  // A sparse sample reported its first 4096 rows only once read: the phase started late.
  onProgress?.({ phase: 'reading training sample', done: 0, total: m, unit: 'rows' });
  if (2 * m >= n) {
    for await (const c of input.rows(0, n)) {
      for (let i = 0; i < c.count && filled < m; i++) {
        if (c.start + i !== Math.floor((filled * n) / m)) continue;
        out.set(c.data.subarray(i * d, (i + 1) * d), filled * d);
        filled++;
      }
      onProgress?.({ phase: 'reading training sample', done: filled, total: m, unit: 'rows' });
    }
    return out;
  }
  // Blocks start n / blocks > 16 rows apart (m < n / 2), so none overlaps the next.
  const block = Math.min(16, m);
  const blocks = Math.ceil(m / block);
  for (let b = 0; b < blocks && filled < m; b++) {
    const first = Math.min(n - block, Math.floor((b * n) / blocks));
    const count = Math.min(block, m - filled);
    for await (const c of input.rows(first, count)) {
      out.set(c.data, filled * d);
      filled += c.count;
    }
    if ((b & 255) === 255 || b === blocks - 1) onProgress?.({ phase: 'reading training sample', done: filled, total: m, unit: 'rows' });
  }
  return out;
}

/**
 * Build options the output type has no use for, each as a note naming the types that take it:
 * `--nprobe 64` on an HNSW output, or `--ef-construction` on an IVF one, were ignored without a word.
 */
function unusedOptions(o: ConvertOptions, kind: string): string[] {
  const uses: [keyof ConvertOptions, string, string[]][] = [
    ['efConstruction', '--ef-construction', ['hnsw']],
    ['efSearch', '--ef-search', ['hnsw']],
    ['nprobe', '--nprobe', ['ivf']],
    ['trainSize', '--train-size', ['ivf', 'sq']],
    ['seed', '--seed', ['hnsw', 'ivf']],
  ];
  const names: Record<string, string> = { hnsw: 'HNSW<M>', ivf: 'IVF<nlist>,...', sq: 'SQ8' };
  return uses
    .filter(([key, , kinds]) => o[key] !== undefined && !kinds.includes(kind))
    .map(([, flag, kinds]) => `${flag} does nothing for --index-type ${o.indexType} (only ${kinds.map((k) => names[k]).join(' and ')} outputs take it): ignored`);
}

/**
 * Refuses an --out that is the input file (the same path, or a link to it): the output was renamed
 * over it, and a vector file (.npy, .fvecs, .f32) was replaced by a FAISS index.
 */
async function checkOutIsNotInput(input: string, output: string): Promise<void> {
  const [a, b] = await Promise.all([stat(input).catch(() => undefined), stat(output).catch(() => undefined)]);
  if (a && b && a.dev === b.dev && a.ino === b.ino) {
    throw new TesseraError('INVALID_ARGUMENT', `--out ${output} is the input file --in ${input}: converting would replace it; give --out another path`);
  }
}

/**
 * Opens --out for writing as the save will (a temp file beside it) and removes that again: an --out
 * in a missing or read-only directory, or one that is a directory, failed only at the save, after
 * hours of training and adds. Not kept open: an interrupted convert would leave the temp file.
 */
async function checkOutWritable(output: string): Promise<void> {
  const probe = await openSink(output);
  await (probe as { abort?: () => Promise<void> }).abort?.();
}

/** Builds `indexType` from the rows of `input` and writes it to `output` (atomically). */
export async function convertIndex(o: ConvertOptions): Promise<ConvertResult> {
  const t0 = performance.now();
  const spec = parseFactoryString(o.indexType);
  // Reported and built as FAISS spells it: "IVF8, SQ8" as typed was reported so.
  const indexType = factoryDescription(spec);
  const ignored = unusedOptions(o, spec.kind);
  await checkOutIsNotInput(o.input, o.output);
  // A convert killed while writing (kill -9, the OOM killer in a large build) left its hidden temp
  // file beside --out, up to the whole index; no later write reuses it.
  await removeLeftoversOf(o.output, o.say);
  const source = await openFileSource(o.input);
  let index: Index | undefined;
  try {
    const input = finiteRows(await openRows(source, o.input, o.dim, o.onProgress), o.input);
    const metric = o.metric ?? input.metric ?? 'ip';
    const { d, n } = input;
    // Vector files check --dim themselves; a FAISS file's dimension is in its header, and a --dim
    // that differs (a user's guess at what the file holds) was ignored without a word.
    if (o.dim !== undefined && d !== o.dim) {
      throw new TesseraError('INVALID_ARGUMENT', `${o.input}: holds vectors of dimension ${d}, but --dim ${o.dim} was given: drop --dim (a FAISS file names its dimension) or fix it`);
    }
    if (n === 0) throw new TesseraError('INVALID_ARGUMENT', `${o.input} holds no vectors: nothing to convert`);
    await checkOutWritable(o.output);
    if (spec.kind === 'flat') {
      await writeFlatIndex(o.output, d, metric, n, (async function* () {
        for await (const c of input.rows(0, n)) yield c.data;
      })(), { onProgress: o.onProgress, phase: 'writing flat index' });
      return { d, ntotal: n, metric, description: 'Flat', shards: 1, trainRows: 0, seconds: (performance.now() - t0) / 1000, ignored };
    }
    // Rows added so far: an HNSW add reports its graph build per call (0 to that chunk's rows), which
    // counted as a phase of its own, a bar (a log line) per chunk that restarted at 0 and an add phase
    // 'done in 0.00 s'; those events carry on the add's count instead.
    let done = 0;
    const addPhase = `adding to ${indexType}`;
    const opts = {
      backend: 'wasm' as const,
      threads: o.threads,
      seed: o.seed,
      efConstruction: o.efConstruction,
      efSearch: o.efSearch,
      nprobe: o.nprobe,
      // k-means reports its own progress; adds are reported below per chunk, the HNSW graph within it
      onProgress:
        o.onProgress &&
        ((e: Parameters<ProgressCallback>[0]) => {
          if (e.phase === 'k-means') o.onProgress!(e);
          else if (e.phase === 'building HNSW graph' && e.done < (e.total ?? 0)) o.onProgress!({ phase: addPhase, done: done + e.done, total: input.n, unit: 'vectors' });
        }),
    };
    // with the threads the build gets: an HNSW instance keeps a visited byte per vector for each
    const plan = planShards({ description: indexType, d, ntotal: n, shardBytes: o.shardBytes, threads: o.threads });
    const shard = plan.shards.length > 1;
    if (shard && spec.kind === 'hnsw') {
      // HNSW shards are separate graphs (src/wasm/shards.ts): fine in memory, but one FAISS file holds one graph.
      // The limit is the plan's (--shard-bytes, and a visited byte a vector for each thread), not always 4 GiB.
      const limit = `${formatBytes(plan.shardBytes)}${o.shardBytes !== undefined ? ' (--shard-bytes)' : ''}`;
      const fewerThreads = (plan.threads ?? 1) > 1 && !needsShards(indexType, d, n, { shardBytes: o.shardBytes, threads: 1 }) ? ', fewer --threads (each keeps a visited byte a vector)' : '';
      const largerShards = o.shardBytes !== undefined && !needsShards(indexType, d, n, { threads: o.threads }) ? ', a larger --shard-bytes (4GiB fits it)' : '';
      throw new TesseraError('UNSUPPORTED', `${indexType} over ${n} vectors of d=${d} needs more than one WebAssembly memory of ${limit}, which holds ${plan.rowsPerShard} of them at ${plan.bytesPerVector} B each, i.e. several graphs, which one FAISS HNSW file cannot hold: use --index-type IVF4096,SQ8 (or SQ8)${largerShards}${fewerThreads}, or build it in memory with shardedIndex`);
    }
    index = shard ? shardedIndex(d, indexType, metric, { ...opts, shardBytes: o.shardBytes, expectedVectors: n }) : await indexFactory(d, indexType, metric, opts);
    let trainRows = 0;
    if (spec.kind === 'ivf' || spec.kind === 'sq') {
      const want = o.trainSize ?? defaultTrainSize(spec);
      if (spec.kind === 'ivf' && Math.min(want, n) < spec.nlist) {
        // Name what is short: the input, or the sample (--train-size, or the 262144 cap past nlist 262144).
        const short = n < spec.nlist ? `${o.input} has ${n}: use a smaller nlist` : `the sample is ${want} (--train-size): pass --train-size ${spec.nlist} or more, or use a smaller nlist`;
        throw new TesseraError('INVALID_ARGUMENT', `${indexType} needs at least nlist = ${spec.nlist} vectors to train, ${short} (FAISS recommends 39 x nlist or more)`);
      }
      const sample = await sampleRows(input, want, o.onProgress);
      trainRows = sample.length / d;
      await index.train(sample);
    }
    // Adds go in chunks of ~64k rows: bounded memory, and progress that moves.
    const chunkRows = Math.max(1024, Math.floor((64 << 20) / (4 * d)));
    o.onProgress?.({ phase: addPhase, done: 0, total: n, unit: 'vectors' });
    let pending: Float32Array[] = [];
    let pendingRows = 0;
    const flush = async () => {
      if (pendingRows === 0) return;
      const x = pending.length === 1 ? pending[0]! : concat(pending, pendingRows * d);
      await index!.add(x);
      done += pendingRows;
      pending = [];
      pendingRows = 0;
      o.onProgress?.({ phase: addPhase, done, total: n, unit: 'vectors' });
    };
    for await (const c of input.rows(0, n)) {
      pending.push(c.data);
      pendingRows += c.count;
      if (pendingRows >= chunkRows) await flush();
    }
    await flush();
    o.onProgress?.({ phase: 'writing index', done: 0, unit: 'files' });
    await index.save(o.output);
    o.onProgress?.({ phase: 'writing index', done: 1, total: 1, unit: 'files' });
    const shards = 'shardCount' in index ? (index as { shardCount: number }).shardCount : 1;
    return { d, ntotal: index.ntotal, metric, description: indexType, shards, trainRows, seconds: (performance.now() - t0) / 1000, ignored };
  } finally {
    await index?.dispose();
    await source.close();
  }
}

function concat(parts: Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface ConvertFlags {
  in: string;
  out: string;
  indexType: string;
  metric?: Metric;
  dim?: number;
  trainSize?: number;
  efConstruction?: number;
  efSearch?: number;
  nprobe?: number;
  threads?: number;
  seed?: number;
  shardBytes?: number;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('build a Flat / HNSW / IVF / SQ8 index (FAISS file) from a FAISS index holding its vectors (Flat, HNSW Flat, IVF Flat) or a vector file')
    .requiredOption('--in <file>', 'input: FAISS IndexFlatIP/L2, IndexHNSWFlat or IndexIVFFlat (ids 0..n-1), or .npy/.fvecs/.f32 vectors')
    .requiredOption('--out <file>', 'output FAISS index file (written atomically)')
    .requiredOption('--index-type <type>', 'FAISS factory string: HNSW32, HNSW64,Flat, IVF4096,Flat, IVF4096,SQ8, SQ8, Flat')
    .option('--metric <ip|l2>', 'metric of the output (default: the input file\'s; ip for vector files)', (v: string) => {
      // A parser error as every other option's (exit code 1, the option named), not a TesseraError (2).
      if (v !== 'ip' && v !== 'l2') throw new InvalidArgumentError(`--metric must be ip or l2 (for cosine, L2-normalise the vectors and use ip), got ${JSON.stringify(v)}`);
      return v as Metric;
    })
    .option('--dim <d>', 'dimension of a raw .f32 input', intOption('--dim', 1))
    .option('--train-size <n>', 'training vectors to sample (default: IVF 256 x nlist, as FAISS keeps for k-means, at most 262144; SQ8 262144)', intOption('--train-size', 1))
    .option('--ef-construction <n>', 'HNSW efConstruction (FAISS default 40)', intOption('--ef-construction', 1))
    .option('--ef-search <n>', 'HNSW efSearch stored in the file (FAISS default 16)', intOption('--ef-search', 1))
    .option('--nprobe <n>', 'IVF nprobe stored in the file (FAISS default 1)', intOption('--nprobe', 1))
    .option('--threads <n>', 'worker threads (default: all cores, at most 256)', intOption('--threads', 1, MAX_THREADS))
    // The defaults said, as for --ef-construction: a user matching a FAISS build needs them
    // (k-means's is wasm/kmeans.ts's and ivf-index.ts's 1234; test/cli/convert-help checks both).
    .option('--seed <n>', `seed of IVF's k-means (its sample, first centroids and splits) and of HNSW levels (default: FAISS's, 1234 and ${HNSW_DEFAULTS.seed})`, intOption('--seed', 0))
    .option(
      '--shard-bytes <size>',
      'most bytes of one WebAssembly memory while building (default and at most 4GiB): a larger Flat, SQ8 or IVF index is built over several and still written as one FAISS file; HNSW is refused (one file holds one graph)',
      // Refused above 4GiB: planShards would cap it there without a word.
      bytesOptionAtMost(WASM_MEMORY_LIMIT, '4GiB', 'one WebAssembly memory holds at most 4GiB; a larger index is built over several of them anyway'),
    )
    .option('--quiet', 'no progress output')
    // The library's errors in the CLI's words: a --shard-bytes too small for one vector said "raise shardBytes".
    .action(inCliWords(async (flags: ConvertFlags) => {
      const r = await convertIndex({
        input: flags.in,
        output: flags.out,
        indexType: flags.indexType,
        metric: flags.metric,
        dim: flags.dim,
        trainSize: flags.trainSize,
        efConstruction: flags.efConstruction,
        efSearch: flags.efSearch,
        nprobe: flags.nprobe,
        threads: flags.threads,
        seed: flags.seed,
        shardBytes: flags.shardBytes,
        onProgress: progressBars(flags.quiet),
        say,
      });
      // Said even with --quiet: a flag that had no effect is something the user wants to know.
      for (const note of r.ignored) say(note);
      if (!flags.quiet) {
        say(
          `wrote ${flags.out}: ${r.description}, ${r.ntotal} x ${r.d} (${r.metric})` +
            (r.trainRows ? `, trained on ${r.trainRows} vectors` : '') +
            (r.shards > 1 ? `, built over ${r.shards} WebAssembly shards` : '') +
            `, ${r.seconds.toFixed(1)} s`,
        );
      }
    }));
}

