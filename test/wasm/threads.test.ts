/**
 * The default thread count: "all cores" must hold on every supported Node, including Node 20,
 * which has no navigator.hardwareConcurrency (the Node entry installs os.availableParallelism).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { hardwareThreads, resolveThreads } from '../../src/wasm/worker-pool.js';
import { sharedMemoryAvailable } from '../../src/wasm/module.js';

describe('default threads', () => {
  it('counts the cores Node offers, with or without navigator', () => {
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    expect(hardwareThreads()).toBe(nav?.hardwareConcurrency ?? availableParallelism());
  });

  it('uses all of them by default where memory can be shared, and rejects bad counts', () => {
    expect(resolveThreads()).toBe(sharedMemoryAvailable() ? Math.min(256, hardwareThreads()) : 1);
    expect(resolveThreads(1)).toBe(1);
    expect(() => resolveThreads(0)).toThrow(/threads must be an integer in \[1, 256\]/);
    expect(() => resolveThreads(1.5)).toThrow(/threads must be an integer/);
    // a string from a config file or CLI must not read as the number it spells
    expect(() => resolveThreads('2' as never)).toThrow(/threads must be an integer in \[1, 256\], got the string "2"/);
  });
});
