/**
 * WebGPU adapter probe for tests: GPU suites run when an adapter exists, else skip with a visible
 * message; with REQUIRE_WEBGPU=1 (CI) a missing adapter fails instead.
 */
import '../../src/node.js';
import { gpuAvailable, softwareAdapterNote } from '../../src/gpu/device.js';

export const REQUIRE_WEBGPU = process.env.REQUIRE_WEBGPU === '1';

/** Resolves true when tests can use a WebGPU adapter; logs or throws otherwise. */
export async function gpuForTests(what: string): Promise<boolean> {
  const ok = await gpuAvailable();
  if (ok) return true;
  const message = `no WebGPU adapter: ${what} cannot run (install Mesa lavapipe from bookworm-backports; see .ci/run)`;
  if (REQUIRE_WEBGPU) throw new Error(`${message}; REQUIRE_WEBGPU=1 makes this a failure`);
  console.warn(`[SKIPPED] ${message}; set REQUIRE_WEBGPU=1 to fail instead`);
  return false;
}

/**
 * Whether the runtime's own adapter is a software renderer (Mesa's llvmpipe here and in CI), which
 * backend 'auto' passes over for WASM (gpu/device.ts softwareAdapterNote).
 */
export async function defaultAdapterIsSoftware(): Promise<boolean> {
  return (await softwareAdapterNote({})) !== undefined;
}

/** What a wrapped GPU object records and injects (see wrapGpu). */
export interface GpuSpy {
  /** Sizes of every createBuffer call on devices from this GPU, in order. */
  buffers: number[];
  /** Buffers larger than this fail with an injected out-of-memory error (as a device that is full). */
  oomAbove?: number;
  /** Buffers whose label matches fail the same way. */
  oomLabel?: RegExp;
  /** Bytes of the buffers made and not yet destroyed, and the most they reached (tests may reset it). */
  live?: number;
  peak?: number;
}

/**
 * A GPU object whose devices record buffer allocations and can fail them with an out-of-memory
 * error inside the caller's error scopes, as a real device does when it is full. Everything else
 * goes to the real device. Lets tests check "refused before allocating" and device OOM handling
 * on the software adapter, which never runs out of memory at test sizes.
 */
export function wrapGpu(gpu: GPU, spy: GpuSpy): GPU {
  const wrapDevice = (device: GPUDevice): GPUDevice => {
    const scopes: { filter: GPUErrorFilter; injected?: string }[] = [];
    return new Proxy(device, {
      get(target, prop) {
        if (prop === 'createBuffer') {
          return (desc: GPUBufferDescriptor) => {
            spy.buffers.push(desc.size);
            if ((spy.oomAbove !== undefined && desc.size > spy.oomAbove) || (spy.oomLabel && spy.oomLabel.test(desc.label ?? ''))) {
              const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
              if (scope) scope.injected ??= `injected: ${desc.size} bytes exceed the ${spy.oomAbove ?? 0} bytes left`;
              return target.createBuffer({ ...desc, size: 16 });
            }
            const buffer = target.createBuffer(desc);
            spy.live = (spy.live ?? 0) + desc.size;
            spy.peak = Math.max(spy.peak ?? 0, spy.live);
            const destroy = buffer.destroy.bind(buffer);
            let gone = false;
            buffer.destroy = () => {
              if (!gone) spy.live! -= desc.size;
              gone = true;
              destroy();
            };
            return buffer;
          };
        }
        if (prop === 'pushErrorScope') {
          return (filter: GPUErrorFilter) => {
            scopes.push({ filter });
            target.pushErrorScope(filter);
          };
        }
        if (prop === 'popErrorScope') {
          return async () => {
            const scope = scopes.pop();
            const real = await target.popErrorScope();
            return scope?.injected ? { message: scope.injected } : real;
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
      set(target, prop, value) {
        return Reflect.set(target, prop, value, target);
      },
    });
  };
  const wrapAdapter = (adapter: GPUAdapter): GPUAdapter =>
    new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'requestDevice') return async (desc?: GPUDeviceDescriptor) => wrapDevice(await target.requestDevice(desc));
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const a = await gpu.requestAdapter(o);
      return a && wrapAdapter(a);
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  } as GPU;
}

/** A WebGPU `GPU` whose adapter exists but refuses every device request (a driver out of devices). */
export function refusingGpu(): GPU {
  const adapter = {
    info: { vendor: 'test', architecture: '', device: 'refusing adapter', description: '' },
    features: new Set<string>(),
    limits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 30 },
    requestDevice: async () => {
      throw new Error('requestDevice refused by the test adapter');
    },
  };
  return { wgslLanguageFeatures: new Set(), requestAdapter: async () => adapter, getPreferredCanvasFormat: () => 'rgba8unorm' } as unknown as GPU;
}
