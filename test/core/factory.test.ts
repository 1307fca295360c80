import { describe, expect, it } from 'vitest';
import { indexFactory, parseFactoryString } from '../../src/core/factory.js';
import { TesseraError } from '../../src/core/errors.js';

describe('factory strings', () => {
  it.each([
    ['Flat', { kind: 'flat' }],
    ['HNSW32', { kind: 'hnsw', M: 32 }],
    ['HNSW64,Flat', { kind: 'hnsw', M: 64 }],
    ['IVF4096,Flat', { kind: 'ivf', nlist: 4096, storage: 'flat' }],
    ['IVF1024, SQ8', { kind: 'ivf', nlist: 1024, storage: 'sq8' }],
    ['SQ8', { kind: 'sq', bits: 8 }],
  ])('parses %s', (s, spec) => {
    expect(parseFactoryString(s)).toEqual(spec);
  });
  it.each(['', 'flat', 'HNSW', 'HNSW1', 'IVF0,Flat', 'IVF64', 'IVF64,PQ8', 'Flat,Flat', 'HNSW32,SQ8', 'PCA64,Flat'])(
    'rejects %j with INVALID_ARGUMENT naming the stage',
    (s) => {
      expect(() => parseFactoryString(s)).toThrowError(TesseraError);
      try {
        parseFactoryString(s);
      } catch (e) {
        expect((e as TesseraError).code).toBe('INVALID_ARGUMENT');
      }
    },
  );
  it('rejects an unknown backend and a bad metric before doing anything', async () => {
    await expect(indexFactory(4, 'Flat', 'ip', { backend: 'cuda' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(indexFactory(4, 'Flat', 'cos' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(indexFactory(0, 'Flat')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
