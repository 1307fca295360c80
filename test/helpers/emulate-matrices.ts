import type { ChunkScorer, ShardInfo } from '../../src/gpu/flat-shard.js';
import { type MatrixConfig, SUBGROUP_MATRIX_FEATURE } from '../../src/gpu/tensor/choose.js';
import { halfScanPipelines, halfScanShape, halvesPrepPipeline, hookPipeline, hookShape, planHalfScan, plannedScorer, planTensorHook, prepPipeline } from '../../src/gpu/tensor/hook.js';

/**
 * The subgroup-matrix calls of the staged tensor-core kernels as scalar WGSL, for CI's software
 * adapter, which lacks the feature (test/gpu/tensor-emulated.test.ts, test/gpu/robustness.test.ts).
 * Rewrites a staged kernel (fragments loaded from the workgroup arrays `wr` (left) and `wq` (right),
 * results stored into `wr`; i8 M 16 x N 16 or 8 x K 32, bool-argument spelling) into plain WGSL.
 * f32 rows' kernels (StageOptions.rowsF32) also load from `wr2` / `wq2` and store into `wr2`.
 * A kernel uses one N throughout: each invocation holds 16 N / 32 result elements.
 */
export function emulateMatrices(src: string): string {
  if (/subgroup_matrix_left<f16, 16, 16>/.test(src)) return emulateHalfMatrices(src);
  const n = /subgroup_matrix_result<i32, 8, 16>/.test(src) ? 8 : 16;
  const epl = (16 * n) / 32;
  const out = src
    .replace('enable chromium_experimental_subgroup_matrix;', '')
    .replace(new RegExp(`subgroup_matrix_result<i32, ${n}, 16>\\(\\)`, 'g'), `array<i32, ${epl}>()`)
    .replace(/subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>>\(&wr(2?), ([^,]+), (true|false), ([^)]+)\)/g, (_m, two: string, off: string, col: string, st: string) => `EmuFrag(${off}, ${st}, ${col}, ${two === '2'})`)
    .replace(new RegExp(`subgroupMatrixLoad<subgroup_matrix_right<i8, ${n}, 32>>\\(&wq(2?), ([^,]+), (true|false), ([^)]+)\\)`, 'g'), (_m, two: string, off: string, col: string, st: string) => `EmuFrag(${off}, ${st}, ${col}, ${two === '2'})`)
    .replace(/subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (\w+)\)/g, 'emu_mma($1, $2, $3, lid % 32u)')
    .replace(/subgroupMatrixStore\(&wr(2?), ([^,]+), (\w+), false, ([^)]+)\);/g, 'emu_store$1($2, $3, $4, lid % 32u);')
    // Several-warp hook kernels: the software adapter's subgroups are 8 wide, so the emulated
    // 32-wide warps are lid / 32 (lane lid % 32), whatever its subgroup_id says.
    .replace(/(fn main\([^{]*?), @builtin\(subgroup_id\) sid: u32(,[^{]*\{)/, '$1$2\n  let sid = lid / 32u;');
  if (/subgroup_matrix|subgroupMatrix|@builtin\(subgroup_id\) sid: u32/.test(out)) throw new Error('emulateMatrices: a matrix call is left (only wr/wq staged kernels are emulated)');
  // Second digits (rowsF32): fragments from wr2 / wq2 (EmuFrag.two), scores stored into wr2.
  const two = /var<workgroup> wr2:/.test(out);
  const leftWord = two ? 'select(wr[el / 4u], wr2[el / 4u], l.two)' : 'wr[el / 4u]';
  const rightWord = two ? 'select(wq[er / 4u], wq2[er / 4u], r.two)' : 'wq[er / 4u]';
  return `${out}
var<workgroup> emu_zero: u32;
struct EmuFrag { off: u32, st: u32, col: bool, two: bool }
fn emu_byte(w: i32, b: u32) -> i32 { return (w << (24u - 8u * b)) >> 24u; }
${emuMma('i32', '0i', 32, `emu_byte(${leftWord}, el % 4u) * emu_byte(${rightWord}, er % 4u)`, epl, n)}
${emuStore('emu_store', 'wr', 'i32', epl, n)}
${two ? emuStore('emu_store2', 'wr2', 'i32', epl, n) : ''}
`;
}

/**
 * The emulated subgroupMatrixMultiplyAccumulate: each invocation (lane: its index in its emulated,
 * 32-wide warp) adds K products `product` (of elements el of the left fragment l and er of the
 * right one r) to its epl of the 16 x n result elements, in `type`. Loop bounds go through
 * `emu_zero`, a never-written workgroup variable, so the software adapter does not unroll them.
 */
export function emuMma(type: 'i32' | 'f32', zero: string, kDim: number, product: string, epl: number, n: number): string {
  return `fn emu_mma(l: EmuFrag, r: EmuFrag, a: array<${type}, ${epl}>, lane: u32) -> array<${type}, ${epl}> {
  var o = a;
  for (var x = 0u; x < ${epl}u + emu_zero; x++) {
    let m = (lane * ${epl}u + x) / ${n}u;
    let n = (lane * ${epl}u + x) % ${n}u;
    var s = ${zero};
    for (var k = 0u; k < ${kDim}u + emu_zero; k++) {
      let el = select(l.off + m * l.st + k, l.off + k * l.st + m, l.col);
      let er = select(r.off + k * r.st + n, r.off + n * r.st + k, r.col);
      s += ${product};
    }
    o[x] += s;
  }
  return o;
}`;
}

/** The emulated subgroupMatrixStore (row-major) of an invocation's epl result elements into `arr`. */
export function emuStore(name: string, arr: string, type: 'i32' | 'f32', epl: number, n: number): string {
  return `fn ${name}(off: u32, v: array<${type}, ${epl}>, st: u32, lane: u32) {
  for (var x = 0u; x < ${epl}u + emu_zero; x++) {
    let e = lane * ${epl}u + x;
    ${arr}[off + (e / ${n}u) * st + e % ${n}u] = v[x];
  }
}`;
}

/**
 * f16 rows' kernels (StageOptions.rowsHalf): f16 fragments from `wh` (left) and `wq` (right), K 16,
 * f32 results stored into `wr` (array<f32>). Products of halves are exact in f32; sums in f32.
 */
function emulateHalfMatrices(src: string): string {
  const n = /subgroup_matrix_result<f32, 8, 16>/.test(src) ? 8 : 16;
  const epl = (16 * n) / 32;
  const out = src
    .replace('enable chromium_experimental_subgroup_matrix;', '')
    .replace(new RegExp(`subgroup_matrix_result<f32, ${n}, 16>\\(\\)`, 'g'), `array<f32, ${epl}>()`)
    .replace(/subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>\(&wh, ([^,]+), (true|false), ([^)]+)\)/g, (_m, off: string, col: string, st: string) => `EmuFrag(${off}, ${st}, ${col})`)
    .replace(new RegExp(`subgroupMatrixLoad<subgroup_matrix_right<f16, ${n}, 16>>\\(&wq, ([^,]+), (true|false), ([^)]+)\\)`, 'g'), (_m, off: string, col: string, st: string) => `EmuFrag(${off}, ${st}, ${col})`)
    .replace(/subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (\w+)\)/g, 'emu_mma($1, $2, $3, lid % 32u)')
    .replace(/subgroupMatrixStore\(&wr, ([^,]+), (\w+), false, ([^)]+)\);/g, 'emu_store($1, $2, $3, lid % 32u);');
  if (/subgroup_matrix|subgroupMatrix/.test(out)) throw new Error('emulateMatrices: a matrix call is left (f16 kernels: wh / wq fragments, wr results)');
  return `${out}
var<workgroup> emu_zero: u32;
struct EmuFrag { off: u32, st: u32, col: bool }
${emuMma('f32', '0.0', 16, 'f32(wh[el]) * f32(wq[er])', epl, n)}
${emuStore('emu_store', 'wr', 'f32', epl, n)}
`;
}

/** The NVIDIA config (i8 x i8 -> i32, 16 x 16 x 32) the emulation implements. */
export const EMULATED_CONFIG: MatrixConfig = { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 };
/** NVIDIA's N = 8 config (16 x 8 x 32), also emulated; the hook takes it with tensorTuning.matrixN 8. */
export const EMULATED_CONFIG_N8: MatrixConfig = { ...EMULATED_CONFIG, N: 8 };
/** NVIDIA's f16 config (f16 x f16 -> f32, 16 x 16 x 16; listed with shader-f16), emulated for f16 rows (rowsHalf). */
export const EMULATED_HALF_CONFIG: MatrixConfig = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };

/**
 * GpuFlatIndex's tensor hook as it plans for an adapter with EMULATED_CONFIG, with the matrix calls
 * of its scoring kernel emulated (the pre-pass runs as it is): the hook's own answers (tile, key,
 * dispatch size, pre-pass). `active` gates which searches it takes; `onPrepass` counts pre-passes;
 * `halves` lists the f16 config beside the i8 ones or alone (f16 rows on f16 matrices, StageOptions.rowsHalf).
 */
export function emulatedHookScorer(opts: { active?: () => boolean; onPrepass?: () => void; halves?: 'also' | 'only' } = {}): ChunkScorer {
  // halves: the adapter lists the f16 config too ('also') or alone ('only'), and the device has shader-f16.
  const configs = opts.halves === 'only' ? [EMULATED_HALF_CONFIG] : opts.halves === 'also' ? [EMULATED_CONFIG, EMULATED_CONFIG_N8, EMULATED_HALF_CONFIG] : [EMULATED_CONFIG, EMULATED_CONFIG_N8];
  const features = new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups', ...(opts.halves ? ['shader-f16'] : [])]);
  const plan = (shard: ShardInfo, nq: number, k: number) =>
    planTensorHook(
      { precision: shard.precision, metric: shard.metric, rowWords: shard.rowWords, configs, features, subgroupSize: 32, maxWorkgroupStorage: 49152, approximateF16: shard.approximateF16, approximateF32: shard.approximateF32, digitPlanes: shard.digitPlanes },
      nq,
      k,
    );
  return plannedScorer(
    'int8-mma-emulated',
    plan,
    {
      shape: hookShape,
      pipeline: (device, s) => hookPipeline(device, s, emulateMatrices),
      prepass: (device, s) => {
        opts.onPrepass?.();
        return prepPipeline(device, s);
      },
    },
    opts.active,
  );
}

/**
 * The matrix calls of the row-scan kernels (f16 rows read straight from storage: src/gpu/tensor/
 * half-scan.ts, bench/gpu-f16mma/scan2-kernel.mjs) as scalar WGSL: left fragments from `base`
 * (storage, row-major), right ones from `wq` (workgroup) or `queries` (storage), col-major; results
 * (8 an invocation of a 32-wide emulated warp: the software adapter's subgroups are narrower) stored
 * into `ws`, by the emulated multiply and store below; subgroup_id and the lane from lid.
 */
export function emulateRowScan(src: string): string {
  const out = src
    .replace('enable chromium_experimental_subgroup_matrix;', '')
    .replace(/subgroup_matrix_result<f32, 16, 16>\(\)/g, 'array<f32, 8>()')
    .replace(/: subgroup_matrix_left<f16, 16, 16>;/g, ': EmuFrag;')
    .replace(/subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>\(&base, ([^,]+), false, ([^)]+)\)/g, 'EmuFrag($1, $2, false, 0u)')
    .replace(/subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>\(&(wq|queries), ([^,]+), true, ([^)]+)\)/g, (_m, arr: string, off: string, st: string) => `EmuFrag(${off}, ${st}, true, ${arr === 'wq' ? 1 : 2}u)`)
    .replace(/subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (\w+)\)/g, 'emu_mma($1, $2, $3, lid % 32u)')
    .replace(/subgroupMatrixStore\(&ws, ([^,]+), (\w+), false, ([^)]+)\);/g, 'emu_store($1, $2, $3, lid % 32u);')
    .replace(/(fn main\([^{]*?), @builtin\(subgroup_id\) sid: u32, @builtin\(subgroup_invocation_id\) lane: u32\) \{/, '$1) {\n  let sid = lid / 32u;\n  let lane = lid % 32u;');
  if (/subgroup_matrix|subgroupMatrix|@builtin\(subgroup_id\)/.test(out)) throw new Error('emulateRowScan: a matrix call or subgroup builtin is left');
  const wq = /var<workgroup> wq:/.test(out);
  const queries = /var<storage, read> queries: array<f16>/.test(out);
  return `${out}
var<workgroup> emu_zero: u32;
struct EmuFrag { off: u32, st: u32, col: bool, src: u32 }
fn emu_at(src: u32, i: u32) -> f32 {
  if (src == 0u) { return f32(base[i]); }
  ${wq ? 'if (src == 1u) { return f32(wq[i]); }' : ''}
  ${queries ? 'return f32(queries[i]);' : 'return 0.0;'}
}
${emuMma('f32', '0.0', 16, 'emu_at(l.src, el) * emu_at(r.src, er)', 8, 16)}
${emuStore('emu_store', 'ws', 'f32', 8, 16)}
`;
}


/**
 * GpuFlatIndex's f16 two-pass scan (src/gpu/tensor/half-scan.ts) as it plans for an adapter with
 * NVIDIA's f16 config, shader-f16 and 32-wide subgroups, with the matrix calls of its sample and
 * scan kernels emulated (emulateRowScan); the pre-pass and the selections run as they are. `active`
 * gates which searches it takes (the index's f16TwoPass or tensorTuning.f16Scan must be on too).
 */
export function emulatedHalfScanScorer(opts: { active?: () => boolean } = {}): ChunkScorer {
  const features = new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups', 'shader-f16']);
  const plan = (shard: ShardInfo, nq: number, k: number) =>
    planHalfScan({ precision: shard.precision, metric: shard.metric, rowWords: shard.rowWords, configs: [EMULATED_HALF_CONFIG], features, subgroupSize: 32, maxWorkgroupStorage: 49152, approximateF16: shard.approximateF16, f16TwoPass: shard.f16TwoPass, digitPlanes: shard.digitPlanes }, nq, k);
  return plannedScorer(
    'f16-scan-emulated',
    plan,
    {
      shape: halfScanShape,
      pipeline: (device, s) => halfScanPipelines(device, s, emulateRowScan).scan,
      prepass: halvesPrepPipeline,
      twoPass: (device, s) => halfScanPipelines(device, s, emulateRowScan),
    },
    opts.active,
  );
}
