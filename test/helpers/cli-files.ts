/**
 * The files the CLI and serve tests run on: small WASM Flat indexes of 4 rows and a corpus of 4
 * passages, so a command or a server has something real to load while the test looks at its words.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';

/** The bundled demo model and its dimension (an index must have it for serve to encode queries into it). */
export const DEMO_MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
export const DEMO_D = 100;

/** Saves a WASM Flat (ip) index of 4 rows of d dims (row values sin(i)) at `path`. */
export async function saveSmallFlatIndex(path: string, d: number): Promise<void> {
  const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
  try {
    await index.add(Float32Array.from({ length: 4 * d }, (_, i) => Math.sin(i)));
    await index.save(path);
  } finally {
    await index.dispose();
  }
}

/** Writes the corpus of the 4-row indexes at `path`: ids "0".."3", contents "row i". */
export function writeSmallCorpus(path: string): void {
  writeFileSync(path, Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
}
