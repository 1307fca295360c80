/**
 * Which int8 kernel an adapter gets: subgroup matrices (tensor cores) when the device has Dawn's
 * `chromium-experimental-subgroup-matrix` feature and the adapter reports a fitting 8-bit config,
 * else packed dot4 products. Pure functions of what the adapter reports, so tests feed them configs.
 */
import type { SelectShape } from './kernel-source.js';

/** GPUSubgroupMatrixConfig as Dawn reports it in adapter.info.subgroupMatrixConfigs. */
export interface MatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';
/** The Dawn toggle that exposes experimental features such as subgroup matrices (Node only). */
export const UNSAFE_APIS_FLAG = 'enable-dawn-features=allow_unsafe_apis';

/** The configs an adapter reports (empty when it reports none or is not Dawn). */
export function matrixConfigsOf(info: GPUAdapterInfo | undefined): MatrixConfig[] {
  const raw = (info as unknown as { subgroupMatrixConfigs?: Iterable<MatrixConfig> } | undefined)?.subgroupMatrixConfigs;
  if (!raw) return [];
  return [...raw].map((c) => ({ componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K }));
}

/**
 * The 8-bit config to use for a given query-tile preference: signed (i8 x i8 -> i32) before
 * unsigned unless told, K dividing 32 x 2^j rows of bytes (we pad d to a multiple of 32 and K),
 * N as asked (16 for batches, 8 for a single query) else the other one.
 */
export function pickConfig(configs: readonly MatrixConfig[], opts: { signed?: boolean; preferN?: number } = {}): MatrixConfig | undefined {
  const want = opts.signed ?? true;
  const ok = configs.filter(
    (c) =>
      ((want && c.componentType === 'i8' && c.resultComponentType === 'i32') ||
        (!want && c.componentType === 'u8' && c.resultComponentType === 'u32')) &&
      c.K > 0 && c.K <= 64 && (c.K & (c.K - 1)) === 0 && c.M > 0 && c.N > 0,
  );
  if (ok.length === 0) return undefined;
  const preferN = opts.preferN ?? 16;
  ok.sort((a, b) => Math.abs(a.N - preferN) - Math.abs(b.N - preferN) || b.M - a.M);
  return ok[0];
}

/**
 * The f16 x f16 -> f32 config for f16 rows on the tensor cores (M 16, K 16, N as asked, else the
 * other one). Dawn lists f16 configs only where the device may have shader-f16 (on NVIDIA's Vulkan
 * driver only under the `vulkan_enable_f16_on_nvidia` toggle).
 */
export function pickHalfConfig(configs: readonly MatrixConfig[], preferN = 16): MatrixConfig | undefined {
  const ok = configs.filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.K === 16 && (c.N === 16 || c.N === 8));
  ok.sort((a, b) => Math.abs(a.N - preferN) - Math.abs(b.N - preferN));
  return ok[0];
}

export type KernelKind = 'mma' | 'dot4';

export interface KernelChoice {
  kind: KernelKind;
  config?: MatrixConfig;
  /** Why the tensor kernel was not taken (for logs and benchmark output). */
  reason: string;
}

/** mma when allowed, the device has the feature and a fitting config exists; else dot4 with the reason. */
export function chooseKernel(args: {
  allowExperimental: boolean;
  deviceFeatures: ReadonlySet<string> | GPUSupportedFeatures;
  configs: readonly MatrixConfig[];
  signed?: boolean;
  preferN?: number;
  force?: KernelKind;
}): KernelChoice {
  if (args.force === 'dot4') return { kind: 'dot4', reason: 'dot4 requested' };
  if (!args.allowExperimental) return { kind: 'dot4', reason: 'allowExperimental is off' };
  if (!args.deviceFeatures.has(SUBGROUP_MATRIX_FEATURE)) return { kind: 'dot4', reason: `device lacks ${SUBGROUP_MATRIX_FEATURE}` };
  const config = pickConfig(args.configs, { signed: args.signed, preferN: args.preferN });
  if (!config) return { kind: 'dot4', reason: `no ${args.signed === false ? 'u8' : 'i8'} subgroup-matrix config among ${args.configs.length}` };
  return { kind: 'mma', config, reason: `subgroup matrix ${config.componentType}x${config.componentType}->${config.resultComponentType} M${config.M} N${config.N} K${config.K}` };
}

/**
 * Named workgroup layouts (one subgroup a workgroup; rows x queries per tile with N = 16):
 * single 64 x 16, mid 32 x 32, large 64 x 32, xl 128 x 32, tall 128 x 16, wide 64 x 64 (4 x 4 result
 * matrices: half a fragment load a multiply; two lists an invocation, staged kernel only). The host picks one by batch size;
 * bench/gpu-tensor measures them all.
 */
export type LayoutName = 'single' | 'mid' | 'large' | 'xl' | 'tall' | 'wide';

export function layoutFor(nq: number, n: number): LayoutName {
  return nq <= n ? 'single' : 'large';
}

/** Subgroup grid and result tiles of a layout. */
export function layoutShape(name: LayoutName): Pick<SelectShape, 'sgRows' | 'sgQueries' | 'rowTiles' | 'queryTiles'> {
  switch (name) {
    case 'single':
      return { sgRows: 1, sgQueries: 1, rowTiles: 4, queryTiles: 1 };
    case 'mid':
      return { sgRows: 1, sgQueries: 1, rowTiles: 2, queryTiles: 2 };
    case 'large':
      return { sgRows: 1, sgQueries: 1, rowTiles: 4, queryTiles: 2 };
    case 'xl':
      return { sgRows: 1, sgQueries: 1, rowTiles: 8, queryTiles: 2 };
    case 'tall':
      return { sgRows: 1, sgQueries: 1, rowTiles: 8, queryTiles: 1 };
    case 'wide':
      return { sgRows: 1, sgQueries: 1, rowTiles: 4, queryTiles: 4 };
  }
}

/** Rows of every tile buffer are padded to this, a multiple of every layout's rows per tile. */
export const ROW_ALIGN = 256;
