/**
 * The tensor-core int8 scorer of GpuFlatIndex: registers a ChunkScorer (src/gpu/flat-shard.ts)
 * that takes int8 inner-product batches on devices opened with `allowExperimental` whose adapter
 * reports an i8 x i8 -> i32 subgroup-matrix config the kernel fits (M 16, N 8 or 16, K 32), and
 * leaves everything else to the built-in kernels (flat_gemv, flat_fused: dot4 / f32 decoding).
 * The index re-ranks the candidates it returns exactly in float32, as for the other int8 kernels.
 * It takes f16 shards' batches as well (tensorTuning.f16): on f16 subgroup matrices where the
 * adapter lists them (f16Half), else from a code plane or quantised while staged, and the shard
 * re-ranks the candidates exactly from its f16 rows; and f32 shards' (f32):
 * their rows split into two i8 digits while staged, the candidates re-ranked from the f32 rows and
 * each list certified exact by the shard (or searched again with the exact kernels).
 */
import { dispatchGrid } from '../device.js';
import { type ChunkScorer, registerChunkScorer, type ShardInfo, type TwoPassPipelines } from '../flat-shard.js';
import { layoutShape, type MatrixConfig, matrixConfigsOf, SUBGROUP_MATRIX_FEATURE } from './choose.js';
import { digitsSource } from './digits-source.js';
import { HALF_SCAN_COUNT_STRIDE, type HalfScanShape, halfScanBytes, halfSampleSplitBytes, halfSampleSplitSource, halfScanRefusal, validSampleRun, halfScanSource, halfSelectSource } from './half-scan.js';
import { halvesPrepBytes, halvesPrepSource, hookSource, packFits, prepBytes, prepSource, type SelectShape, shapeKey, shareWords, type StageOptions, tileOf, workgroupBytes } from './kernel-source.js';
import { halfMatrixConfig, halfScanDeviceRefusal, halfScanNotAsked, int8Config, tensorTuning } from './tuning.js';

export { halfMatrixConfig, tensorTuning };

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
  /** f16: the shard takes approximate keys (IndexOptions.f16TensorCores; default true). */
  approximateF16?: boolean;
  /** f16: the index asked for the f16 two-pass scan (IndexOptions.f16TwoPass). */
  f16TwoPass?: boolean;
  /** f32: the shard takes approximate keys and certifies them (IndexOptions.f32TensorCores; default true). */
  approximateF32?: boolean;
  /** The shard holds digit planes of its rows (f16: its i8 codes; ShardInfo.digitPlanes). */
  digitPlanes?: boolean;
  /** Whether the shard's flat_gemv_multi takes a batch (ShardInfo.multiTakes). */
  multiTakes?: (nq: number, k: number) => boolean;
}

/** The kernel shape for a batch, or the reason the built-in kernels take it. */
export function planTensorHook(f: HookFacts, nq: number, k: number): { shape: SelectShape } | { reason: string } {
  if (!tensorTuning.enabled) return { reason: 'tensor scorer disabled' };
  const f16 = f.precision === 'f16';
  const f32 = f.precision === 'f32';
  // f16 on f16 matrices where they are taken (halfMatrixConfig); else with a code plane it reads
  // codes as int8 does; else it converts its rows while staging.
  const halfConfig = f16 ? halfMatrixConfig(f.features, f.configs) : undefined;
  const half = !!halfConfig;
  const f16Codes = f16 && !half && !!f.digitPlanes && tensorTuning.f16Codes;
  const convert = f16 && !half && !f16Codes;
  if (f.precision !== 'int8' && !(f16 && tensorTuning.f16) && !(f32 && tensorTuning.f32)) return { reason: `precision ${f.precision}` };
  if (f16 && f.approximateF16 === false) return { reason: 'f16 with f16TensorCores off' };
  if (f32 && f.approximateF32 === false) return { reason: 'f32 with f32TensorCores off' };
  if (f.metric !== 'ip') return { reason: `metric ${f.metric} (the tensor scorer ranks inner products)` };
  if (!f.features.has(SUBGROUP_MATRIX_FEATURE)) return { reason: `device lacks ${SUBGROUP_MATRIX_FEATURE} (open it with allowExperimental)` };
  const minBatch = half ? tensorTuning.f16HalfMinBatch : f16Codes ? tensorTuning.f16CodesMinBatch : tensorTuning.minBatch;
  if (nq < minBatch) return { reason: `batch ${nq} < ${minBatch}` };
  // f16 with a code plane starts at f16CodesMinBatch (above); converting halves, from f16MinBatch.
  if (convert && nq < tensorTuning.f16MinBatch) return { reason: `f16 batch ${nq} < ${tensorTuning.f16MinBatch}` };
  // Asked at this k (k', the approximate lists' size): declined here, the batch runs the exact
  // kernels at the caller's k <= k' (GpuFlatIndex.gpuK), which flat_gemv_multi then takes too.
  if (convert && nq <= tensorTuning.f16MultiUpTo && f.multiTakes?.(nq, k)) return { reason: `f16 batch ${nq} <= ${tensorTuning.f16MultiUpTo}, which flat_gemv_multi takes` };
  if (f32 && nq < tensorTuning.f32MinBatch) return { reason: `f32 batch ${nq} < ${tensorTuning.f32MinBatch}` };
  if (k > tensorTuning.maxK) return { reason: `k ${k} > ${tensorTuning.maxK}` };
  const config = halfConfig ?? int8Config(f.configs);
  if (!config) return { reason: `no i8 x i8 -> i32 M16 N16|N8 K32 config among ${f.configs.length}${f16 ? ' (nor f16 x f16 -> f32 M16 K16 with shader-f16)' : ''}` };
  // Dims a row: 16 u8 codes, 8 packed halves or 4 f32 a vec4 (K 16 for halves: a multiple of 32 all the same).
  const dPad = f.rowWords * (f16 ? 8 : f32 ? 4 : 16);
  const sg = f.subgroupSize;
  if (dPad % 32 !== 0) return { reason: `row of ${dPad} bytes is not a multiple of K = 32` };
  if (sg % config.N !== 0 || sg < 16 || sg > 64) return { reason: `subgroup size ${sg} does not fit N = ${config.N}` };
  const kcWant = nq < tensorTuning.bigBatch && tensorTuning.kcSmall ? tensorTuning.kcSmall : tensorTuning.kc;
  const kc = [kcWant, 64, 32].find((c) => dPad % c === 0)!;
  // 'quant' reduces over one subgroup with subgroup operations: without them, 'whole'.
  const mode = tensorTuning.queries === 'auto' ? 'pre' : tensorTuning.queries;
  const queries = mode === 'quant' && !f.features.has('subgroups') ? 'whole' : mode;
  // Several warps: subgroup_id needs the subgroups feature, and each warp must be one 32-query block.
  const wantWarps = half ? 1 : convert && nq >= tensorTuning.f16WarpsFrom ? tensorTuning.f16Warps : f32 && nq >= tensorTuning.f32WarpsFrom ? tensorTuning.f32Warps : tensorTuning.warps;
  const warps = wantWarps > 1 && queries === 'pre' && sg === 32 && f.features.has('subgroups') ? wantWarps : 1;
  // The 16-query block: half the multiplies of a padded 32-query one, two invocations a query.
  const block16 = tensorTuning.block16 && !f32 && !half && nq <= 16 && k <= tensorTuning.block16MaxK && sg === 32 && warps === 1 && queries === 'pre' && tensorTuning.lists !== 'wg';
  // Lists other than 'reg' need the mask selection; 'packed' also one warp of one list a query (not
  // the 16-query block, which merges 'reg' lists) and keys that fit beside the slot bits.
  const lists =
    tensorTuning.select !== 'mask' ? {}
    : tensorTuning.lists === 'wg' && !f32 && !half ? { lists: 'wg' as const }
    : tensorTuning.lists === 'packed' && !f32 && !half && !block16 && warps === 1 && packFits(dPad, k) ? { lists: 'packed' as const }
    : {};
  const rowTiles = f32 ? (nq >= tensorTuning.f32RowTilesFrom ? tensorTuning.f32RowTilesBig : tensorTuning.f32RowTiles) : nq >= tensorTuning.bigBatch ? tensorTuning.rowTilesBig : half ? tensorTuning.f16HalfRowTiles : convert ? tensorTuning.f16RowTiles : f16Codes ? tensorTuning.f16CodesRowTiles : tensorTuning.midBatch > 0 && nq >= tensorTuning.midBatch ? tensorTuning.rowTilesMid : tensorTuning.rowTiles;
  const br = 16 * rowTiles;
  const sr = tensorTuning.selectRows;
  const selectRows = sr > 0 && sr % 32 === 0 && sr < br && br % sr === 0 && tensorTuning.select === 'mask' && warps === 1 && !block16 ? { selectRows: sr } : {};
  const share = tensorTuning.share > 0 && nq >= tensorTuning.shareFrom && tensorTuning.select === 'mask' && !lists.lists && warps === 1 && !block16 ? { share: tensorTuning.share } : {};
  // The f16 conversion has its own prefetch knobs below bigBatch, where H100 call h12 timed them
  // (16 and 64 queries); its 64-row, two-warp shapes from there keep the general ones (call h13:
  // 12-17% slower with depth 2 and the next tile's chunks).
  const convertSmall = convert && nq < tensorTuning.bigBatch;
  const depth = convertSmall ? tensorTuning.f16PrefetchDepth : tensorTuning.prefetchDepth;
  const crossTiles = convertSmall ? tensorTuning.f16PrefetchTiles : tensorTuning.prefetchTiles;
  const stage: StageOptions = { kc, padWords: tensorTuning.padWords, queries, unroll: true, ...(half ? { rowsHalf: true } : convert ? { rowsF16: true, ...(tensorTuning.f16Scale === 'uniform' ? { f16Uniform: true } : {}), ...(tensorTuning.f16Split ? { f16Split: true } : {}) } : f32 ? { rowsF32: true } : f16Codes ? { signedRows: true } : { xorRows: true }), clampRows: true, select: tensorTuning.select, prefetch: tensorTuning.prefetch, ...(tensorTuning.prefetch && depth > 1 ? { prefetchDepth: depth } : {}), ...(tensorTuning.prefetch && crossTiles && queries !== 'quant' ? { prefetchTiles: true } : {}), ...(warps > 1 && tensorTuning.warpBranch ? { warpBranch: true } : {}), ...lists, ...(tensorTuning.insert === 'flat' && nq >= tensorTuning.insertFrom && lists.lists !== 'wg' ? { insert: 'flat' as const } : {}), ...selectRows, ...share };
  const shape: SelectShape = {
    kind: 'mma',
    signed: true,
    dPad,
    m: config.M,
    n: config.N,
    k: config.K,
    ...layoutShape('large'),
    sgQueries: warps,
    rowTiles,
    // One list a query: the workgroup's BQ queries are its warps x sg invocations (block16: 16 of them).
    queryTiles: (block16 ? 16 : sg) / config.N,
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
    approximateF16: shard.approximateF16,
    f16TwoPass: shard.f16TwoPass,
    approximateF32: shard.approximateF32,
    digitPlanes: shard.digitPlanes,
    multiTakes: shard.multiTakes,
  };
}

/**
 * A ChunkScorer from a planner of a batch's shape (or the reason it does not take it) and what each
 * planned shape answers; `active` gates which searches it takes (tests).
 */
export function plannedScorer<S>(
  name: string,
  plan: (shard: ShardInfo, nq: number, k: number) => { shape: S } | { reason: string },
  parts: { shape(s: S, nq: number): ReturnType<ChunkScorer['shape']>; pipeline(device: GPUDevice, s: S): GPUComputePipeline; prepass?(device: GPUDevice, s: S): GPUComputePipeline; twoPass?(device: GPUDevice, s: S): TwoPassPipelines },
  active: () => boolean = () => true,
): ChunkScorer {
  const planned = (shard: ShardInfo, nq: number, k: number): S => {
    const p = plan(shard, nq, k);
    if (!('shape' in p)) throw new Error(`${name} scorer asked for a batch it does not take: ${p.reason}`);
    return p.shape;
  };
  const { prepass, twoPass } = parts;
  return {
    name,
    accepts: (shard, nq, k) => active() && 'shape' in plan(shard, nq, k),
    shape: (shard, nq, k) => parts.shape(planned(shard, nq, k), nq),
    pipeline: (device, shard, nq, k) => parts.pipeline(device, planned(shard, nq, k)),
    ...(prepass ? { prepass: (device: GPUDevice, shard: ShardInfo, nq: number, k: number) => prepass(device, planned(shard, nq, k)) } : {}),
    ...(twoPass ? { twoPass: (device: GPUDevice, shard: ShardInfo, nq: number, k: number) => twoPass(device, planned(shard, nq, k)) } : {}),
  };
}

export const tensorChunkScorer: ChunkScorer = plannedScorer('int8-mma', (shard, nq, k) => planTensorHook(factsOf(shard), nq, k), {
  shape: hookShape,
  pipeline: (device, s) => hookPipeline(device, s),
  prepass: prepPipeline,
});

/** What ChunkScorer.shape answers for a planned shape: tile, cache key, dispatch size and the pre-pass ('pre', 'hold'). */
export function hookShape(s: SelectShape, nq: number): ReturnType<ChunkScorer['shape']> {
  const { br, bq } = tileOf(s);
  const nqPad = Math.ceil(nq / bq) * bq;
  const prep = s.stage?.queries === 'pre' || s.stage?.queries === 'hold' ? { bytes: prepBytes(s, nq), groups: dispatchGrid(nqPad) } : undefined;
  const targetWorkgroups = nq >= tensorTuning.bigBatch ? tensorTuning.targetWorkgroups : nq <= 16 && tensorTuning.targetWorkgroupsTiny ? tensorTuning.targetWorkgroupsTiny : tensorTuning.targetWorkgroupsSmall;
  // StageOptions.share: the bounds' words at the end of binding 4 (pairs, zeroed before each batch).
  const words = shareWords(s, nq);
  // rowsF16 / rowsF32: keys of i8 codes or digits, re-ranked by the shard (ChunkScorer.shape's `approximate`).
  // rowsHalf: keys of f16-rounded queries, re-ranked without code steps.
  const approximate = s.stage?.rowsF16 ? { approximate: s.stage.f16Uniform ? ('uniform' as const) : ('dims' as const) } : s.stage?.rowsF32 || s.stage?.signedRows ? { approximate: 'dims' as const } : s.stage?.rowsHalf ? { approximate: 'unscaled' as const } : {};
  // rowsF32 / signedRows: the shard binds its digit planes in place of the rows.
  const digits = s.stage?.rowsF32 || s.stage?.signedRows ? { digits: true, digitsSource } : {};
  return { BR: br, BQ: bq, key: shapeKey(s), targetWorkgroups, prep, ...(words ? { scratch: Math.ceil(words / 2) } : {}), ...approximate, ...digits };
}

/** The scoring pipeline; `filter` rewrites the WGSL first (tests emulate the matrix calls). */
export function hookPipeline(device: GPUDevice, s: SelectShape, filter: (code: string) => string = (c) => c): GPUComputePipeline {
  return device.createComputePipeline({
    label: `int8-mma ${shapeKey(s)}`,
    layout: 'auto',
    compute: { module: device.createShaderModule({ label: 'int8_mma_hook', code: filter(hookSource(s)) }), entryPoint: 'main' },
  });
}

export function prepPipeline(device: GPUDevice, s: SelectShape): GPUComputePipeline {
  return device.createComputePipeline({
    label: `int8-mma prep ${s.dPad}`,
    layout: 'auto',
    compute: { module: device.createShaderModule({ label: 'int8_mma_prep', code: prepSource(s) }), entryPoint: 'main' },
  });
}

/**
 * The f16 two-pass scan's shape for a batch (IndexOptions.f16TwoPass or tensorTuning.f16Scan; src/gpu/tensor/half-scan.ts),
 * or why it does not take it: f16 inner products on a device with f16 subgroup matrices
 * (f16 x f16 -> f32, M16 N16 K16), shader-f16 and 32-wide subgroups, a shard without a code plane
 * (unless the knob forces it), f16ScanMinBatch to f16ScanMaxBatch queries, k (its lists' k') up to maxK.
 */
export function planHalfScan(f: HookFacts, nq: number, k: number): { shape: HalfScanShape } | { reason: string } {
  const notAsked = halfScanNotAsked(f.f16TwoPass === true, f.digitPlanes === true);
  if (notAsked) return { reason: notAsked };
  if (f.precision !== 'f16') return { reason: `precision ${f.precision}` };
  if (f.approximateF16 === false) return { reason: 'f16 with f16TensorCores off' };
  if (f.metric !== 'ip') return { reason: `metric ${f.metric} (the f16 scan ranks inner products)` };
  const device = halfScanDeviceRefusal(f.features, f.configs, f.subgroupSize);
  if (device) return { reason: device };
  if (nq < tensorTuning.f16ScanMinBatch || nq > tensorTuning.f16ScanMaxBatch) return { reason: `batch ${nq} outside ${tensorTuning.f16ScanMinBatch}..${tensorTuning.f16ScanMaxBatch}` };
  if (k > tensorTuning.maxK) return { reason: `k ${k} > ${tensorTuning.maxK}` };
  const dPad = f.rowWords * 8;
  const steps = dPad / 16;
  // Queries a workgroup: the batch rounded up to a whole query tile of 16 (the scan's time grows with them).
  const bq = Math.ceil(nq / 16) * 16;
  // Blocks a warp at a time: from two query tiles (at one, the queries are staged once a workgroup
  // and a group only adds registers: 11% slower at 16 queries over 21M, h92).
  const group = nq >= tensorTuning.f16ScanGroupMinBatch ? tensorTuning.f16ScanGroup : 1;
  // Steps loaded ahead: f16ScanAhead row fragments a warp over its group's blocks (the registers of
  // one block's), else what splits the steps into an even number of chunks.
  const most = Math.max(1, Math.floor(tensorTuning.f16ScanAhead / group));
  const ahead = [most, 8, 4, 2, 6, 12, 3, 1].filter((a) => group === 1 || a <= most).find((a) => Number.isInteger(steps / a) && (steps / a) % 2 === 0);
  if (!ahead) return { reason: `${steps} steps of 16 dims split into no even number of chunks` };
  const sampleRun = tensorTuning.f16ScanSampleRun;
  // Said here, not as "no query chunk fits" (halfScanRefusal refuses every shape with it).
  if (!validSampleRun(sampleRun)) return { reason: `f16ScanSampleRun ${sampleRun}: a whole number from 1` };
  const base = { dPad, bq, warps: tensorTuning.f16ScanWarps, ahead, group, sampleSplit: tensorTuning.f16ScanSampleSplit, sampleRun, radixHeld: tensorTuning.f16ScanRadixHeld, kp: k, cap: tensorTuning.f16ScanCap };
  // Queries staged: all dims where they fit, else f16ScanQueryChunk at a time, else the largest chunk
  // that fits; in two buffers (f16ScanDoubleStage) where those fit, else in one.
  // Tried in order, stopping at the first that fits: every search plans its batch several times
  // (building all ~100 candidates first took 150 us a plan at d = 768).
  const chunks = [dPad, tensorTuning.f16ScanQueryChunk];
  for (let i = 0; i < steps; i++) chunks.push(16 * (steps - i));
  const buffers = tensorTuning.f16ScanDoubleStage ? [true, false] : [false];
  for (const queryChunk of chunks) {
    for (const doubleStage of buffers) {
      const shape: HalfScanShape = { ...base, queryChunk, doubleStage: doubleStage && queryChunk < dPad };
      if (!halfScanRefusal(shape) && halfScanBytes(shape) <= f.maxWorkgroupStorage) {
        // The split sample where its partial scores fit, else the whole-row one.
        return { shape: { ...shape, sampleSplit: shape.sampleSplit === true && halfSampleSplitBytes(shape) <= f.maxWorkgroupStorage } };
      }
    }
  }
  return { reason: `no query chunk fits ${f.maxWorkgroupStorage} bytes of workgroup memory` };
}

/** What ChunkScorer.shape answers for a planned f16 scan: the halves pre-pass, approximate keys, the two-pass facts (flat-shard.ts TwoPassShape). */
export function halfScanShape(s: HalfScanShape, nq: number): ReturnType<ChunkScorer['shape']> {
  const nqPad = Math.ceil(nq / s.bq) * s.bq;
  return {
    BR: 16,
    BQ: s.bq,
    key: `half-scan:${s.dPad}:${s.bq}:${s.warps}:${s.ahead}:${s.queryChunk}:${s.doubleStage ? 2 : 1}:${s.kp}:${s.cap}${(s.group ?? 1) > 1 ? `:g${s.group}` : ''}${s.sampleSplit ? ':ss' : ''}${s.radixHeld ? `:rh${s.radixHeld}` : ''}${(s.sampleRun ?? 1) > 1 ? `:sr${s.sampleRun}` : ''}`,
    prep: { bytes: halvesPrepBytes(s.dPad, s.bq, nq), groups: dispatchGrid(nqPad) },
    approximate: 'unscaled',
    twoPass: { bq: s.bq, warps: s.warps, scanWorkgroups: (s.group ?? 1) > 1 ? tensorTuning.f16ScanGroupWorkgroups : tensorTuning.f16ScanWorkgroups, sampleDiv: tensorTuning.f16ScanSampleDiv, sampleWorkgroups: tensorTuning.f16ScanSampleWorkgroups, sampleTiles: tensorTuning.f16ScanSampleTiles, sampleSplit: s.sampleSplit === true, sampleRun: s.sampleRun ?? 1, directList: tensorTuning.f16ScanDirectList, cap: s.cap, bestsPerLane: s.bq / 16, countStride: HALF_SCAN_COUNT_STRIDE },
  };
}

/** The f16 scan's four pipelines; `filter` rewrites the scan kernels' WGSL first (tests emulate the matrix calls). */
export function halfScanPipelines(device: GPUDevice, s: HalfScanShape, filter: (code: string) => string = (c) => c): TwoPassPipelines {
  const make = (label: string, code: string) => device.createComputePipeline({ label: `f16-scan ${label}`, layout: 'auto', compute: { module: device.createShaderModule({ label: `half_scan_${label}`, code }), entryPoint: 'main' } });
  return {
    sample: make('sample', filter(s.sampleSplit ? halfSampleSplitSource(s) : halfScanSource(s, 'sample'))),
    threshold: make('threshold', halfSelectSource(s, 'threshold')),
    scan: make('scan', filter(halfScanSource(s, 'scan'))),
    select: make('select', halfSelectSource(s, 'select')),
  };
}

export function halvesPrepPipeline(device: GPUDevice, s: HalfScanShape): GPUComputePipeline {
  return device.createComputePipeline({ label: `f16-scan prep ${s.dPad}`, layout: 'auto', compute: { module: device.createShaderModule({ label: 'int8_mma_prep halves', code: halvesPrepSource(s.dPad, s.bq) }), entryPoint: 'main' } });
}

export const halfScanChunkScorer: ChunkScorer = plannedScorer('f16-scan', (shard, nq, k) => planHalfScan(factsOf(shard), nq, k), {
  shape: halfScanShape,
  pipeline: (device, s) => halfScanPipelines(device, s).scan,
  prepass: halvesPrepPipeline,
  twoPass: (device, s) => halfScanPipelines(device, s),
});

registerChunkScorer(tensorChunkScorer);
// Tried first (registered last): where it takes a batch, f16 at exactly half of f32's memory.
registerChunkScorer(halfScanChunkScorer);
