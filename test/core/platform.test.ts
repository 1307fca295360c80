/**
 * The universal entry (what Deno and browsers load) has no file system: a path is UNSUPPORTED with
 * what to pass there instead. This file imports only src/index.ts, so no Node hooks are installed.
 */
import { expect, it } from 'vitest';
import { Encoder, readIndex } from '../../src/index.js';

it('a file path without the Node entry names the Node entry and what Deno and browsers pass instead', async () => {
  const fix = /Node entry .*in Deno and browsers give bytes instead: for index files an http\(s\) URL, the bytes, a Blob or File, or memorySource\(bytes\) to read, memorySink\(\) to save .*; a URL for a model folder \(in Deno new URL\('file:\/\/\//;
  await expect(readIndex('wiki.index')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(fix) });
  await expect(Encoder.fromDirectory('models/e5-base-v2')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(fix) });
});
