/**
 * WebGPU adapter probe for tests: GPU suites run when an adapter exists, else skip with a visible
 * message; with REQUIRE_WEBGPU=1 (CI) a missing adapter fails instead.
 */
import '../../src/node.js';
import { gpuAvailable } from '../../src/gpu/device.js';

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
