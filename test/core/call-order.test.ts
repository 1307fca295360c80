/**
 * Adds and searches issued together on one index, without awaiting each other: every search must
 * answer as if the calls ran one after another in call order. Before calls were ordered, IVF
 * returned lists of neighbours from no state of the index, HNSW's worker trapped ("memory access
 * out of bounds") or hung, and the GPU Flat index mixed rows of an add still in flight.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { orderCalls } from '../../src/core/call-order.js';
import { indexFactory } from '../../src/core/factory.js';
import { memorySource, readIndex, shardedIndex } from '../../src/index.js';
import { memorySink } from '../../src/io/byte-reader.js';
import type { Backend, Index, SearchResult } from '../../src/core/types.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

const d = 16;
const chunk = 3000;
const chunks = 4;
const base = randomVectors(chunk * chunks, d, 11);
const queries = randomVectors(8, d, 12);
const part = (c: number) => base.subarray(c * chunk * d, (c + 1) * chunk * d);
const labelsOf = (r: SearchResult) => Array.from(r.labels, Number);

const hasGpu = await gpuForTests('adds and searches issued together on the GPU');

describe.each([
  ['sharded', 'IVF8,Flat'],
  ['sharded', 'HNSW16'],
  ['wasm', 'Flat'],
  ['wasm', 'HNSW16'],
  ['wasm', 'IVF8,Flat'],
  ['wasm', 'IVF8,SQ8'],
  ['wasm', 'SQ8'],
  ['gpu', 'Flat'],
] as [Backend | 'sharded', string][])('%s %s: add and search issued together', (backend, type) => {
  it.runIf(backend !== 'gpu' || hasGpu)('each search sees exactly the adds issued before it', async () => {
    const make = async () => {
      const opts = { threads: 2, seed: 5, efSearch: 64 };
      // shardedIndex (public entry): rows over module instances of about 1000 vectors each.
      const index = backend === 'sharded' ? shardedIndex(d, type, 'ip', { ...opts, shardBytes: 100_000 }) : await indexFactory(d, type, 'ip', { ...opts, backend });
      await index.train(part(0));
      return index;
    };
    const search = (index: Index) => index.search(queries, 5, { nprobe: 2 });
    // The answers of the same calls awaited one by one: after 1, 2, 3, 4 chunks.
    const expected: number[][] = [];
    const seq = await make();
    for (let c = 0; c < chunks; c++) {
      await seq.add(part(c));
      expected.push(labelsOf(await search(seq)));
    }
    await seq.dispose();

    const index = await make();
    await index.add(part(0));
    const calls: Promise<SearchResult | void>[] = [];
    const seen: number[] = [];
    for (let c = 1; c < chunks; c++) {
      calls.push(search(index));
      seen.push(c);
      calls.push(index.add(part(c)));
      calls.push(search(index));
      seen.push(c + 1);
    }
    const results = (await Promise.all(calls)).filter((r): r is SearchResult => r !== undefined);
    expect(index.ntotal).toBe(chunk * chunks);
    expect(results.map(labelsOf)).toEqual(seen.map((n) => expected[n - 1]));
    await index.dispose();
  }, 120_000);
});

it('an index read from a file (readIndex) orders its calls too', async () => {
  const built = await indexFactory(d, 'IVF8,Flat', 'ip', { backend: 'wasm', threads: 2, seed: 5 });
  await built.train(part(0));
  const sink = memorySink();
  await built.save(sink);
  const expected: number[][] = [];
  for (let c = 0; c < chunks; c++) {
    await built.add(part(c));
    expected.push(labelsOf(await built.search(queries, 5, { nprobe: 2 })));
  }
  await built.dispose();
  const index = await readIndex(memorySource(sink.bytes()), { backend: 'wasm', threads: 2 });
  const calls: Promise<SearchResult | void>[] = [];
  for (let c = 0; c < chunks; c++) {
    calls.push(index.add(part(c)));
    calls.push(index.search(queries, 5, { nprobe: 2 }));
  }
  const results = (await Promise.all(calls)).filter((r): r is SearchResult => r !== undefined);
  expect(results.map(labelsOf)).toEqual(expected);
  await index.dispose();
}, 120_000);

describe('orderCalls', () => {
  /** An index whose calls log when they start and end, each taking a few ms. */
  function fake() {
    const log: string[] = [];
    const step = (name: string) => async (tag?: string) => {
      log.push(`${name}${tag ?? ''}>`);
      await new Promise((r) => setTimeout(r, 5));
      if (tag === '!') throw new Error('failed');
      log.push(`<${name}${tag ?? ''}`);
    };
    const index = { search: step('s'), save: step('v'), add: step('a'), train: step('t'), dispose: step('d') } as unknown as Index;
    return { index: orderCalls(index), log };
  }

  it('runs searches together, adds alone, in call order; a failed call does not stall the rest', async () => {
    const { index, log } = fake();
    const call = (m: 'search' | 'add' | 'dispose', tag: string) => (index[m] as unknown as (t: string) => Promise<void>)(tag);
    await Promise.allSettled([call('search', '1'), call('search', '2'), call('add', '!'), call('search', '3'), call('add', '4'), call('dispose', '5')]);
    expect(log).toEqual(['s1>', 's2>', '<s1', '<s2', 'a!>', 's3>', '<s3', 'a4>', '<a4', 'd5>', '<d5']);
  });

  it('a search queued behind an add rejects as soon as its signal aborts, and never runs', async () => {
    // It waited for the add to end (seconds to minutes for a large HNSW add) before it looked at its signal.
    const log: string[] = [];
    let finishAdd!: () => void;
    const addDone = new Promise<void>((r) => (finishAdd = r));
    const calls = {
      add: async () => {
        await addDone;
        log.push('<a');
      },
      search: async () => void log.push('s'),
      save: async () => {},
      train: async () => {},
      dispose: async () => {},
    };
    const index = orderCalls(calls as unknown as Index);
    const q = new Float32Array(0);
    const added = index.add(q);
    const reason = new Error('request timed out');
    const ac = new AbortController();
    const queued = index.search(q, 1, { signal: ac.signal });
    const t0 = performance.now();
    setTimeout(() => ac.abort(reason), 10);
    const addEnds = setTimeout(finishAdd, 1000);
    await expect(queued).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
    await expect(index.search(q, 1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(log).toEqual([]);
    clearTimeout(addEnds);
    finishAdd();
    await added;
    await index.search(q, 1, { signal: new AbortController().signal });
    await index.search(q, 1);
    expect(log).toEqual(['<a', 's', 's']);
  });

  it('wraps an index once', () => {
    const { index } = fake();
    const search = index.search;
    expect(orderCalls(index).search).toBe(search);
  });
});
