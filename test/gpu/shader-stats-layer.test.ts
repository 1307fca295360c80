/**
 * bench/shader-stats: the Vulkan layer that reads each pipeline's register count from the driver
 * (the device machine's NVIDIA driver has VK_KHR_pipeline_executable_properties; lavapipe has not).
 * selftest.sh builds it and a fake driver layer that plays one with the extension, and runs a Dawn
 * pipeline through both on lavapipe: the layer must enable the extension and its feature, set the
 * capture flags, and print the statistics and write the SPIR-V the fake reports. Needs a C compiler
 * and the Vulkan headers (Debian: gcc, libvulkan-dev; .ci/install-system.sh installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gpuForTests, REQUIRE_WEBGPU } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('the pipeline statistics layer self-test');
const hasCompiler = spawnSync('cc', ['--version']).status === 0 && existsSync('/usr/include/vulkan/vk_layer.h');
if (!hasCompiler) {
  const message = 'no C compiler or Vulkan headers: the pipeline statistics layer self-test cannot run (apt-get install gcc libvulkan-dev)';
  if (REQUIRE_WEBGPU) throw new Error(`${message}; REQUIRE_WEBGPU=1 makes this a failure`);
  console.warn(`[SKIPPED] ${message}`);
}

describe.skipIf(!hasGpu || !hasCompiler)('bench/shader-stats layer', () => {
  it('enables the statistics, captures them for every pipeline and prints them by the module\'s functions', () => {
    const out = execFileSync('bash', ['bench/shader-stats/selftest.sh'], { encoding: 'utf8', timeout: 120_000 });
    expect(out).toContain('selftest: ok');
    expect(out).toMatch(/pipeline 1 \[doubled,main_inner,main\] local 64x1x1, \d+ SPIR-V words: Compute Shader \(subgroup 32\): Register Count=40 Spills=false/);
    // TESSERA_STATS_CACHE: the pipeline created into the layer's own cache, whose data it wrote.
    expect(out).toMatch(/\[pipeline cache: \d+ bytes\]\)$/m);
  }, 150_000);
});
