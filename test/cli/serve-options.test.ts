/** `tessera serve` / `demo` option parsing: the choices README documents, shared with encode and build. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addServingOptions } from '../../src/cli/commands/serve.js';
import { installNativeRuntime, nativeRuntimeHooks } from '../../src/encoder/runtime.js';
import { loadRuntime } from '../../src/encoder/runtime-load.js';

describe('serving options', () => {
  it("--encoder takes the runtimes encode and build take, native (onnxruntime-node) included", () => {
    // serve refused native ("Allowed choices are auto, wasm, webgpu") while encode and build took it.
    for (const provider of ['auto', 'wasm', 'webgpu', 'native']) {
      const cmd = addServingOptions(new Command()).exitOverride();
      cmd.parse(['--encoder', provider], { from: 'user' });
      expect(cmd.opts().encoder).toBe(provider);
    }
    const cmd = addServingOptions(new Command()).exitOverride().configureOutput({ writeErr: () => {} });
    expect(() => cmd.parse(['--encoder', 'cuda'], { from: 'user' })).toThrow(/Allowed choices are auto, wasm, webgpu, native/);
  });

  it('--encoder native without onnxruntime-node names the flag that runs without it', async () => {
    // It said 'or use "wasm"', the library's option value: a serve or encode user types --encoder wasm.
    const before = nativeRuntimeHooks();
    installNativeRuntime({ loadNative: async () => undefined }); // onnxruntime-node not installed
    try {
      await expect(loadRuntime('native')).rejects.toThrow(/npm install onnxruntime-node\) or use "wasm" \(CLI: --encoder wasm\)/);
    } finally {
      if (before) installNativeRuntime(before);
    }
  });

  it('--body-limit shows its default as a size (16MiB), parses sizes, and defaults to 16 MiB in bytes', () => {
    // The help said "(default: 16777216)", a byte count nobody types.
    const cmd = addServingOptions(new Command());
    expect(cmd.helpInformation()).toMatch(/--body-limit <size>[\s\S]*?\(default:\s+16MiB\)/);
    expect(cmd.helpInformation()).not.toContain('16777216');
    expect(addServingOptions(new Command()).exitOverride().parse([], { from: 'user' }).opts().bodyLimit).toBe(16 << 20);
    expect(addServingOptions(new Command()).exitOverride().parse(['--body-limit', '2MiB'], { from: 'user' }).opts().bodyLimit).toBe(2 << 20);
  });

  it('--topk and --max-topk above 2^20, what every index returns per query, are refused as the flags are parsed (the demo built its index first)', () => {
    const parse = (args: string[]) => addServingOptions(new Command()).exitOverride().configureOutput({ writeErr: () => {} }).parse(args, { from: 'user' }).opts();
    expect(parse(['--max-topk', String(2 ** 20)]).maxTopk).toBe(2 ** 20);
    expect(() => parse(['--max-topk', String(2 ** 20 + 1)])).toThrow(/--max-topk must be an integer in \[1, 1048576\], got "1048577"/);
    expect(() => parse(['--topk', String(2 ** 20 + 1)])).toThrow(/--topk must be an integer in \[1, 1048576\]/);
  });
});
