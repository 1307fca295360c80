/**
 * HNSW shard plans count the threads that will search each instance (a visited byte per vector for
 * each): `tessera info` and `tessera convert` planned for 4 threads whatever the machine or
 * --threads, so info could promise one instance that a 16-core load split into shards, and convert
 * refused (or built) an HNSW file by another rule than the one it was given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { register as registerInfo } from '../../src/cli/commands/info.js';
import { writeVectors } from '../../src/io/vectors.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { planShards, type ShardPlan } from '../../src/wasm/shards.js';
import { resolveThreads } from '../../src/wasm/worker-pool.js';
import { runCommand } from '../helpers/cli.js';
import { randomVectors } from '../helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-hnsw-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `tessera info <args>` in this process; its stdout. */
function info(...args: string[]): Promise<string> {
  return runCommand(registerInfo, ['info', ...args]);
}

describe('HNSW shard plans use the threads of the load', () => {
  it('planShards counts the threads given, by default those an instance gets (all cores), not 4', () => {
    const plan = (threads?: number) => planShards({ description: 'HNSW32', d: 128, ntotal: 1000, threads });
    const base = 4 * 128 + 4 * (64 + 4) + 12;
    expect(plan(1)).toMatchObject({ bytesPerVector: base + 1, threads: 1 });
    expect(plan(16)).toMatchObject({ bytesPerVector: base + 16, threads: 16 });
    expect(plan()).toMatchObject({ bytesPerVector: base + resolveThreads(), threads: resolveThreads() });
  });

  it('tessera info plans an HNSW file for --threads, and without it for all cores', async () => {
    const d = 8;
    const index = await WasmHnswIndex.create(d, 16, 'l2', { threads: 1 });
    await index.add(randomVectors(50, d, 3));
    const file = join(dir, 'small.hnsw');
    await index.save(file);
    await index.dispose();
    const planOf = async (...flags: string[]) => (JSON.parse(await info(file, '--json', ...flags)) as { shardPlan: ShardPlan }).shardPlan;
    const base = 4 * d + 4 * (32 + 4) + 12;
    expect(await planOf('--threads', '16')).toMatchObject({ threads: 16, bytesPerVector: base + 16 });
    expect(await planOf('--threads', '1')).toMatchObject({ threads: 1, bytesPerVector: base + 1 });
    expect(await planOf()).toMatchObject({ threads: resolveThreads(), bytesPerVector: base + resolveThreads() });
    expect(await info(file, '--threads', '16')).toMatch(/^wasm shards +WASM memory: .* per vector, a visited byte each for 16 search threads \+/m);
  });

  it('tessera convert decides whether HNSW fits one instance with the --threads it builds with', async () => {
    // d=4, HNSW32: 300 bytes per vector plus one per thread; a 1 MiB shard leaves 768 KiB, so
    // 2600 vectors fit for 1 thread (2612) and not for 4 (2586), 2500 fit for 4 but not for 16 (2488)
    const d = 4;
    const input = join(dir, 'rows.npy');
    await writeVectors(input, randomVectors(2600, d, 4), d);
    const shardBytes = 1 << 20;
    const one = await convertIndex({ input, output: join(dir, 'one.index'), indexType: 'HNSW32', threads: 1, shardBytes, efConstruction: 8 });
    expect(one).toMatchObject({ ntotal: 2600, shards: 1 });
    const input2500 = join(dir, 'rows2500.npy');
    await writeVectors(input2500, randomVectors(2500, d, 5), d);
    await expect(convertIndex({ input: input2500, output: join(dir, 'sixteen.index'), indexType: 'HNSW32', threads: 16, shardBytes })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      // 2500 fit one instance for 4 threads or fewer: the refusal says so
      message: expect.stringMatching(/several graphs.*fewer --threads/),
    });
  });
});

describe('HNSW shards built by add', () => {
  it('grow their memory with their vectors: a whole shard was reserved up front (1000 vectors took a 4 GiB memory)', async () => {
    const { shardedIndex } = await import('../../src/wasm/shards.js');
    const d = 64;
    const idx = shardedIndex(d, 'HNSW16', 'ip', { threads: 1, shardWorkers: false });
    try {
      await idx.add(randomVectors(1000, d, 6));
      expect(idx.shardCount).toBe(1);
      expect(idx.wasmMemoryBytes).toBeLessThan(16 << 20);
      const r = await idx.search(randomVectors(1, d, 7), 5);
      expect(r.labels.every((l) => l >= 0n && l < 1000n)).toBe(true);
    } finally {
      await idx.dispose();
    }
    // with the size known each shard reserves its share, and fills it
    const sized = shardedIndex(d, 'HNSW16', 'ip', { threads: 1, shardWorkers: false, expectedVectors: 1000, shardBytes: 256 << 10 });
    try {
      await sized.add(randomVectors(1000, d, 8));
      expect(sized.shardCount).toBeGreaterThan(1);
      expect(sized.shardSizes().reduce((a, b) => a + b, 0)).toBe(1000);
    } finally {
      await sized.dispose();
    }
  });
});

describe('one HNSW instance and the shard plan agree', () => {
  it('an index filled by add stops where a plan for its memory stops, so the graph it saves loads as one instance', async () => {
    // It kept 16 MiB free where plans keep a quarter of the memory, up to 64 MiB: at 4 GiB it took
    // 1.267M x 768 vectors, and readIndex then rebuilt the saved file as two shard graphs.
    const { needsShards } = await import('../../src/wasm/shards.js');
    const [d, M, chunk] = [512, 4, 4000];
    const memoryLimit = 128 << 20;
    const x = randomVectors(chunk, d, 9);
    const index = await WasmHnswIndex.create(d, M, 'l2', { threads: 1, efConstruction: 4, memoryLimit });
    try {
      let error: unknown;
      for (let i = 0; i < 30 && !error; i++) await index.add(x).catch((e: unknown) => (error = e));
      expect(error).toMatchObject({ code: 'OUT_OF_MEMORY' });
      const rows = planShards({ description: `HNSW${M}`, d, ntotal: index.ntotal, shardBytes: memoryLimit, threads: 1 }).rowsPerShard;
      expect(index.ntotal).toBeLessThanOrEqual(rows);
      expect(index.ntotal).toBeGreaterThan(rows - chunk);
      expect(needsShards(`HNSW${M}`, d, index.ntotal, { shardBytes: memoryLimit, threads: 1 })).toBe(false);
      expect((error as Error).message).toContain(`about ${rows} fit`);
    } finally {
      await index.dispose();
    }
  });
});
