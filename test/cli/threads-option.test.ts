/**
 * --threads (and the library's `threads`) is bounded by 256, or by the machine's cores where it has
 * more: it was 256 everywhere, refusing a 512-thread server its cores (which the encoder takes by
 * default) with a bare "[1, 256]", while the bound is still there for a stray digit.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { intOption, MAX_THREADS } from '../../src/cli/options.js';
import { maxThreads, resolveThreads } from '../../src/wasm/worker-pool.js';
import { sharedMemoryAvailable } from '../../src/wasm/module.js';

const threads = intOption('--threads', 1, MAX_THREADS);
afterEach(() => vi.unstubAllGlobals());

describe('--threads', () => {
  it('takes up to the cores of a machine with more than 256, and says what bounds it past them', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 512 });
    expect(maxThreads()).toBe(512);
    expect(threads('384')).toBe(384);
    expect(threads('512')).toBe(512);
    expect(() => threads('513')).toThrow(/^--threads must be an integer in \[1, 512\] \(at most this machine's 512 cores: each thread is a worker .*only share them\), got "513"$/);
    expect(resolveThreads(384)).toBe(sharedMemoryAvailable() ? 384 : 1);
    expect(() => resolveThreads(100_000)).toThrow(/threads must be an integer in \[1, 512\] \(at most this machine's 512 cores/);
    // The default stays at 256 there: more is for who asks.
    expect(resolveThreads()).toBe(sharedMemoryAvailable() ? 256 : 1);
  });

  it('takes up to 256 on a smaller machine, a stray digit refused saying why', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 8 });
    expect(threads('256')).toBe(256);
    expect(() => threads('100000')).toThrow(/^--threads must be an integer in \[1, 256\] \(at most 256, or the cores of a machine with more \(this one has 8\): .*\), got "100000"$/);
    expect(() => threads('0')).toThrow(/^--threads must be an integer in \[1, 256\], got "0"$/);
    expect(() => resolveThreads(257)).toThrow(/threads must be an integer in \[1, 256\] \(at most 256, or the cores of a machine with more \(this one has 8\)/);
  });
});
