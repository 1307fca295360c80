/**
 * Model folders as a browser app has them: files picked as Blobs/Files (or ArrayBuffers) in a
 * record or Map, and the folder as an http(s) URL string (the universal entry has no file paths).
 */
import { expect, it } from 'vitest';
import { openModelFolder } from '../../src/encoder/model-files.js';

it('reads Blob, File and ArrayBuffer values of a record or Map as their bytes', async () => {
  const config = '{"hidden_size": 4}';
  const record = openModelFolder({ 'config.json': new File([config], 'config.json'), 'vocab.txt': new TextEncoder().encode('a\nb\n').buffer });
  expect(await record.json('config.json')).toEqual({ hidden_size: 4 });
  expect(new TextDecoder().decode(await record.get('vocab.txt'))).toBe('a\nb\n');
  const map = openModelFolder(new Map([['config.json', new Blob([config])]]));
  expect(await map.json('config.json')).toEqual({ hidden_size: 4 });
  expect(await map.get('tokenizer.json')).toBeUndefined();
});

it('an http(s) URL string is fetched as the URL it is, not opened as a path', async () => {
  const saved = globalThis.fetch;
  const asked: string[] = [];
  globalThis.fetch = (async (url: URL) => {
    asked.push(String(url));
    return new Response('{"hidden_size": 4}');
  }) as typeof fetch;
  try {
    const folder = openModelFolder('https://models.example/e5');
    expect(folder.label).toBe('https://models.example/e5/');
    expect(await folder.json('config.json')).toEqual({ hidden_size: 4 });
    expect(asked).toEqual(['https://models.example/e5/config.json']);
  } finally {
    globalThis.fetch = saved;
  }
});
