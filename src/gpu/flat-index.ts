/**
 * GpuFlatIndex: exact (f32) or compressed (f16, int8 + exact re-rank) flat search on one or more
 * WebGPU devices. Rows are sharded across devices in contiguous runs; each shard searches its own
 * tiles and the host merges the shards' top-k (core/topk mergeResults).
 */
import { TesseraError, formatBytes } from '../core/errors.js';
import type { IndexOptions, IndexSpec } from '../core/factory.js';
import { type FlatPlan, planFlat, type PrecisionChoice, rowBytes, tempBytes } from '../core/planner.js';
import { concatResults, mergeResults, worstDistance } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { checkDimension, checkMetric, checkSearch, checkVectors, MAX_K } from '../core/validate.js';
import { readFlatLayout, streamFlatRows, writeFlatIndex } from '../io/faiss/flat.js';
import { acquireDevice, type GpuContext } from './device.js';
import { DIMS_PER_WORD, EMPTY_ID, FlatShard, MAX_BATCH, type Precision } from './flat-shard.js';
import { fromHalfBits, toHalfBits } from './half.js';
import { trainSq } from './tensor/quantize.js';

/** Options of the GPU flat index beyond IndexOptions (tests and benchmarks shrink tiles with them). */
export interface GpuFlatOptions extends IndexOptions {
  /** Largest tile in bytes (default: the device's maxStorageBufferBindingSize). */
  maxTileBytes?: number;
  /** Budget of one scores chunk in bytes (default 256 MiB, at most the binding limit). */
  scratchBytes?: number;
  /** int8: candidates re-ranked exactly per query, as a multiple of k (default 4, at least k + 16). */
  rerankFactor?: number;
  /** Devices to open on each GPU object (CI shards across several devices of one software adapter). */
  devicesPerGpu?: number;
  /** Bytes per chunk read from the file while loading (default 64 MiB). */
  loadChunkBytes?: number;
  /** Tests: fill scratch buffers with a poison pattern before every search, so unwritten output shows. */
  debugPoison?: boolean;
  /** Tests: use the kernels for adapters without subgroups even where the adapter has them. */
  noSubgroups?: boolean;
}

const DEFAULT_SCRATCH = 256 * 1024 * 1024;

/** A run of consecutive global ids stored at consecutive local rows of one shard. */
interface Run {
  shard: number;
  local: number;
  global: number;
  count: number;
}

export class GpuFlatIndex implements Index {
  readonly backend = 'gpu' as const;
  readonly description = 'Flat';
  readonly isTrained = true;
  private shards: FlatShard[];
  private runs: Run[] = [];
  private total = 0;
  private disposed = false;
  /** int8: per-dimension decode parameters, fixed by the first add. */
  private sq: { vmin: Float32Array; step: Float32Array } | undefined;
  /** int8: the float32 rows kept on the host for exact re-ranking, in add order. */
  private host: Float32Array[] = [];

  private constructor(
    readonly d: number,
    readonly metric: Metric,
    readonly precision: Precision,
    private readonly contexts: GpuContext[],
    private readonly opts: GpuFlatOptions,
  ) {
    this.shards = contexts.map(
      (ctx) => new FlatShard(ctx, { d, metric, precision, maxTileBytes: opts.maxTileBytes, scratchBytes: opts.scratchBytes, debugPoison: opts.debugPoison, noSubgroups: opts.noSubgroups }),
    );
  }

  /** Opens the devices (opts.gpus, else opts.gpu, else the runtime's) and makes an empty index. */
  static async create(d: number, metric: Metric, opts: GpuFlatOptions = {}, n = 0): Promise<GpuFlatIndex> {
    checkDimension(d);
    checkMetric(metric);
    const contexts = await openDevices(opts);
    try {
      const plan = planFor(contexts, d, n, opts.precision ?? 'f32', opts);
      const index = new GpuFlatIndex(d, metric, plan.precision, contexts, opts);
      index.plan = plan;
      return index;
    } catch (e) {
      for (const c of contexts) c.destroy();
      throw e;
    }
  }

  /** The plan of the last create/add/load (bytes per adapter, tiles, temp bytes). */
  plan: FlatPlan | undefined;

  get ntotal(): number {
    return this.total;
  }

  /** Devices holding shards, in shard order. */
  get deviceCount(): number {
    return this.shards.length;
  }

  /** Tiles per shard (for tests and reports). */
  get tilesPerShard(): number[] {
    return this.shards.map((s) => s.tileCount);
  }

  /** Benchmarks: GPU timestamps around each search; false when the adapter lacks timestamp-query. */
  enableTimestamps(): boolean {
    return this.shards.every((s) => s.enableTimestamps());
  }

  /** Milliseconds of GPU time since the last call (the slowest shard), with enableTimestamps. */
  takeGpuMs(): number {
    const ms = Math.max(...this.shards.map((s) => s.gpuNs)) / 1e6;
    for (const s of this.shards) s.gpuNs = 0;
    return ms;
  }

  /** Largest k one search accepts. */
  get kLimit(): number {
    return Math.min(...this.shards.map((s) => s.kLimit));
  }

  private check(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this GPU index was disposed: create or load a new one');
    for (const c of this.contexts) c.check();
  }

  async train(x: Float32Array): Promise<void> {
    this.check();
    checkVectors(x, this.d, 'training vectors');
  }

  async add(x: Float32Array): Promise<void> {
    this.check();
    const n = checkVectors(x, this.d, 'vectors to add');
    await this.addRows(x, n);
  }

  /** Appends n rows without input checks (the loader's path: FAISS files hold what FAISS wrote). */
  async addRows(x: Float32Array, n: number): Promise<void> {
    if (n === 0) return;
    // Refuse before allocating: the planner checks the grown index against stated memory.
    this.plan = planFor(this.contexts, this.d, this.total + n, this.precision, this.opts);
    if (this.precision === 'int8') {
      this.sq ??= trainSq(x, n, this.d);
      if (this.host.length === 0) await Promise.all(this.shards.map((s) => s.setSq(this.sq!.vmin, this.sq!.step)));
      this.host.push(x.slice(0, n * this.d));
    }
    // Contiguous runs, topping shards up towards an even share of the new total.
    const share = Math.ceil((this.total + n) / this.shards.length);
    let done = 0;
    for (let s = 0; s < this.shards.length && done < n; s++) {
      const shard = this.shards[s]!;
      const take = s === this.shards.length - 1 ? n - done : Math.min(n - done, Math.max(0, share - shard.ntotal));
      if (take === 0) continue;
      const rows = this.encode(x.subarray(done * this.d, (done + take) * this.d), take);
      this.runs.push({ shard: s, local: shard.ntotal, global: this.total + done, count: take });
      await shard.add(rows);
      done += take;
    }
    this.total += n;
  }

  private encode(x: Float32Array, n: number): Uint32Array {
    const d = this.d;
    const words = Math.ceil(d / DIMS_PER_WORD[this.precision]) * 4;
    // f32 rows that need no padding go to the GPU as they are: no copy (the loader's hot path).
    if (this.precision === 'f32' && words === d && x.byteOffset % 4 === 0) return new Uint32Array(x.buffer, x.byteOffset, n * d);
    const out = new Uint32Array(n * words);
    if (this.precision === 'f32') {
      const f = new Float32Array(out.buffer);
      if (words === d) f.set(x.subarray(0, n * d));
      else for (let i = 0; i < n; i++) f.set(x.subarray(i * d, (i + 1) * d), i * words);
    } else if (this.precision === 'f16') {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const h = toHalfBits(x[i * d + j]!);
          out[i * words + (j >>> 1)]! |= (j & 1 ? h << 16 : h) >>> 0;
        }
      }
    } else {
      const bytes = new Uint8Array(out.buffer);
      const { vmin, step } = this.sq!;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const s = step[j]!;
          const c = s > 0 ? Math.round((x[i * d + j]! - vmin[j]!) / s) : 0;
          bytes[i * words * 4 + j] = c < 0 ? 0 : c > 255 ? 255 : c;
        }
      }
    }
    return out;
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.check();
    // k beyond ntotal only pads with -1, so the GPU's selection limit applies to min(k, ntotal).
    const nq = checkSearch(q, k, this.d, this.total, this.total <= this.kLimit ? MAX_K : this.kLimit);
    const want =
      this.precision === 'int8'
        ? Math.min(this.kLimit, this.total, Math.max(k + 16, Math.ceil(k * (this.opts.rerankFactor ?? 4))))
        : k;
    const parts: SearchResult[] = [];
    // Larger query sets go through in batches so temporary memory stays what the planner counted.
    for (let q0 = 0; q0 < nq; q0 += MAX_BATCH) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      const nqb = Math.min(MAX_BATCH, nq - q0);
      const batch = q.subarray(q0 * this.d, (q0 + nqb) * this.d);
      const found = await this.searchShards(batch, nqb, Math.min(want, this.total));
      parts.push(this.precision === 'int8' ? this.rerank(batch, nqb, found, k) : pad(found, k, this.metric));
    }
    return parts.length === 1 ? parts[0]! : concatResults(parts, k);
  }

  private async searchShards(q: Float32Array, nq: number, k: number): Promise<SearchResult> {
    const q4 = this.shards[0]!.q4;
    const padded = new Float32Array(nq * q4 * 4);
    for (let i = 0; i < nq; i++) padded.set(q.subarray(i * this.d, (i + 1) * this.d), i * q4 * 4);
    const results = await Promise.all(
      this.shards.map(async (shard, s) => (shard.ntotal === 0 ? undefined : this.toGlobal(s, await shard.search(padded, nq, Math.min(k, shard.ntotal))))),
    );
    this.check();
    const present = results.filter((r): r is SearchResult => r !== undefined);
    return present.length === 1 ? present[0]! : mergeResults(present, k, this.metric);
  }

  /** Shard-local keys/ids -> distances and global labels. */
  private toGlobal(s: number, r: { nq: number; k: number; keys: Float32Array; ids: Uint32Array }): SearchResult {
    const runs = this.runs.filter((x) => x.shard === s);
    const distances = new Float32Array(r.nq * r.k);
    const labels = new BigInt64Array(r.nq * r.k);
    const worst = worstDistance(this.metric);
    for (let i = 0; i < r.ids.length; i++) {
      const id = r.ids[i]!;
      if (id === EMPTY_ID) {
        labels[i] = -1n;
        distances[i] = worst;
        continue;
      }
      let lo = 0;
      let hi = runs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (runs[mid]!.local <= id) lo = mid;
        else hi = mid - 1;
      }
      const run = runs[lo]!;
      labels[i] = BigInt(run.global + (id - run.local));
      distances[i] = this.metric === 'ip' ? r.keys[i]! : -r.keys[i]!;
    }
    return { nq: r.nq, k: r.k, distances, labels };
  }

  /**
   * Where int8 re-ranking reads exact float32 rows: the host copies kept by add/load, unless a
   * provider was set (benchmarks regenerate synthetic rows; a file-backed provider would read by offset).
   */
  private rowProvider: ((id: number, out: Float32Array) => void) | undefined;

  private hostRow(id: number, out: Float32Array): void {
    if (this.rowProvider) return this.rowProvider(id, out);
    const d = this.d;
    let start = 0;
    for (const h of this.host) {
      const n = h.length / d;
      if (id < start + n) {
        out.set(h.subarray((id - start) * d, (id - start + 1) * d));
        return;
      }
      start += n;
    }
    throw new TesseraError('INVALID_ARGUMENT', `row ${id} has no host copy for re-ranking`);
  }

  /** Exact distances of the int8 candidates from the host float32 rows; best k, ties to the lower id. */
  private rerank(q: Float32Array, nq: number, found: SearchResult, k: number): SearchResult {
    const d = this.d;
    const out = pad({ nq, k: 0, distances: new Float32Array(0), labels: new BigInt64Array(0) }, k, this.metric);
    const sign = this.metric === 'ip' ? -1 : 1;
    const row = new Float32Array(d);
    for (let qi = 0; qi < nq; qi++) {
      const cands: { id: number; dist: number }[] = [];
      for (let j = 0; j < found.k; j++) {
        const l = found.labels[qi * found.k + j]!;
        if (l < 0n) continue;
        const id = Number(l);
        this.hostRow(id, row);
        let s = 0;
        for (let t = 0; t < d; t++) {
          const a = q[qi * d + t]!;
          const b = row[t]!;
          s += this.metric === 'ip' ? a * b : (a - b) * (a - b);
        }
        cands.push({ id, dist: Math.fround(s) });
      }
      cands.sort((a, b) => sign * (a.dist - b.dist) || a.id - b.id);
      for (let j = 0; j < Math.min(k, cands.length); j++) {
        out.distances[qi * k + j] = cands[j]!.dist;
        out.labels[qi * k + j] = BigInt(cands[j]!.id);
      }
    }
    return out;
  }

  /**
   * Benchmarks: appends n synthetic unit-norm rows generated on the GPU (no upload). `hostRow`
   * regenerates row i on the host for int8 re-ranking; int8 codes use a fixed range of +-range.
   */
  async addGenerated(n: number, seed: number, hostRow: (id: number, out: Float32Array) => void, range = 1): Promise<void> {
    this.check();
    this.plan = planFor(this.contexts, this.d, this.total + n, this.precision, this.opts);
    if (this.precision === 'int8' && !this.sq) {
      this.sq = { vmin: new Float32Array(this.d).fill(-range), step: new Float32Array(this.d).fill((2 * range) / 255) };
      await Promise.all(this.shards.map((s) => s.setSq(this.sq!.vmin, this.sq!.step)));
    }
    this.rowProvider = hostRow;
    const share = Math.ceil(n / this.shards.length);
    let done = 0;
    for (let s = 0; s < this.shards.length && done < n; s++) {
      const take = Math.min(share, n - done);
      const shard = this.shards[s]!;
      this.runs.push({ shard: s, local: shard.ntotal, global: this.total + done, count: take });
      await shard.addGenerated(take, seed, this.total + done);
      done += take;
    }
    this.total += n;
  }

  /** Rows [start, start + count) in float32 (f16: decoded; int8: the host copy). */
  private async rows(start: number, count: number): Promise<Float32Array> {
    const d = this.d;
    const out = new Float32Array(count * d);
    if (this.precision === 'int8') {
      let at = 0;
      for (const h of this.host) {
        const n = h.length / d;
        const lo = Math.max(start, at);
        const hi = Math.min(start + count, at + n);
        if (lo < hi) out.set(h.subarray((lo - at) * d, (hi - at) * d), (lo - start) * d);
        at += n;
      }
      return out;
    }
    for (const run of this.runs) {
      const lo = Math.max(start, run.global);
      const hi = Math.min(start + count, run.global + run.count);
      if (lo >= hi) continue;
      const shard = this.shards[run.shard]!;
      const words = await shard.readRows(run.local + (lo - run.global), hi - lo);
      const wpr = shard.rowWords * 4;
      if (this.precision === 'f32') {
        const f = new Float32Array(words.buffer);
        for (let i = 0; i < hi - lo; i++) out.set(f.subarray(i * wpr, i * wpr + d), (lo - start + i) * d);
      } else {
        for (let i = 0; i < hi - lo; i++) {
          for (let j = 0; j < d; j++) {
            const w = words[i * wpr + (j >>> 1)]!;
            out[(lo - start + i) * d + j] = fromHalfBits(j & 1 ? w >>> 16 : w & 0xffff);
          }
        }
      }
    }
    return out;
  }

  /** Writes a FAISS IndexFlatIP / IndexFlatL2 file (f16 storage writes the decoded halves). */
  async save(target: string | ByteSink): Promise<void> {
    this.check();
    const chunkRows = Math.max(1, Math.floor((16 << 20) / (this.d * 4)));
    const self = this;
    async function* chunks(): AsyncGenerator<Float32Array> {
      for (let r = 0; r < self.total; r += chunkRows) yield await self.rows(r, Math.min(chunkRows, self.total - r));
    }
    await writeFlatIndex(target, this.d, this.metric, this.total, chunks(), { onProgress: this.opts.onProgress });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.shards) s.destroy();
    for (const c of this.contexts) c.destroy();
    this.shards = [];
    this.host = [];
  }

  /**
   * Streams a FAISS flat file into GPU tiles chunk by chunk; reports bytes through opts.onProgress.
   * Host memory stays bounded: one chunk is read while the previous one uploads, and every
   * UPLOAD_FENCE_BYTES the loader waits for the queue so Dawn's staging copies cannot pile up.
   */
  static async load(source: ByteSource, opts: GpuFlatOptions = {}): Promise<GpuFlatIndex> {
    const layout = await readFlatLayout(source);
    const index = await GpuFlatIndex.create(layout.d, layout.metric, { ...opts, precision: opts.precision ?? 'auto' }, layout.ntotal);
    try {
      const total = layout.ntotal * layout.rowBytes;
      const started = performance.now();
      const report = (done: number) => opts.onProgress?.({ phase: 'loading index to GPU', done, total, unit: 'bytes' });
      report(0);
      let sinceFence = 0;
      const chunkBytes = opts.loadChunkBytes ?? 64 << 20;
      const rows = streamFlatRows(source, layout, { chunkBytes });
      // Read-ahead of one chunk: the disk read of chunk i+1 overlaps the upload of chunk i.
      let next = rows.next();
      for (;;) {
        const it = await next;
        if (it.done) break;
        next = rows.next();
        const chunk = it.value;
        await index.addRows(chunk.data, chunk.count);
        sinceFence += chunk.count * layout.rowBytes;
        if (sinceFence >= UPLOAD_FENCE_BYTES) {
          sinceFence = 0;
          await Promise.all(index.contexts.map((c) => c.device.queue.onSubmittedWorkDone()));
        }
        report((chunk.start + chunk.count) * layout.rowBytes);
      }
      // Wait for the uploads so the reported time is the time to serve.
      await Promise.all(index.contexts.map((c) => c.device.queue.onSubmittedWorkDone()));
      await Promise.all(index.shards.map((sh) => sh.releaseStaging()));
      const seconds = (performance.now() - started) / 1000;
      index.loadStats = { bytes: total, seconds, gbPerSecond: total / 1e9 / Math.max(seconds, 1e-9) };
      index.check();
      return index;
    } catch (e) {
      await index.dispose();
      throw e;
    }
  }

  /** Bytes, seconds and GB/s of the last load (streaming + upload), for start-up reports. */
  loadStats: { bytes: number; seconds: number; gbPerSecond: number } | undefined;
}

/** Uploads between queue fences while loading: bounds Dawn's host-side staging memory. */
const UPLOAD_FENCE_BYTES = 512 << 20;

async function openDevices(opts: GpuFlatOptions): Promise<GpuContext[]> {
  const gpus: (GPU | undefined)[] = opts.gpus?.length ? [...opts.gpus] : [opts.gpu];
  const per = Math.max(1, opts.devicesPerGpu ?? 1);
  const contexts: GpuContext[] = [];
  try {
    for (const gpu of gpus) {
      for (let i = 0; i < per; i++) contexts.push(await acquireDevice({ gpu, label: `adapter ${contexts.length}` }));
    }
  } catch (e) {
    for (const c of contexts) c.destroy();
    throw e;
  }
  return contexts;
}

function planFor(contexts: GpuContext[], d: number, n: number, precision: PrecisionChoice, opts: GpuFlatOptions): FlatPlan {
  return planFlat({
    n,
    d,
    k: 100,
    maxBatch: MAX_BATCH,
    precision,
    scratchBytes: opts.scratchBytes ?? DEFAULT_SCRATCH,
    adapters: contexts.map((c) => ({
      label: c.label,
      maxBinding: Math.min(c.maxBinding, opts.maxTileBytes ?? Infinity),
      maxBuffer: c.maxBuffer,
      memoryBytes: opts.gpuMemory,
    })),
  });
}

/** Widens a result to k columns with -1 padding. */
function pad(r: SearchResult, k: number, metric: Metric): SearchResult {
  if (r.k === k) return r;
  const distances = new Float32Array(r.nq * k).fill(worstDistance(metric));
  const labels = new BigInt64Array(r.nq * k).fill(-1n);
  for (let q = 0; q < r.nq; q++) {
    for (let j = 0; j < Math.min(k, r.k); j++) {
      distances[q * k + j] = r.distances[q * r.k + j]!;
      labels[q * k + j] = r.labels[q * r.k + j]!;
    }
  }
  return { nq: r.nq, k, distances, labels };
}

/** Factory hook: indexFactory(d, "Flat", metric, {backend: 'gpu'}). */
export async function createGpuFlat(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<GpuFlatIndex> {
  if (spec.kind !== 'flat') throw new TesseraError('UNSUPPORTED', `the GPU backend serves Flat indexes, not ${spec.kind}`);
  return GpuFlatIndex.create(d, metric, opts);
}

export { formatBytes, rowBytes, tempBytes };
