/**
 * Int8TensorScorer: the best k' rows per query by int8 dot products of quantised queries against
 * int8 row codes on the GPU (src/gpu/tensor/quantize.ts), with the selection fused into the scoring
 * kernel so temporary memory is O(nq x segments x k'). On adapters with Dawn's subgroup matrices the
 * scores run on the tensor cores; elsewhere the same kernel scores with dot4I8Packed. The caller
 * re-ranks the k' candidates exactly (rerankExact) from float32 rows it keeps.
 */
import { TesseraError } from '../../core/errors.js';
import { BufferUsage, dispatchGrid, MapMode } from '../device.js';
import { type KernelChoice, type LayoutName, layoutFor, layoutShape, ROW_ALIGN } from './choose.js';
import { type MatrixQuirk, type MatrixSyntax, mergeSource, type SelectShape, selectSource, shapeKey, type StageOptions, tileOf, workgroupBytes } from './kernel-source.js';

export interface Int8ScorerOptions {
  /** Bytes per row on the GPU (paddedDim(d)). */
  dPad: number;
  /** Candidates returned per query (k'), at most 128. */
  kPrime: number;
  /** i8 x i8 (true, default) or u8 x u8 with row sums (false). */
  signed?: boolean;
  kernel: KernelChoice;
  /** The adapter's subgroupMaxSize (workgroups of the tensor kernel are multiples of it). */
  subgroupSize?: number;
  /** Layout syntax of subgroupMatrixLoad/Store in this Dawn (detectMatrixSyntax). */
  syntax?: MatrixSyntax;
  /** Driver reading of 8-bit subgroup matrices (default: the extension's semantics). */
  quirk?: MatrixQuirk;
  /** Workgroups one dispatch aims for (segments x query blocks); default 2048. */
  targetWorkgroups?: number;
  /** Tensor kernel only: stage rows through workgroup memory (kernel-source StageOptions). */
  stage?: StageOptions;
  /**
   * Rewrites the generated select kernel before it is compiled: tests run the staged tensor kernels
   * on an adapter without subgroup matrices this way (scalar emulation of the matrix calls).
   */
  sourceFilter?: (code: string) => string;
}

interface Tile {
  buffer: GPUBuffer;
  rowsum: GPUBuffer;
  rows: number;
  idBase: number;
}

/** A search of nq queries made ready to encode many times (benchmarks) or once. */
export interface PreparedSearch {
  readonly nq: number;
  readonly layout: LayoutName;
  /** Writes nq x dPad query bytes. */
  writeQueries(codes: Uint8Array): void;
  /** Encodes select (one dispatch a tile) and merge. */
  encode(encoder: GPUCommandEncoder): void;
  /** Submits once and reads nq x k' (key, id) back; ids -1 are empty. */
  run(): Promise<{ keys: Int32Array; ids: Int32Array }>;
  /** Bytes of temporary GPU memory this search holds. */
  readonly tempBytes: number;
  destroy(): void;
}

/**
 * The staged kernel's default layout for nq queries and k' candidates. On the H200: 64 x 32 tiles
 * ('large') fastest at every batch size with k' = 16 (run 3); 32 x 32 ('mid') with k' = 40 and 'row'
 * selection (run 4: 17.0 against 20.0 ms at 1024 queries, 1M rows; half the accumulators beside 2 k'
 * registers of lists). With 'mask' selection and prefetch (k' = 40, 1M rows, ms at 64 / 256 / 1024
 * queries): run 6 'mid' 3.19 / 4.01 / 12.74 and 3.27 / 3.99 / 11.84, 'large' 3.49 / 3.86 / 10.61 and
 * 3.22 / 3.84 / 10.49; gpu-tensor run 7 'mid' 3.69 / 4.60 / 11.78, 'large' 3.21 / 3.84 / 10.51:
 * 'large' from 256 queries (faster there in all three; at 64 two of three). k' = 32 is unmeasured;
 * it takes k' = 40's choice.
 */
export function stagedLayout(kPrime: number, masked: boolean, nq: number): LayoutName {
  return kPrime >= 32 && !(masked && nq >= 256) ? 'mid' : 'large';
}

export class Int8TensorScorer {
  readonly signed: boolean;
  readonly tiles: Tile[] = [];
  private pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private rows = 0;

  constructor(
    readonly device: GPUDevice,
    readonly opts: Int8ScorerOptions,
  ) {
    this.signed = opts.signed ?? true;
    if (opts.dPad % 32 !== 0) throw new TesseraError('INVALID_ARGUMENT', `dPad must be a multiple of 32, got ${opts.dPad}: use paddedDim(d)`);
    if (!(opts.kPrime >= 1 && opts.kPrime <= 128)) throw new TesseraError('INVALID_ARGUMENT', `kPrime must be 1..128, got ${opts.kPrime}`);
  }

  get ntotal(): number {
    return this.rows;
  }

  /** The shape the kernel uses for a layout. */
  shapeFor(layout: LayoutName): SelectShape {
    const c = this.opts.kernel.config;
    const shape: SelectShape = {
      kind: this.opts.kernel.kind,
      signed: this.signed,
      dPad: this.opts.dPad,
      m: c?.M ?? 16,
      n: c?.N ?? 16,
      k: c?.K ?? 32,
      ...layoutShape(layout),
      subgroupSize: this.opts.kernel.kind === 'mma' ? (this.opts.subgroupSize ?? 32) : 32,
      kp: this.opts.kPrime,
      syntax: this.opts.syntax ?? 'bool-arg',
      quirk: this.opts.quirk,
      stage: this.opts.kernel.kind === 'mma' ? this.opts.stage : undefined,
    };
    // 'mask' selection takes one list a query of i8 keys: two-list layouts ('wide') and u8 keep 'row'.
    if (shape.stage?.select === 'mask' && (tileOf(shape).lpi !== 1 || tileOf(shape).tpq !== 1 || !shape.signed)) shape.stage = { ...shape.stage, select: 'row' };
    return shape;
  }

  /**
   * Adds a tile of rows (ids continue from the last tile). codes: rows x dPad bytes from
   * encodeRows; rowsum: u8 mode only (rowSums). Without codes the buffer is left for the caller to
   * fill on the GPU (benchmarks): it is returned either way.
   */
  addTile(rows: number, codes?: Uint8Array, rowsum?: Int32Array): GPUBuffer {
    const dPad = this.opts.dPad;
    const padded = Math.ceil(rows / ROW_ALIGN) * ROW_ALIGN;
    const size = padded * dPad;
    const buffer = this.device.createBuffer({ label: `int8 tile ${this.tiles.length}`, size, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    if (codes) {
      if (codes.length < rows * dPad) throw new TesseraError('INVALID_ARGUMENT', `tile codes hold ${codes.length} bytes, need ${rows} x ${dPad}`);
      this.device.queue.writeBuffer(buffer, 0, codes as Uint8Array<ArrayBuffer>, 0, rows * dPad);
    }
    const rs = this.device.createBuffer({ label: 'int8 row sums', size: Math.max(16, padded * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    if (!this.signed) {
      if (!rowsum) throw new TesseraError('INVALID_ARGUMENT', 'u8 mode needs the row sums of the tile (rowSums)');
      this.device.queue.writeBuffer(rs, 0, rowsum as Int32Array<ArrayBuffer>, 0, rows);
    }
    this.tiles.push({ buffer, rowsum: rs, rows, idBase: this.rows });
    this.rows += rows;
    return buffer;
  }

  private pipeline(kind: 'select' | 'merge', shape: SelectShape): Promise<GPUComputePipeline> {
    const key = kind === 'select' ? shapeKey(shape) : `merge:${shape.kp}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code = kind === 'select' ? (this.opts.sourceFilter?.(selectSource(shape)) ?? selectSource(shape)) : mergeSource(shape.kp);
      p = compile(this.device, code, `int8 ${key}`);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Compiles the pipelines of a layout (throws the compiler's message when Dawn rejects them). */
  async warm(layout: LayoutName): Promise<void> {
    const s = this.shapeFor(layout);
    // One at a time: compile() pushes and pops error scopes, which must not interleave.
    await this.pipeline('select', s);
    await this.pipeline('merge', s);
  }

  async prepare(nq: number, layoutOpt?: LayoutName): Promise<PreparedSearch> {
    if (this.tiles.length === 0) throw new TesseraError('INVALID_ARGUMENT', 'the scorer holds no rows: addTile first');
    const staged = this.opts.stage && this.opts.kernel.kind === 'mma';
    const masked = !!staged && this.opts.stage?.select === 'mask';
    const layout = layoutOpt ?? (staged ? stagedLayout(this.opts.kPrime, masked, nq) : layoutFor(nq, this.opts.kernel.config?.N ?? 16));
    const shape = this.shapeFor(layout);
    const { br, bq, tpq } = tileOf(shape);
    const stBytes = workgroupBytes(shape);
    if (stBytes > this.device.limits.maxComputeWorkgroupStorageSize) {
      throw new TesseraError(
        'UNSUPPORTED',
        `int8 layout '${layout}' needs ${stBytes} bytes of workgroup memory, the device allows ${this.device.limits.maxComputeWorkgroupStorageSize}: use a smaller layout ('large', 'mid')`,
      );
    }
    const select = await this.pipeline('select', shape);
    const merge = await this.pipeline('merge', shape);
    const dev = this.device;
    const kp = this.opts.kPrime;
    const qBlocks = Math.ceil(nq / bq);
    const target = this.opts.targetWorkgroups ?? 2048;
    const plan = this.tiles.map((t) => {
      const tileRows = Math.ceil(t.rows / br);
      let nseg = Math.min(tileRows, Math.max(1, Math.ceil(target / qBlocks)));
      const segLen = Math.ceil(tileRows / nseg) * br;
      nseg = Math.ceil(t.rows / segLen);
      return { t, nseg, segLen };
    });
    const nsegTotal = plan.reduce((s, p) => s + p.nseg, 0);
    const perQuery = nsegTotal * tpq * kp;
    const qBytes = qBlocks * bq * this.opts.dPad;
    const candBytes = nq * perQuery * 8;
    const outBytes = nq * kp * 8;
    const qBuf = dev.createBuffer({ label: 'int8 queries', size: qBytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    const cand = dev.createBuffer({ label: 'int8 candidates', size: candBytes, usage: BufferUsage.STORAGE });
    const out = dev.createBuffer({ label: 'int8 best', size: outBytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    const read = dev.createBuffer({ label: 'int8 readback', size: outBytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const uniforms: GPUBuffer[] = [];
    let segBase = 0;
    const selectGroups = plan.map((p) => {
      const ub = dev.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
      dev.queue.writeBuffer(ub, 0, new Uint32Array([p.t.rows, p.segLen, segBase, nsegTotal, p.t.idBase, nq, 0, 0]));
      segBase += p.nseg;
      uniforms.push(ub);
      return {
        nseg: p.nseg,
        group: dev.createBindGroup({
          layout: select.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: ub } },
            { binding: 1, resource: { buffer: p.t.buffer } },
            { binding: 2, resource: { buffer: qBuf } },
            { binding: 3, resource: { buffer: p.t.rowsum } },
            { binding: 4, resource: { buffer: cand } },
          ],
        }),
      };
    });
    const mu = dev.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    dev.queue.writeBuffer(mu, 0, new Uint32Array([nq, perQuery, 0, 0]));
    uniforms.push(mu);
    const mergeGroup = dev.createBindGroup({
      layout: merge.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: mu } },
        { binding: 1, resource: { buffer: cand } },
        { binding: 2, resource: { buffer: out } },
      ],
    });
    const dPad = this.opts.dPad;
    const encode = (enc: GPUCommandEncoder) => {
      const pass = enc.beginComputePass({ label: `int8 ${layout} nq=${nq}` });
      pass.setPipeline(select);
      for (const g of selectGroups) {
        pass.setBindGroup(0, g.group);
        pass.dispatchWorkgroups(qBlocks, g.nseg, 1);
      }
      pass.setPipeline(merge);
      pass.setBindGroup(0, mergeGroup);
      pass.dispatchWorkgroups(...dispatchGrid(nq), 1);
      pass.end();
    };
    return {
      nq,
      layout,
      tempBytes: qBytes + candBytes + 2 * outBytes,
      writeQueries(codes: Uint8Array) {
        if (codes.length < nq * dPad) throw new TesseraError('INVALID_ARGUMENT', `queries hold ${codes.length} bytes, need ${nq} x ${dPad}`);
        dev.queue.writeBuffer(qBuf, 0, codes as Uint8Array<ArrayBuffer>, 0, nq * dPad);
      },
      encode,
      async run() {
        const enc = dev.createCommandEncoder();
        encode(enc);
        enc.copyBufferToBuffer(out, 0, read, 0, outBytes);
        dev.queue.submit([enc.finish()]);
        await read.mapAsync(MapMode.READ);
        const pairs = new Int32Array(read.getMappedRange().slice(0));
        read.unmap();
        const keys = new Int32Array(nq * kp);
        const ids = new Int32Array(nq * kp);
        for (let i = 0; i < nq * kp; i++) {
          keys[i] = pairs[2 * i]!;
          ids[i] = pairs[2 * i + 1]!;
        }
        return { keys, ids };
      },
      destroy() {
        for (const b of [qBuf, cand, out, read, ...uniforms]) b.destroy();
      },
    };
  }

  /** One search: nq x dPad query codes (quantizeQueries) -> nq x k' (key, id), best first. */
  async search(codes: Uint8Array, nq: number, layout?: LayoutName): Promise<{ keys: Int32Array; ids: Int32Array }> {
    const p = await this.prepare(nq, layout);
    try {
      p.writeQueries(codes);
      return await p.run();
    } finally {
      p.destroy();
    }
  }

  destroy(): void {
    for (const t of this.tiles) {
      t.buffer.destroy();
      t.rowsum.destroy();
    }
    this.tiles.length = 0;
  }
}

/** Compiles a compute pipeline, turning a compile or validation error into an UNSUPPORTED error. */
async function compile(device: GPUDevice, code: string, label: string): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  let pipeline: GPUComputePipeline | undefined;
  let thrown: unknown;
  try {
    pipeline = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (e) {
    thrown = e;
  }
  const err = await device.popErrorScope();
  if (err || thrown || !pipeline) {
    const info = await module.getCompilationInfo();
    const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    throw new TesseraError(
      'UNSUPPORTED',
      `the GPU rejected kernel ${label}: ${[...msgs, err?.message, (thrown as Error | undefined)?.message].filter(Boolean).join('; ')}; use kernel 'dot4' (allowExperimental off)`,
    );
  }
  return pipeline;
}

/** Which subgroupMatrixLoad syntax this Dawn accepts: compiles a minimal kernel each way. */
export async function detectMatrixSyntax(
  device: GPUDevice,
  t: 'i8' | 'u8',
  m: number,
  n: number,
  k: number,
  errors: string[] = [],
): Promise<MatrixSyntax | undefined> {
  const et = t === 'i8' ? 'i32' : 'u32';
  const body = (load: string, store: string) => `enable chromium_experimental_subgroup_matrix;
@group(0) @binding(0) var<storage, read_write> a: array<${et}>;
@group(0) @binding(1) var<storage, read_write> c: array<${et}>;
@compute @workgroup_size(32)
fn main() {
  let l = ${load.replace('$T', `subgroup_matrix_left<${t}, ${k}, ${m}>`).replace('$S', `${k}u`)};
  let r = ${load.replace('$T', `subgroup_matrix_right<${t}, ${n}, ${k}>`).replace('$S', `${k}u`)};
  let acc = subgroupMatrixMultiplyAccumulate(l, r, subgroup_matrix_result<${et}, ${n}, ${m}>());
  ${store}
}`;
  // The bool-argument spelling first: Dawn marks it deprecated, but on the H100 (webgpu 0.6.2) it is
  // the one whose results equal the CPU reference; the template spelling compiled and ran wrong
  // (bench/gpu-tensor's probe checks every spelling against the reference).
  const variants: [MatrixSyntax, string][] = [
    ['bool-arg', body('subgroupMatrixLoad<$T>(&a, 0u, false, $S)', `subgroupMatrixStore(&c, 0u, acc, false, ${n}u);`)],
    ['template-enum', body('subgroupMatrixLoad<$T, row_major>(&a, 0u, $S)', `subgroupMatrixStore<row_major>(&c, 0u, acc, ${n}u);`)],
  ];
  for (const [syntax, code] of variants) {
    try {
      await compile(device, code, `syntax probe ${syntax}`);
      return syntax;
    } catch (e) {
      errors.push((e as Error).message); // try the next spelling
    }
  }
  return undefined;
}

/**
 * Exact re-rank: for each query, the k best of its candidate ids by float32 inner product with
 * the rows that `row(id)` returns (the host copy); ties to the lower id. Ids -1 are skipped.
 */
export function rerankExact(
  q: Float32Array,
  nq: number,
  d: number,
  ids: Int32Array,
  kPrime: number,
  k: number,
  row: (id: number) => Float32Array,
): { distances: Float32Array; labels: Int32Array } {
  const distances = new Float32Array(nq * k).fill(-Infinity);
  const labels = new Int32Array(nq * k).fill(-1);
  const scored: { id: number; s: number }[] = [];
  for (let i = 0; i < nq; i++) {
    scored.length = 0;
    for (let j = 0; j < kPrime; j++) {
      const id = ids[i * kPrime + j]!;
      if (id < 0) continue;
      const x = row(id);
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t]! * x[t]!;
      scored.push({ id, s });
    }
    scored.sort((a, b) => b.s - a.s || a.id - b.id);
    for (let j = 0; j < Math.min(k, scored.length); j++) {
      distances[i * k + j] = scored[j]!.s;
      labels[i * k + j] = scored[j]!.id;
    }
  }
  return { distances, labels };
}
