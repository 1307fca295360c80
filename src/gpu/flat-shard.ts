/**
 * One device's part of a flat index: base rows in tiles (each within the device's storage-binding
 * limit), and exact search over them: flat_gemm per chunk, topk_select per segment, merge per query.
 * Temporary memory: queries + a scores chunk (bounded by `scratchBytes`) + nq x (1 + segments) x k pairs.
 */
import selectWgsl from '../../shaders/topk_select.wgsl';
import fillWgsl from '../../shaders/fill_random.wgsl';
import gemmWgsl from '../../shaders/flat_gemm.wgsl';
import gemvWgsl from '../../shaders/flat_gemv.wgsl';
import { TesseraError } from '../core/errors.js';
import type { Metric } from '../core/types.js';
import { BufferUsage, MapMode, type GpuContext } from './device.js';

export type Precision = 'f32' | 'f16' | 'int8';

/** Dimensions per 16-byte storage word, per precision. */
export const DIMS_PER_WORD: Record<Precision, number> = { f32: 4, f16: 8, int8: 16 };
const PREC_CODE: Record<Precision, number> = { f32: 0, f16: 1, int8: 2 };

export const SELECT_WG = 64;
/** Largest query batch per dispatch chain (larger batches are split). */
export const MAX_BATCH = 4096;
const UNIFORM_STRIDE = 256;
/** Upload staging: a ring of STAGING_SLOTS mapped buffers of STAGING_BYTES each (host memory stays bounded). */
const STAGING_BYTES = 16 << 20;
const STAGING_SLOTS = 4;
const EMPTY_ID = 0xffffffff;

/** Local (per-shard) results: keys are larger-is-better scores; ids 0xffffffff mark padding. */
export interface ShardResult {
  nq: number;
  k: number;
  keys: Float32Array;
  ids: Uint32Array;
}

export interface ShardLayout {
  d: number;
  metric: Metric;
  precision: Precision;
  /** Largest tile in bytes (<= the device's storage binding limit). */
  maxTileBytes?: number;
  /** Budget of the scores chunk in bytes. */
  scratchBytes?: number;
  /** Tests: poison scratch before every search. */
  debugPoison?: boolean;
  /** Tests: take the path for adapters without subgroups even where they exist. */
  noSubgroups?: boolean;
}

interface Tile {
  buffer: GPUBuffer;
  rows: number;
  capacity: number;
}

/** Rows per workgroup of flat_gemv (few queries, subgroups). */
const GEMV_ROWS = 64;

/** Batches of at least this many queries use the largest flat_gemm block (compute-bound). */
export const GEMM_MIN_BATCH = 32;

/**
 * Block shape of flat_gemm by batch size. Few queries: memory-bound, so every invocation owns one
 * row (256 rows a workgroup, loads coalesced through workgroup memory) and the query micro-tile is
 * small; many queries: compute-bound, 64 x 128 blocks of 4 x 8 micro-tiles.
 */
export function gemmShape(nq: number): { WX: number; WY: number; TR: number; TQ: number } {
  if (nq <= 4) return { WX: 256, WY: 1, TR: 1, TQ: 4 };
  if (nq <= 8) return { WX: 128, WY: 2, TR: 2, TQ: 4 };
  if (nq < GEMM_MIN_BATCH) return { WX: 32, WY: 8, TR: 4, TQ: 4 };
  // 4 x 8 micro-tiles. 8 x 8 (TQ 8) halves the workgroup-memory reads per multiply-add but measured
  // slower on the H100 via Dawn/Vulkan (1M x 768, nq=1024: 97 ms against 76 ms), likely spills.
  return { WX: 16, WY: 16, TR: 8, TQ: 4 };
}

/** What a scorer may know about a shard (compile-time facts of its pipelines). */
export interface ShardInfo {
  d: number;
  metric: Metric;
  precision: Precision;
  /** vec4<u32> words per stored row. */
  rowWords: number;
  /** vec4<f32> per (zero-padded) query row. */
  q4: number;
  features: GPUSupportedFeatures;
  adapter?: GPUAdapter;
}

/**
 * The scoring step of flat search, pluggable: one dispatch that writes scores (nq x rows f32,
 * larger is better: ip = q.x, l2 = -|q-x|^2) for rows [rowStart, rowStart + rows) of one tile.
 * The pipeline's bind group 0 must match shaders/flat_gemm.wgsl: 0 params (uniform: nq, rows,
 * rowStart, rowWords, q4), 1 base tile (array<vec4<u32>>), 2 queries (nq x q4 vec4<f32>), 3 sq
 * decode params (int8: vmin[q4 vec4] then step[q4 vec4]), 4 scores. The dispatch is
 * (ceil(rows / BR), ceil(nq / BQ)). Per-segment top-k selection and the merge stay as they are.
 * The tensor-core int8 scorer (src/gpu/tensor/) registers here.
 */
export interface ChunkScorer {
  name: string;
  accepts(shard: ShardInfo, nq: number): boolean;
  /** Workgroup footprint and a cache key of the compile-time facts the pipeline depends on. */
  shape(shard: ShardInfo, nq: number): { BR: number; BQ: number; key: string };
  pipeline(device: GPUDevice, shard: ShardInfo, nq: number): GPUComputePipeline;
}

const chunkScorers: ChunkScorer[] = [];

/** Registers a scorer, tried before the built-in ones (latest first). */
export function registerChunkScorer(scorer: ChunkScorer): void {
  chunkScorers.unshift(scorer);
}


/** Largest power-of-two candidate list that fits the device's workgroup memory. */
export function maxSelectK(maxWorkgroupStorage: number): number {
  let kp = 2 * SELECT_WG;
  while ((2 * kp) * 16 + 16 <= maxWorkgroupStorage) kp *= 2;
  return kp;
}

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

export class FlatShard {
  readonly rowWords: number;
  readonly rowBytes: number;
  readonly q4: number;
  readonly rowsPerTile: number;
  readonly kLimit: number;
  private tiles: Tile[] = [];
  private pipelines = new Map<string, GPUComputePipeline>();
  private sqBuffer: GPUBuffer | undefined;
  private scratch: { scores?: GPUBuffer; cand?: GPUBuffer; queries?: GPUBuffer; readback?: GPUBuffer; uniforms?: GPUBuffer } = {};
  private scratchBytes: number;
  ntotal = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly layout: ShardLayout,
  ) {
    const dpw = DIMS_PER_WORD[layout.precision];
    this.rowWords = Math.ceil(layout.d / dpw);
    this.rowBytes = this.rowWords * 16;
    this.q4 = (this.rowWords * dpw) / 4;
    const tileLimit = Math.min(ctx.maxBinding, ctx.maxBuffer, layout.maxTileBytes ?? Infinity);
    this.rowsPerTile = Math.floor(tileLimit / this.rowBytes);
    if (this.rowsPerTile < 1) {
      throw new TesseraError('UNSUPPORTED', `one row of d=${layout.d} needs ${this.rowBytes} bytes, more than the device's storage binding limit ${tileLimit}`);
    }
    this.kLimit = maxSelectK(ctx.maxWorkgroupStorage);
    this.scratchBytes = Math.min(layout.scratchBytes ?? 256 * 1024 * 1024, ctx.maxBinding);
  }

  /** Bytes held on the device for the base. */
  get baseBytes(): number {
    return this.tiles.reduce((s, t) => s + t.capacity * this.rowBytes, 0);
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  /** Per-dimension SQ decode parameters (int8): vmin[q4*4] then step[q4*4]. */
  async setSq(vmin: Float32Array, step: Float32Array): Promise<void> {
    const dp = this.q4 * 4;
    const data = new Float32Array(2 * dp);
    data.set(vmin.subarray(0, Math.min(vmin.length, dp)), 0);
    data.set(step.subarray(0, Math.min(step.length, dp)), dp);
    this.sqBuffer?.destroy();
    this.sqBuffer = await this.ctx.createBuffer({ label: 'tessera sq params', size: data.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    this.ctx.device.queue.writeBuffer(this.sqBuffer, 0, data);
  }

  /**
   * Makes room for n more rows: allocates (or grows) every tile they need before anything is
   * written, so an allocation refused by the device leaves the shard as it was.
   */
  private async reserve(n: number, exact = false): Promise<{ tile: Tile; rowStart: number; count: number }[]> {
    const parts: { tile: Tile; rowStart: number; count: number }[] = [];
    let done = 0;
    let t = this.tiles.length - 1;
    const fresh: Tile[] = [];
    try {
      while (done < n) {
        let tile = t >= 0 ? this.tiles[t] : undefined;
        const used = tile ? tile.rows + parts.filter((p) => p.tile === tile).reduce((a, p) => a + p.count, 0) : 0;
        if (!tile || used === this.rowsPerTile) {
          // Tiles start at the size asked for (exact: synthetic fills) or grow by doubling as rows come.
          const rows = Math.min(this.rowsPerTile, exact ? n - done : Math.max(n - done, 1024));
          const buffer = await this.allocTile(rows);
          tile = { buffer, rows: 0, capacity: buffer.size / this.rowBytes };
          fresh.push(tile);
          this.tiles.push(tile);
          t = this.tiles.length - 1;
          continue;
        }
        const take = Math.min(n - done, this.rowsPerTile - used);
        if (used + take > tile.capacity) await this.growTile(tile, used + take);
        parts.push({ tile, rowStart: used, count: take });
        done += take;
      }
    } catch (e) {
      for (const f of fresh) {
        f.buffer.destroy();
        this.tiles.splice(this.tiles.indexOf(f), 1);
      }
      throw e;
    }
    return parts;
  }

  /** Appends n encoded rows (n x rowWords x 4 u32). */
  async add(rows: Uint32Array): Promise<void> {
    this.ctx.check();
    const wordsPerRow = this.rowWords * 4;
    const n = rows.length / wordsPerRow;
    let done = 0;
    for (const p of await this.reserve(n)) {
      const part = rows.subarray(done * wordsPerRow, (done + p.count) * wordsPerRow);
      await this.upload(p.tile.buffer, p.rowStart * this.rowBytes, part);
      p.tile.rows += p.count;
      done += p.count;
    }
    this.ntotal += n;
  }

  /**
   * Copies words into a tile through a ring of reused, mapped staging buffers: large loads then
   * touch no fresh host memory per chunk (queue.writeBuffer allocates staging for every call,
   * which measured ~0.4 GB/s for a 3 GB load on the H100 machine). Small writes use writeBuffer.
   */
  private async upload(dst: GPUBuffer, offset: number, words: Uint32Array): Promise<void> {
    const device = this.ctx.device;
    if (words.byteLength < STAGING_BYTES / 4) {
      device.queue.writeBuffer(dst, offset, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    for (let at = 0; at < words.byteLength; at += STAGING_BYTES) {
      const len = Math.min(STAGING_BYTES, words.byteLength - at);
      const slot = this.staging[this.stagingNext] ?? { buffer: await this.ctx.createBuffer({ label: 'tessera upload staging', size: STAGING_BYTES, usage: BufferUsage.MAP_WRITE | BufferUsage.COPY_SRC, mappedAtCreation: true }), ready: Promise.resolve() };
      this.staging[this.stagingNext] = slot;
      this.stagingNext = (this.stagingNext + 1) % STAGING_SLOTS;
      await slot.ready;
      new Uint8Array(slot.buffer.getMappedRange(0, len)).set(new Uint8Array(words.buffer, words.byteOffset + at, len));
      slot.buffer.unmap();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(slot.buffer, 0, dst, offset + at, len);
      device.queue.submit([enc.finish()]);
      // Re-mapped once the copy has run; the next use of this slot waits for it.
      slot.ready = slot.buffer.mapAsync(MapMode.WRITE).catch((e: unknown) => {
        throw this.ctx.fail(new TesseraError('DEVICE_LOST', `uploading rows to ${this.ctx.label} failed: ${(e as Error).message}`, { cause: e }));
      });
      // A slot nobody waits on again (the load ended, the device was lost) must not reject unhandled.
      slot.ready.catch(() => undefined);
    }
  }

  private staging: { buffer: GPUBuffer; ready: Promise<void> }[] = [];
  private stagingNext = 0;

  /** Frees the upload staging ring (after a load; later adds make it again). */
  async releaseStaging(): Promise<void> {
    for (const s of this.staging) {
      await s.ready.catch(() => undefined);
      s.buffer.destroy();
    }
    this.staging = [];
    this.stagingNext = 0;
  }

  /**
   * Appends n synthetic unit-norm rows generated on the GPU (shaders/fill_random.wgsl), row i being
   * generator row firstRow + i of `seed`. Benchmarks use it to skip uploading tens of GB.
   */
  async addGenerated(n: number, seed: number, firstRow: number): Promise<void> {
    this.ctx.check();
    const device = this.ctx.device;
    const sq = this.sqBuffer ?? (await this.dummySq());
    const pipeline = this.pipeline(`fill:${this.layout.precision}`, () =>
      device.createComputePipeline({
        label: 'fill_random',
        layout: 'auto',
        compute: { module: device.createShaderModule({ code: fillWgsl }), entryPoint: 'main', constants: { PREC: PREC_CODE[this.layout.precision] } },
      }),
    );
    let done = 0;
    for (const p of await this.reserve(n, true)) {
      for (let r = 0; r < p.count; r += 1 << 22) {
        const rows = Math.min(1 << 22, p.count - r);
        const uni = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
        device.queue.writeBuffer(uni, 0, new Uint32Array([rows, p.rowStart + r, firstRow + done + r, this.rowWords, this.layout.d, seed, this.q4, 0]));
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: uni } },
            { binding: 1, resource: { buffer: p.tile.buffer } },
            { binding: 2, resource: { buffer: sq } },
          ],
        }));
        const groups = Math.ceil(rows / 64);
        pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        uni.destroy();
      }
      p.tile.rows += p.count;
      done += p.count;
    }
    this.ntotal += n;
  }

  private async dummySq(): Promise<GPUBuffer> {
    this.sqBuffer = await this.ctx.createBuffer({ label: 'tessera sq params (unused)', size: 16, usage: BufferUsage.STORAGE });
    return this.sqBuffer;
  }

  private async allocTile(rows: number): Promise<GPUBuffer> {
    return this.ctx.createBuffer({
      label: `tessera base tile ${this.tiles.length}`,
      size: rows * this.rowBytes,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    });
  }

  /** Reallocates a tile with room for `need` rows (doubling, capped at a full tile), keeping its rows. */
  private async growTile(tile: Tile, need: number): Promise<void> {
    const capacity = Math.min(this.rowsPerTile, Math.max(need, 2 * tile.capacity));
    const bigger = await this.ctx.createBuffer({
      label: `tessera base tile ${this.tiles.indexOf(tile)}`,
      size: capacity * this.rowBytes,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    });
    const enc = this.ctx.device.createCommandEncoder();
    if (tile.rows > 0) enc.copyBufferToBuffer(tile.buffer, 0, bigger, 0, tile.rows * this.rowBytes);
    this.ctx.device.queue.submit([enc.finish()]);
    tile.buffer.destroy();
    tile.buffer = bigger;
    tile.capacity = capacity;
  }

  /** Reads rows [start, start + count) back as encoded words (for save). */
  async readRows(start: number, count: number): Promise<Uint32Array> {
    this.ctx.check();
    const out = new Uint32Array(count * this.rowWords * 4);
    const staging = await this.ctx.createBuffer({ label: 'tessera readback rows', size: Math.max(out.byteLength, 16), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      const enc = this.ctx.device.createCommandEncoder();
      let at = 0;
      let row = start;
      let tileStart = 0;
      for (const tile of this.tiles) {
        const tileEnd = tileStart + tile.rows;
        if (row < tileEnd && row < start + count) {
          const take = Math.min(tileEnd, start + count) - row;
          enc.copyBufferToBuffer(tile.buffer, (row - tileStart) * this.rowBytes, staging, at, take * this.rowBytes);
          at += take * this.rowBytes;
          row += take;
        }
        tileStart = tileEnd;
      }
      this.ctx.device.queue.submit([enc.finish()]);
      await this.map(staging);
      out.set(new Uint32Array(staging.getMappedRange(0, out.byteLength)));
      staging.unmap();
    } finally {
      staging.destroy();
    }
    return out;
  }

  private async map(buffer: GPUBuffer): Promise<void> {
    try {
      await buffer.mapAsync(MapMode.READ);
    } catch (e) {
      this.ctx.check();
      throw this.ctx.fail(new TesseraError('DEVICE_LOST', `reading results from ${this.ctx.label} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  private pipeline(key: string, make: () => GPUComputePipeline): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) this.pipelines.set(key, (p = make()));
    return p;
  }

  /**
   * The scoring step for a batch of nq queries: a registered ChunkScorer that accepts this shard
   * (e.g. the tensor-core int8 scorer), else flat_gemm with a block shape for the batch size
   * (gemmShape). Pipelines are cached by compile-time facts only; sizes are uniforms.
   */
  private scorer(nq: number): { pipeline: GPUComputePipeline; BR: number; BQ: number } {
    for (const s of chunkScorers) {
      if (s.accepts(this.info, nq)) {
        const shape = s.shape(this.info, nq);
        return { pipeline: this.pipeline(`ext:${s.name}:${shape.key}`, () => s.pipeline(this.ctx.device, this.info, nq)), BR: shape.BR, BQ: shape.BQ };
      }
    }
    const prec = PREC_CODE[this.layout.precision];
    const metric = this.layout.metric === 'ip' ? 0 : 1;
    if (nq <= 4 && this.ctx.hasSubgroups && !this.layout.noSubgroups) {
      // Memory-bound: one subgroup per row, coalesced, no barriers (flat_gemv.wgsl).
      const pipeline = this.pipeline(`gemv:${prec}:${metric}`, () =>
        this.ctx.device.createComputePipeline({
          label: `flat_gemv ${this.layout.precision} ${this.layout.metric}`,
          layout: 'auto',
          compute: { module: this.ctx.device.createShaderModule({ label: 'flat_gemv', code: gemvWgsl }), entryPoint: 'main', constants: { PREC: prec, METRIC: metric, RPW: GEMV_ROWS } },
        }),
      );
      // Queries beyond 4 never reach here; BQ = 4 makes the dispatch one workgroup row.
      return { pipeline, BR: GEMV_ROWS, BQ: 4 };
    }
    const g = gemmShape(nq);
    const pipeline = this.pipeline(`gemm:${prec}:${metric}:${g.WX}x${g.WY}x${g.TR}x${g.TQ}`, () =>
      this.ctx.device.createComputePipeline({
        label: `flat_gemm ${this.layout.precision} ${this.layout.metric} ${g.WX}x${g.WY} ${g.TR}x${g.TQ}`,
        layout: 'auto',
        compute: { module: this.ctx.device.createShaderModule({ label: 'flat_gemm', code: gemmWgsl }), entryPoint: 'main', constants: { PREC: prec, METRIC: metric, ...g } },
      }),
    );
    return { pipeline, BR: g.WX * g.TR, BQ: g.WY * g.TQ };
  }

  /** What a ChunkScorer may know about this shard. */
  get info(): ShardInfo {
    return { d: this.layout.d, metric: this.layout.metric, precision: this.layout.precision, rowWords: this.rowWords, q4: this.q4, features: this.ctx.device.features, adapter: this.ctx.adapter };
  }

  private selectPipeline(entry: 'select_scores' | 'merge_pairs', kp: number): GPUComputePipeline {
    return this.pipeline(`${entry}:${kp}`, () => {
      const module = this.ctx.device.createShaderModule({ label: 'topk_select', code: selectWgsl });
      return this.ctx.device.createComputePipeline({
        label: `${entry} KP=${kp}`,
        layout: 'auto',
        compute: { module, entryPoint: entry, constants: { KP: kp } },
      });
    });
  }

  /** A scratch buffer at least `size` bytes, reused across searches. */
  private async scratchBuffer(name: keyof FlatShard['scratch'], size: number, usage: number): Promise<GPUBuffer> {
    const have = this.scratch[name];
    if (have && have.size >= size) return have;
    have?.destroy();
    const b = await this.ctx.createBuffer({ label: `tessera scratch ${name}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.scratch[name] = b;
    return b;
  }

  /** Largest query batch and the chunk rows / segments used for it. */
  batchPlan(nq: number, k: number): { nqb: number; chunkRows: number; nseg: number } {
    const nqb = Math.min(nq, MAX_BATCH);
    const BR = 64; // the narrowest scorer: chunks stay within 65535 workgroups along rows
    const maxTileRows = Math.max(1, ...this.tiles.map((t) => t.rows));
    let chunkRows = Math.min(maxTileRows, Math.floor(this.scratchBytes / (nqb * 4)), 65535 * BR);
    chunkRows = Math.max(chunkRows, 1);
    const nseg = Math.max(1, Math.min(Math.ceil(2048 / nqb), Math.ceil(chunkRows / 1024)));
    void k;
    return { nqb, chunkRows, nseg };
  }

  /** Exact top-k of padded queries (nq x q4*4 f32) over this shard's rows. */
  async search(queries: Float32Array, nq: number, k: number): Promise<ShardResult> {
    this.ctx.check();
    const keys = new Float32Array(nq * k).fill(-Infinity);
    const ids = new Uint32Array(nq * k).fill(EMPTY_ID);
    if (this.ntotal === 0) return { nq, k, keys, ids };
    if (k > this.kLimit) {
      throw new TesseraError('INVALID_ARGUMENT', `k=${k} exceeds what ${this.ctx.label} selects on the GPU (${this.kLimit}): ask for fewer neighbours`);
    }
    const { nqb: maxB } = this.batchPlan(nq, k);
    for (let q0 = 0; q0 < nq; q0 += maxB) {
      const nqb = Math.min(maxB, nq - q0);
      const part = await this.searchBatch(queries.subarray(q0 * this.q4 * 4, (q0 + nqb) * this.q4 * 4), nqb, k);
      keys.set(part.keys, q0 * k);
      ids.set(part.ids, q0 * k);
    }
    return { nq, k, keys, ids };
  }

  private async searchBatch(queries: Float32Array, nqb: number, k: number): Promise<ShardResult> {
    const device = this.ctx.device;
    const { chunkRows, nseg } = this.batchPlan(nqb, k);
    const kp = Math.max(nextPow2(k), 2 * SELECT_WG);
    const qBuf = await this.scratchBuffer('queries', queries.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST);
    const scores = await this.scratchBuffer('scores', nqb * chunkRows * 4, BufferUsage.STORAGE);
    const candBytes = nqb * (1 + nseg) * k * 8;
    const cand = await this.scratchBuffer('cand', candBytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
    const readBytes = nqb * k * 8;
    const readback = await this.scratchBuffer('readback', readBytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    const sq = this.sqBuffer ?? (await this.dummySq());
    device.queue.writeBuffer(qBuf, 0, queries.buffer, queries.byteOffset, queries.byteLength);
    if (this.layout.debugPoison) {
      // A NaN key and an id no shard has: any pair the kernels fail to write stands out.
      const poison = new Uint32Array(cand.size / 4);
      for (let i = 0; i < poison.length; i += 2) { poison[i] = 0x7fbadbad; poison[i + 1] = 0xdeadbeef; }
      device.queue.writeBuffer(cand, 0, poison);
    }

    // One dispatch triple per chunk; params of each dispatch sit at their own 256-byte slot.
    const chunks: { tile: Tile; rowStart: number; rows: number; idBase: number }[] = [];
    let idBase = 0;
    for (const tile of this.tiles) {
      for (let r = 0; r < tile.rows; r += chunkRows) chunks.push({ tile, rowStart: r, rows: Math.min(chunkRows, tile.rows - r), idBase: idBase + r });
      idBase += tile.rows;
    }
    const uniforms = await this.scratchBuffer('uniforms', chunks.length * 3 * UNIFORM_STRIDE, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    const params = new Uint32Array((chunks.length * 3 * UNIFORM_STRIDE) / 4);
    const { pipeline: scoresPipe, BR, BQ } = this.scorer(nqb);
    const selectPipe = this.selectPipeline('select_scores', kp);
    const mergePipe = this.selectPipeline('merge_pairs', kp);
    const enc = device.createCommandEncoder({ label: 'tessera flat search' });
    chunks.forEach((c, i) => {
      const segLen = Math.ceil(Math.ceil(c.rows / nseg) / SELECT_WG) * SELECT_WG;
      const segUsed = Math.ceil(c.rows / segLen);
      const u0 = (i * 3 * UNIFORM_STRIDE) / 4;
      params.set([nqb, c.rows, c.rowStart, this.rowWords, this.q4], u0);
      const u1 = u0 + UNIFORM_STRIDE / 4;
      params.set([nqb, c.rows, segLen, nseg, k, c.idBase, 0, segUsed], u1);
      const u2 = u1 + UNIFORM_STRIDE / 4;
      params.set([nqb, c.rows, segLen, nseg, k, c.idBase, i > 0 ? 1 : 0, segUsed], u2);
      const uni = (slot: number): GPUBufferBinding => ({ buffer: uniforms, offset: (i * 3 + slot) * UNIFORM_STRIDE, size: 32 });
      const ts = this.timer;
      const pass = enc.beginComputePass(
        ts && (i === 0 || i === chunks.length - 1)
          ? { timestampWrites: { querySet: ts.set, ...(i === 0 ? { beginningOfPassWriteIndex: 0 } : {}), ...(i === chunks.length - 1 ? { endOfPassWriteIndex: 1 } : {}) } }
          : {},
      );
      pass.setPipeline(scoresPipe);
      pass.setBindGroup(0, device.createBindGroup({
        layout: scoresPipe.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: uni(0) },
          { binding: 1, resource: { buffer: c.tile.buffer, offset: 0, size: c.tile.capacity * this.rowBytes } },
          { binding: 2, resource: { buffer: qBuf, offset: 0, size: queries.byteLength } },
          { binding: 3, resource: { buffer: sq } },
          { binding: 4, resource: { buffer: scores, offset: 0, size: nqb * c.rows * 4 } },
        ],
      }));
      pass.dispatchWorkgroups(Math.ceil(c.rows / BR), Math.ceil(nqb / BQ));
      pass.setPipeline(selectPipe);
      pass.setBindGroup(0, device.createBindGroup({
        layout: selectPipe.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: uni(1) },
          { binding: 1, resource: { buffer: scores, offset: 0, size: nqb * c.rows * 4 } },
          { binding: 2, resource: { buffer: cand, offset: 0, size: candBytes } },
        ],
      }));
      pass.dispatchWorkgroups(segUsed, nqb);
      pass.setPipeline(mergePipe);
      pass.setBindGroup(0, device.createBindGroup({
        layout: mergePipe.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: uni(2) },
          { binding: 2, resource: { buffer: cand, offset: 0, size: candBytes } },
        ],
      }));
      pass.dispatchWorkgroups(Math.min(nqb, 65535), Math.ceil(nqb / 65535));
      pass.end();
    });
    enc.copyBufferToBuffer(cand, 0, readback, 0, readBytes);
    if (this.timer) {
      enc.resolveQuerySet(this.timer.set, 0, 2, this.timer.resolve, 0);
      enc.copyBufferToBuffer(this.timer.resolve, 0, this.timer.read, 0, 16);
    }
    device.queue.writeBuffer(uniforms, 0, params);
    device.queue.submit([enc.finish()]);
    await this.map(readback);
    if (this.timer) {
      await this.map(this.timer.read);
      const t = new BigUint64Array(this.timer.read.getMappedRange(0, 16).slice(0));
      this.timer.read.unmap();
      this.gpuNs += Number(t[1]! - t[0]!);
    }
    const pairs = new Uint32Array(readback.getMappedRange(0, readBytes).slice(0));
    readback.unmap();
    this.ctx.check();
    const keys = new Float32Array(nqb * k);
    const ids = new Uint32Array(nqb * k);
    const keyBits = new Uint32Array(keys.buffer);
    for (let i = 0; i < nqb * k; i++) {
      keyBits[i] = pairs[2 * i]!;
      ids[i] = pairs[2 * i + 1]!;
    }
    return { nq: nqb, k, keys, ids };
  }

  /** GPU timestamps around each search batch (profile mode, adapters with timestamp-query). */
  private timer: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | undefined;
  /** Nanoseconds of GPU time of the searches since the last resetGpuTime (profile mode). */
  gpuNs = 0;

  /** Turns GPU timestamps on; false when the adapter has no timestamp-query. */
  enableTimestamps(): boolean {
    if (!this.ctx.hasTimestamps) return false;
    const device = this.ctx.device;
    this.timer ??= {
      set: device.createQuerySet({ type: 'timestamp', count: 2 }),
      resolve: device.createBuffer({ size: 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC }),
      read: device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }),
    };
    return true;
  }

  destroy(): void {
    for (const st of this.staging) st.buffer.destroy();
    this.staging = [];
    if (this.timer) {
      this.timer.set.destroy();
      this.timer.resolve.destroy();
      this.timer.read.destroy();
      this.timer = undefined;
    }
    for (const t of this.tiles) t.buffer.destroy();
    this.tiles = [];
    for (const b of Object.values(this.scratch)) b?.destroy();
    this.scratch = {};
    this.sqBuffer?.destroy();
    this.sqBuffer = undefined;
    this.pipelines.clear();
  }
}

export { EMPTY_ID };
