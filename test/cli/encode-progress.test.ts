/**
 * `tessera encode` on many texts reports progress between encoder runs and still returns exactly the
 * vectors of one Encoder.encode call (the same texts share each run, so the same padding).
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { encodeWithProgress } from '../../src/cli/commands/encode.js';
import type { ProgressEvent } from '../../src/core/types.js';
import { Encoder } from '../../src/encoder/encoder.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
let enc: Encoder;
beforeAll(async () => {
  enc = await Encoder.fromDirectory(MODEL, { batchSize: 4, threads: 1 });
});
afterAll(async () => enc?.dispose());

describe('encodeWithProgress', () => {
  it('chunks of whole runs with progress, the same vectors as one encode call', async () => {
    const words = ['library', 'river', 'music', 'king', 'doctor', 'the', 'planet', 'where', 'books', 'we'];
    const texts = Array.from({ length: 37 }, (_, i) => Array.from({ length: 1 + ((i * 7) % 11) }, (_, j) => words[(i + j * 3) % words.length]).join(' '));
    const events: ProgressEvent[] = [];
    const chunked = await encodeWithProgress(enc, texts, 'query', (e) => events.push(e), 2);
    expect(chunked).toEqual(await enc.encode(texts, { prefix: 'query' }));
    expect(events.map((e) => e.done)).toEqual([0, 8, 16, 24, 32, 37]);
    expect(events.every((e) => e.total === 37 && e.unit === 'texts' && e.phase === 'encoding texts')).toBe(true);
  });

  it('the phase starts before the texts are tokenized (a minute for a million texts, with nothing on screen)', async () => {
    const order: string[] = [];
    const tokenize = enc.tokenize.bind(enc);
    const spy = vi.spyOn(enc, 'tokenize').mockImplementation((...a: Parameters<Encoder['tokenize']>) => (order.push('tokenize'), tokenize(...a)));
    try {
      await encodeWithProgress(enc, Array.from({ length: 20 }, (_, i) => `text ${i}`), 'none', (e) => order.push(`progress ${e.done}`), 2);
    } finally {
      spy.mockRestore();
    }
    expect(order[0]).toBe('progress 0');
    expect(order).toContain('tokenize');
  });

  it('few texts: one call, no progress', async () => {
    const events: ProgressEvent[] = [];
    await encodeWithProgress(enc, ['one', 'two'], 'none', (e) => events.push(e));
    expect(events).toHaveLength(0);
  });
});
