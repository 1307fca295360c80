/**
 * WebGPU devices for tessera: where the `GPU` object comes from (given, navigator.gpu, or the
 * platform's loader: Dawn in Node), numeric usage flags (Node has no GPUBufferUsage globals), and
 * device loss / uncaptured errors turned into a DEVICE_LOST error on the next call.
 */
import { TesseraError } from '../core/errors.js';
import { inBrowser } from '../io/url-source.js';
import { type AdapterSummary, platform } from '../platform.js';

/** GPUBufferUsage values from the WebGPU spec, so no runtime globals are needed. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  INDEX: 0x0010,
  VERTEX: 0x0020,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;

/** GPUMapMode values from the WebGPU spec. */
export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const;

/**
 * Workgroups (x, y) of one dispatch of n: x at most 65535, WebGPU's per-dimension limit; the shaders
 * take workgroup x + 65535 y.
 */
export function dispatchGrid(n: number): [number, number] {
  return [Math.min(n, 65535), Math.ceil(n / 65535)];
}

/**
 * The `GPU` object to use: the one given, else navigator.gpu, else the platform's (Dawn in Node).
 * Resolves undefined when the runtime offers none.
 */
export async function resolveGpu(given?: GPU): Promise<GPU | undefined> {
  if (given) return given;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const load = platform().loadGpu;
  return load ? load() : undefined;
}

/**
 * The `gpu` / `gpus` options hold WebGPU GPU objects (`gpu` null: the runtime's own). Checked before
 * backend 'auto' probes them (a probe of something else fails, and 'auto' then ran on WASM as if the
 * machine had no GPU), and by TensorInt8Flat.create (where it was a TypeError).
 */
export function checkGpuObjects(opts: { gpu?: unknown; gpus?: unknown }): void {
  const isGpu = (g: unknown) => typeof (g as GPU | null | undefined)?.requestAdapter === 'function';
  if (opts.gpu != null && !isGpu(opts.gpu)) {
    const got = typeof opts.gpu === 'object' ? 'an object without requestAdapter' : typeof opts.gpu === 'string' ? JSON.stringify(opts.gpu) : String(opts.gpu);
    throw new TesseraError('INVALID_ARGUMENT', `gpu must be a WebGPU GPU object (navigator.gpu, or create() of the 'webgpu' package in Node), got ${got}: pass one or leave it out for the runtime's own`);
  }
  if (opts.gpus !== undefined && (!Array.isArray(opts.gpus) || !opts.gpus.every(isGpu))) {
    throw new TesseraError('INVALID_ARGUMENT', "gpus must be an array of WebGPU GPU objects (navigator.gpu, or create() of the 'webgpu' package in Node)");
  }
}

/** A device with what tessera needs to know about it, and a latch for loss and uncaptured errors. */
export class GpuContext {
  /** Set once the device is lost or raised an uncaptured error; the next call throws it. */
  private failure: TesseraError | undefined;
  private destroyed = false;
  readonly maxBinding: number;
  readonly maxBuffer: number;
  readonly maxWorkgroupStorage: number;
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  /** A software renderer (isFallbackAdapter: lavapipe, SwiftShader), which runs the kernels on the CPU. */
  readonly software: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly label: string,
    /**
     * The GPU object and adapter the device came from. Held for the device's lifetime: Dawn's Node
     * binding crashes the process (SIGSEGV/abort) when its GPU instance is garbage-collected while a
     * device made from it is still in use.
     */
    readonly gpu?: GPU,
    readonly adapter?: GPUAdapter,
  ) {
    const l = device.limits;
    this.maxBinding = Number(l.maxStorageBufferBindingSize);
    this.maxBuffer = Number(l.maxBufferSize);
    this.maxWorkgroupStorage = l.maxComputeWorkgroupStorageSize;
    this.hasF16 = device.features.has('shader-f16');
    this.hasSubgroups = device.features.has('subgroups');
    this.hasTimestamps = device.features.has('timestamp-query');
    // Without the adapter, the device's own copy of its info (GPUDevice.adapterInfo): a software
    // renderer taken for a GPU would compile kernels it runs no faster (flat_gemv's 4-tile one).
    this.software = isSoftwareAdapter(adapter ?? { info: device.adapterInfo });
    void device.lost.then((info) => {
      if (this.destroyed) return;
      this.failure ??= new TesseraError(
        'DEVICE_LOST',
        `GPU device ${label} was lost (${info.reason}: ${info.message}): dispose this index and create or load it again`,
      );
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      const oom = ev.error.constructor?.name === 'GPUOutOfMemoryError';
      this.failure ??= new TesseraError(
        oom ? 'OUT_OF_MEMORY' : 'DEVICE_LOST',
        `GPU device ${label} reported an error outside any request: ${ev.error.message}; its results can no longer be trusted: dispose this index and create it again`,
      );
    };
  }

  /** Throws the latched failure, if any. Call at the start of every public operation. */
  check(): void {
    if (this.destroyed) {
      throw new TesseraError('INVALID_ARGUMENT', 'this GPU index was disposed: create or load a new one');
    }
    if (this.failure) throw this.failure;
  }

  /** Latches a failure seen by the caller (e.g. a rejected mapAsync) and returns it. */
  fail(error: TesseraError): TesseraError {
    this.failure ??= error;
    return this.failure;
  }

  /**
   * Creates a buffer inside out-of-memory and validation error scopes, so a device that cannot
   * hold it answers OUT_OF_MEMORY instead of losing the device later.
   */
  async createBuffer(desc: GPUBufferDescriptor): Promise<GPUBuffer> {
    this.check();
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const buffer = device.createBuffer(desc);
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom || validation) {
      buffer.destroy();
      const what = `${desc.label ?? 'buffer'} of ${desc.size} bytes on ${this.label}`;
      if (oom) {
        throw new TesseraError(
          'OUT_OF_MEMORY',
          `the GPU could not allocate ${what}: ${oom.message}; state gpuMemory (CLI --gpu-memory) as the memory this device really has free, which WebGPU does not report, so the planner fits rows, digit planes and temporary bytes before allocating and precision 'auto' picks what fits; or use precision 'f16' or 'int8', add adapters, or use backend 'wasm'`,
        );
      }
      throw new TesseraError('OUT_OF_MEMORY', `the GPU refused ${what}: ${validation!.message}`);
    }
    return buffer;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.onuncapturederror = null;
    this.device.destroy();
  }
}

export interface AcquireOptions {
  gpu?: GPU;
  /** A text naming the device in messages, e.g. "adapter 0". */
  label?: string;
  /**
   * Ask for Dawn's experimental `chromium-experimental-subgroup-matrix` (the int8 tensor-core scorer
   * of src/gpu/tensor). In Node without a `gpu` given, Dawn is opened with `allow_unsafe_apis`.
   */
  allowExperimental?: boolean;
  /**
   * Open Dawn with its `disable_robustness` toggle: no bounds clamps in the shaders and no Vulkan
   * robustBufferAccess (NVIDIA's 580 driver still checks every storage load: H100 h70). Node only,
   * and only when no `gpu` is given (a given GPU object keeps the toggles it was created with).
   * tessera's own kernels never index out of bounds (audited; tests run them with the toggle), but
   * a kernel bug would then read or write other memory instead of a clamped element. Off by default.
   */
  disableRobustness?: boolean;
}

/**
 * Dawn toggles behind allowExperimental: its unsafe APIs (subgroup matrices). Not
 * `vulkan_enable_f16_on_nvidia` (F16_ON_NVIDIA) on its own: it lets NVIDIA's Vulkan driver offer
 * shader-f16, which Dawn holds back there pending conformance failures (crbug 42251215), and with
 * it f16 subgroup-matrix configs; dawnFlags adds it where disableRobustness is asked for too.
 */
export const EXPERIMENTAL_TOGGLES: readonly string[] = ['allow_unsafe_apis'];

/**
 * The toggle for the f16 two-pass scan's f16 subgroup matrices on NVIDIA (IndexOptions.f16TwoPass,
 * src/gpu/tensor/half-scan.ts), which needs robustness off for its speed: with allowExperimental
 * and disableRobustness both. It changed no other route's time (H100 h87: f16 with its code plane at
 * 1-1024 queries, the conversion at 16-64).
 */
export const F16_ON_NVIDIA = 'vulkan_enable_f16_on_nvidia';

/**
 * The flags for Dawn's Node `create()` that the options ask for: one `enable-dawn-features=` list
 * (the binding keeps one value per flag). Empty when none.
 */
export function dawnFlags(opts: { allowExperimental?: boolean; disableRobustness?: boolean }): string[] {
  const scan = opts.allowExperimental && opts.disableRobustness ? [F16_ON_NVIDIA] : [];
  const toggles = [...(opts.allowExperimental ? EXPERIMENTAL_TOGGLES : []), ...scan, ...(opts.disableRobustness ? ['disable_robustness'] : [])];
  return toggles.length ? [`enable-dawn-features=${toggles.join(',')}`] : [];
}

/**
 * Why there is no WebGPU and what to do, for the runtime at hand: a page's fix is the browser and
 * how the page is served (navigator.gpu exists only in a secure context), not the `webgpu` package.
 */
export function noWebGpu(): string {
  if (inBrowser()) {
    return 'no WebGPU in this page (navigator.gpu is missing): use a browser with WebGPU enabled (chrome://gpu in Chromium says whether it is) and serve the page over HTTPS or from localhost (WebGPU needs a secure context)';
  }
  return 'no WebGPU in this runtime: install the optional dependency `webgpu` (Node) or use a browser with WebGPU';
}

/** Why WebGPU gave no adapter and what to do, for the runtime at hand (see noWebGpu). */
export function noAdapter(): string {
  if (inBrowser()) {
    return 'WebGPU offers no adapter in this browser (no GPU, or the browser blocks this GPU or driver, or hardware acceleration is off: chrome://gpu in Chromium says which)';
  }
  return 'WebGPU offers no adapter here (no GPU or driver; in CI install Mesa lavapipe)';
}

/** Requests an adapter and a device with the adapter's largest storage limits and useful features. */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const label = opts.label ?? 'adapter 0';
  const flags = dawnFlags(opts);
  const ownDawn = !opts.gpu && flags.length > 0 && platform().loadGpu;
  const gpu = ownDawn ? await platform().loadGpu!(flags) : await resolveGpu(opts.gpu);
  if (!gpu) throw new TesseraError('GPU_UNAVAILABLE', `${noWebGpu()}, or use backend "wasm"`);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new TesseraError('GPU_UNAVAILABLE', `requesting a WebGPU adapter failed: ${(e as Error).message}; use backend "wasm"`, { cause: e });
  }
  if (!adapter) throw new TesseraError('GPU_UNAVAILABLE', `${noAdapter()}: use backend "wasm"`);
  const a = adapter.limits;
  const wanted = ['shader-f16', 'subgroups', 'timestamp-query', ...(opts.allowExperimental ? ['chromium-experimental-subgroup-matrix'] : [])];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: `tessera ${label}`,
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxBufferSize: a.maxBufferSize,
        maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: Math.min(a.maxComputeInvocationsPerWorkgroup, 1024),
        maxComputeWorkgroupSizeX: Math.min(a.maxComputeWorkgroupSizeX, 1024),
        maxStorageBuffersPerShaderStage: Math.min(a.maxStorageBuffersPerShaderStage, 8),
      },
    });
  } catch (e) {
    // A driver that refuses (out of devices, a lost adapter) rejects with a bare OperationError.
    const name = adapterName(adapter);
    throw new TesseraError('GPU_UNAVAILABLE', `${label} (${name}) refused to open a device: ${(e as Error).message}; open fewer devices (devicesPerGpu), close other programs using the GPU, or use backend "wasm"`, { cause: e });
  }
  return new GpuContext(device, label, gpu, adapter);
}

/** What a probe of a GPU object found: no adapter, or its adapter and whether that is a software renderer. */
interface AdapterProbe {
  found: boolean;
  /** The adapter's name when it is a software (fallback) renderer, which runs on the CPU. */
  software?: string;
  /** Why none was found, where tessera could tell (its own error: Dawn refused by Node's permission model). */
  why?: string;
  /** `why` is the platform probe's give-up (a hung driver), said as it happened to those listening then. */
  saidWhy?: boolean;
}

type Notice = (message: string) => void;

let probe: Promise<AdapterProbe> | undefined;
/**
 * Who hears the default probe's lines (its wait, its give-up) while it runs, and what it said so
 * far: every caller waiting on it, each through its own onNotice, not only the one that started it
 * (a second index opened meanwhile waits as long, and its caller would not know why).
 */
let hearing: { listeners: Set<Notice>; said: string[] } | undefined;
/**
 * Who heard the default probe's lines (its listeners while it ran, kept once it is done): told its
 * give-up as it happened, they are not told it again as the reason for no adapter; a caller that
 * comes later is (it said only 'no usable WebGPU adapter', no word of the hung probe).
 */
let heard = new WeakSet<Notice>();
const probes = new WeakMap<GPU, Promise<AdapterProbe>>();

/**
 * `inProcess`: ask the GPU here, not the platform's child, for a caller that opens the adapter
 * anyway (backend 'gpu'), where the child would only add its start. Whichever probe of the default
 * GPU comes first answers later ones: both find the same adapter. `onNotice` hears what the
 * platform's probe says while it looks (gpu/dawn.ts probeDawnAdapter), from the start for the
 * caller that starts it, the lines so far first for one that joins.
 */
function probeGpu(gpu?: GPU, inProcess = false, onNotice?: Notice): Promise<AdapterProbe> {
  const run = async (g?: GPU, say?: Notice): Promise<AdapterProbe> => {
    try {
      // The platform's GPU (Dawn in Node), where resolveGpu would take it, looked at from outside
      // this process: discovering a Vulkan adapter makes Dawn's native code print two warnings,
      // which a run that then takes WASM should not show (gpu/dawn.ts probeDawnAdapter says why
      // nothing in-process avoids them).
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      let gaveUp: string | undefined;
      const outside = !g && !nav?.gpu && !inProcess ? await platform().probeAdapter?.({ onNotice: say, onGiveUp: (why) => (gaveUp = why) }) : undefined;
      if (outside === null && gaveUp !== undefined) return { found: false, why: gaveUp, saidWhy: true };
      if (outside !== undefined) return summarize(outside);
      const resolved = await resolveGpu(g);
      // The adapter acquireDevice opens (same powerPreference): the one 'auto' would run on.
      return summarize(resolved ? await resolved.requestAdapter({ powerPreference: 'high-performance' }) : null);
    } catch (e) {
      return e instanceof TesseraError ? { found: false, why: e.message } : { found: false };
    }
  };
  if (gpu) {
    let p = probes.get(gpu);
    if (!p) probes.set(gpu, (p = run(gpu)));
    return p;
  }
  if (!probe) {
    heard = new WeakSet<Notice>();
    const h = (hearing = { listeners: new Set<Notice>(), said: [] as string[] });
    probe = run(undefined, (message) => {
      h.said.push(message);
      for (const l of h.listeners) tell(l, message);
    });
    void probe.finally(() => {
      if (hearing === h) hearing = undefined;
    });
  }
  if (onNotice && hearing && !hearing.listeners.has(onNotice)) {
    for (const message of hearing.said) tell(onNotice, message);
    hearing.listeners.add(onNotice);
    heard.add(onNotice);
  }
  return probe;
}

/** One listener's onNotice: one that throws must not keep the others from hearing, nor fail the probe. */
function tell(listener: Notice, message: string): void {
  try {
    listener(message);
  } catch {
    // its own problem: the probe's answer does not depend on it
  }
}

/** Tests: the next probe of the runtime's own GPU looks again (it is kept for the process). Not exported by the package. */
export function forgetAdapterProbe(): void {
  probe = undefined;
  hearing = undefined;
  heard = new WeakSet<Notice>();
}

function summarize(adapter: AdapterSummary | null): AdapterProbe {
  if (!adapter) return { found: false };
  return isSoftwareAdapter(adapter) ? { found: true, software: adapterName(adapter) } : { found: true };
}

/**
 * A software renderer: GPUAdapterInfo.isFallbackAdapter (GPUAdapter.isFallbackAdapter in older
 * implementations), set for CPU implementations such as Mesa's llvmpipe (lavapipe) under Dawn and
 * Chromium's SwiftShader.
 */
function isSoftwareAdapter(adapter: AdapterSummary): boolean {
  return adapter.info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
}

/**
 * The adapter's most telling name: its description or device, else vendor and architecture
 * together, which is all Chromium's SwiftShader fills ('google swiftshader'; vendor alone said '(google)').
 */
function adapterName(adapter: AdapterSummary): string {
  const i = adapter.info ?? {};
  return i.description || i.device || [i.vendor, i.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * True when an adapter can be obtained (cached per GPU object; the default probe once per process).
 * `inProcess`: the caller opens the adapter next (backend 'gpu'), so no child looks first (probeGpu).
 * `onNotice`: told what the child says while it looks (a wait past 3 s, a give-up at 30 s).
 */
export async function gpuAvailable(gpu?: GPU, how: { inProcess?: boolean; onNotice?: Notice } = {}): Promise<boolean> {
  return (await probeGpu(gpu, how.inProcess, how.onNotice)).found;
}

/**
 * Why gpuAvailable found no adapter, where that is known (e.g. Node refused Dawn's native addon:
 * the fix is a Node flag, not a GPU; the probe gave up on a hung driver, for an `onNotice` that did
 * not hear it give up), for backend 'auto''s notice; else undefined.
 */
export async function gpuUnavailableReason(gpu?: GPU, how: { onNotice?: Notice } = {}): Promise<string | undefined> {
  const found = await probeGpu(gpu, false, how.onNotice);
  // A give-up this onNotice heard as it happened is not said again (its fallback notice follows it).
  return found.saidWhy && how.onNotice && heard.has(how.onNotice) ? undefined : found.why;
}

/**
 * The runtime's own adapter's name where it is a software renderer, else undefined: the adapter
 * backend 'gpu' opens when given no GPU object (the CLI's), for a backend line that says so (it runs
 * the kernels on the CPU, slower than WASM). Asked in-process: the caller has opened that adapter.
 */
export async function softwareAdapterName(): Promise<string | undefined> {
  return (await probeGpu(undefined, true)).software;
}

let softwareAdaptersTaken = false;

/**
 * Lets backend 'auto' take a software adapter as it takes a GPU (tests on CI's lavapipe that check
 * what 'auto' does on a GPU, in-process: a CLI user passes --backend gpu instead). Not exported by the package.
 */
export function autoTakesSoftwareAdapters(yes: boolean): void {
  softwareAdaptersTaken = yes;
}

/**
 * Why backend 'auto' should not take the runtime's own adapter although it exists, or undefined:
 * a software renderer runs the WGSL kernels on the CPU, far slower than the WASM backend on the same
 * cores (Mesa's llvmpipe on 2 cores: 79 ms against 3.3 ms for one query over 2,000 x 768, 2.1 s
 * against 0.16 s for 16 queries over 50,000; README "CPU-only machines"). A GPU object the caller
 * passes (`gpu`, `gpus`) is their choice and is used as it is.
 */
export async function softwareAdapterNote(opts: { gpu?: GPU | null; gpus?: readonly GPU[]; onNotice?: Notice }): Promise<string | undefined> {
  if (opts.gpu || opts.gpus?.length || softwareAdaptersTaken) return undefined;
  const found = await probeGpu(undefined, false, opts.onNotice);
  return found.software ? `the only WebGPU adapter is a software renderer on the CPU (${found.software}), slower than WASM` : undefined;
}
