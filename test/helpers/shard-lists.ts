/**
 * The candidate lists a GPU index's first shard resolves for each batch, as the kernels left them
 * (before the host's merge and, for int8, its re-rank): a test can then compare two ways of scoring
 * the same batch bit for bit, e.g. a dispatch a tile against several tiles a dispatch.
 */
import { expect } from 'vitest';
import type { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import type { FlatShard } from '../../src/gpu/flat-shard.js';
import type { SearchResult } from '../../src/core/types.js';

/** FlatShard.submitBatch (private) resolves the batch's lists (ShardResult). */
type ShardSpy = { submitBatch: (...a: unknown[]) => Promise<{ keys: Float32Array; ids: Uint32Array }> };

export interface ShardLists {
  shard: FlatShard;
  /** Each batch's keys and ids in submission order (clear it between comparisons). */
  lists: { keys: number[]; ids: number[] }[];
}

export function recordShardLists(index: GpuFlatIndex): ShardLists {
  const shard = (index as unknown as { shards: FlatShard[] }).shards[0]!;
  const spy = shard as unknown as ShardSpy;
  const lists: ShardLists['lists'] = [];
  const submit = spy.submitBatch.bind(shard);
  spy.submitBatch = (...a: unknown[]) => submit(...a).then((r) => (lists.push({ keys: [...r.keys], ids: [...r.ids] }), r));
  return { shard, lists };
}

/** Two searches of one batch (`one`, then `got`) gave the same results and their shard the same lists, bit for bit. */
export function expectSameSearch(got: SearchResult, one: SearchResult, lists: ShardLists['lists']): void {
  expect([...got.labels]).toEqual([...one.labels]);
  expect([...got.distances]).toEqual([...one.distances]);
  expect(lists).toHaveLength(2);
  expect(lists[1]).toEqual(lists[0]);
}
