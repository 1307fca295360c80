/**
 * The tensor-core int8 scorer of GpuFlatIndex: registers a ChunkScorer (src/gpu/flat-shard.ts)
 * that takes int8 inner-product batches on devices opened with `allowExperimental` whose adapter
 * reports an i8 x i8 -> i32 subgroup-matrix config the kernel fits (M 16, N 8 or 16, K 32), and
 * leaves everything else to the built-in kernels (flat_gemv, flat_fused: dot4 / f32 decoding).
 * The index re-ranks the candidates it returns exactly in float32, as for the other int8 kernels.
 */
import { type ChunkScorer, registerChunkScorer, type ShardInfo } from '../flat-shard.js';
import { layoutShape, type MatrixConfig, matrixConfigsOf, pickConfig, SUBGROUP_MATRIX_FEATURE } from './choose.js';
import { hookSource, type SelectShape, shapeKey, type StageOptions, tileOf, workgroupBytes } from './kernel-source.js';

/** Knobs of the GpuFlatIndex tensor scorer (benchmarks set them; the defaults are the measured best). */
export const tensorTuning = {
  /**
   * Smallest batch the tensor kernel takes. Measured on the H200 (run 3: 1M x 768, k' = 40, GPU
   * time, built-in kernels after a51b16d in the same process): tensor 3.3 / 6.2 / 18.5 / 54 ms
   * against built-in 3.9 / 15.8 / 39.7 / 104 ms at 16 / 64 / 256 / 1024 queries; at 1 query the
   * built-in flat_gemv wins (1.4 against 2.4 ms).
   */
  minBatch: 16,
  /** Result matrices per subgroup along rows (rows per block = 16 x this). */
  rowTiles: 4,
  /** Dims staged per chunk and the padding of staged rows (words): 64 / 4 the fastest standalone variant on the H200. */
  kc: 64,
  padWords: 4,
  /** Largest k (candidates a query per segment): the lists live in registers. */
  maxK: 64,
  /**
   * How the kernel holds its quantised queries: 'whole' keeps all dims of its 32 queries in
   * workgroup memory (~33 KiB), 'quant' quantises each staged chunk of dims beside the rows' chunk
   * (~11 KiB; needs the subgroups feature). 'auto': 'quant' from quantMinBatch queries. Measured on
   * the H200 (run 3, GPU ms at 1 / 16 / 64 / 256 / 1024 queries): whole 2.4 / 3.3 / 6.2 / 18.5 / 62,
   * quant 8.7 / 9.8 / 18.0 / 38.8 / 54 (re-quantising every chunk of every tile costs more than the
   * extra resident workgroups give back, except at the largest batch).
   */
  queries: 'auto' as 'auto' | 'quant' | 'whole',
  quantMinBatch: 1024,
  /** Off switch (tests and benchmarks compare against the built-in kernels). */
  enabled: true,
};

/** What the choice depends on: the shard's facts, the adapter's configs and workgroup memory. */
export interface HookFacts {
  precision: string;
  metric: string;
  /** vec4<u32> words a row (16 int8 dims each). */
  rowWords: number;
  features: ReadonlySet<string> | GPUSupportedFeatures;
  configs: readonly MatrixConfig[];
  maxWorkgroupStorage: number;
  /** Invocations per subgroup the adapter reports (subgroupMaxSize). */
  subgroupSize: number;
}

/** The kernel shape for a batch, or the reason the built-in kernels take it. */
export function planTensorHook(f: HookFacts, nq: number, k: number): { shape: SelectShape } | { reason: string } {
  if (!tensorTuning.enabled) return { reason: 'tensor scorer disabled' };
  if (f.precision !== 'int8') return { reason: `precision ${f.precision}` };
  if (f.metric !== 'ip') return { reason: `metric ${f.metric} (the tensor scorer ranks inner products)` };
  if (!f.features.has(SUBGROUP_MATRIX_FEATURE)) return { reason: `device lacks ${SUBGROUP_MATRIX_FEATURE} (open it with allowExperimental)` };
  if (nq < tensorTuning.minBatch) return { reason: `batch ${nq} < ${tensorTuning.minBatch}` };
  if (k > tensorTuning.maxK) return { reason: `k ${k} > ${tensorTuning.maxK}` };
  const config = pickConfig(f.configs, { signed: true, preferN: 16 });
  if (!config || config.M !== 16 || config.K !== 32 || (config.N !== 16 && config.N !== 8)) {
    return { reason: `no i8 x i8 -> i32 M16 N16|N8 K32 config among ${f.configs.length}` };
  }
  const dPad = f.rowWords * 16;
  const sg = f.subgroupSize;
  if (dPad % 32 !== 0) return { reason: `row of ${dPad} bytes is not a multiple of K = 32` };
  if (sg % config.N !== 0 || sg < 16 || sg > 64) return { reason: `subgroup size ${sg} does not fit N = ${config.N}` };
  const kc = [tensorTuning.kc, 64, 32].find((c) => dPad % c === 0)!;
  // 'quant' reduces over one subgroup with subgroup operations: without them, 'whole'.
  const wantQuant = tensorTuning.queries === 'quant' || (tensorTuning.queries === 'auto' && nq >= tensorTuning.quantMinBatch);
  const queries = wantQuant && f.features.has('subgroups') ? 'quant' : 'whole';
  const stage: StageOptions = { kc, padWords: tensorTuning.padWords, queries, unroll: true, xorRows: true };
  const shape: SelectShape = {
    kind: 'mma',
    signed: true,
    dPad,
    m: config.M,
    n: config.N,
    k: config.K,
    ...layoutShape('large'),
    rowTiles: tensorTuning.rowTiles,
    // One list a query: the workgroup's BQ queries are its sg invocations.
    queryTiles: sg / config.N,
    subgroupSize: sg,
    kp: k,
    syntax: 'bool-arg',
    stage,
  };
  const bytes = workgroupBytes(shape);
  if (bytes > f.maxWorkgroupStorage) return { reason: `needs ${bytes} bytes of workgroup memory, the adapter has ${f.maxWorkgroupStorage}` };
  return { shape };
}

function factsOf(shard: ShardInfo): HookFacts {
  const info = shard.adapter?.info as (GPUAdapterInfo & { subgroupMaxSize?: number }) | undefined;
  return {
    precision: shard.precision,
    metric: shard.metric,
    rowWords: shard.rowWords,
    features: shard.features,
    configs: matrixConfigsOf(info),
    maxWorkgroupStorage: shard.adapter?.limits.maxComputeWorkgroupStorageSize ?? 16384,
    subgroupSize: info?.subgroupMaxSize ?? 32,
  };
}

export const tensorChunkScorer: ChunkScorer = {
  name: 'int8-mma',
  accepts(shard, nq, k) {
    return 'shape' in planTensorHook(factsOf(shard), nq, k);
  },
  shape(shard, nq, k) {
    const plan = planTensorHook(factsOf(shard), nq, k);
    if (!('shape' in plan)) throw new Error(`int8-mma scorer asked for a batch it does not take: ${plan.reason}`);
    const { br, bq } = tileOf(plan.shape);
    return { BR: br, BQ: bq, key: shapeKey(plan.shape) };
  },
  pipeline(device, shard, nq, k) {
    const plan = planTensorHook(factsOf(shard), nq, k);
    if (!('shape' in plan)) throw new Error(`int8-mma scorer asked for a batch it does not take: ${plan.reason}`);
    const code = hookSource(plan.shape);
    return device.createComputePipeline({
      label: `int8-mma ${shapeKey(plan.shape)}`,
      layout: 'auto',
      compute: { module: device.createShaderModule({ label: 'int8_mma_hook', code }), entryPoint: 'main' },
    });
  },
};

registerChunkScorer(tensorChunkScorer);
