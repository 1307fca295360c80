/**
 * `tessera encode` / `tessera build` reproduce Search-R1's embeddings (retrieval_server.py for
 * queries, index_builder.py for passages) with --retriever-name, and take --normalize / --no-normalize
 * (DPR-style dot-product models). Before, neither command had a way to give the e5 prefixes to a
 * folder not named e5, BGE's query instruction, bge's cls pooling by name, or unnormalised vectors,
 * so `tessera build` could not write the index Search-R1's builder writes for such models.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register as registerBuild, serveCommand } from '../../src/cli/commands/build.js';
import { register as registerEncode } from '../../src/cli/commands/encode.js';
import { Encoder, type EncoderOptions } from '../../src/encoder/index.js';
import { searchR1PassageEncoding } from '../../src/encoder/search-r1.js';
import { writeToyFolder } from '../encoder/toy-model.js';
import { runCommand } from '../helpers/cli.js';

const DIM = 8;
let dir: string;
let model: string;
let texts: string;
const TEXTS = ['the cat sat on the mat', 'a dog ran'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-sr1-'));
  // Not named e5: its conventions come only from the flags.
  model = writeToyFolder(join(dir, 'retriever'), DIM);
  texts = join(dir, 't.json');
  writeFileSync(texts, JSON.stringify(TEXTS));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<number[][]> {
  const out = await runCommand(registerEncode, ['encode', '--model', model, '--texts', texts, '--json', '--threads', '1', ...args]);
  return (JSON.parse(out) as { embeddings: number[][] }).embeddings;
}

async function lib(opts: EncoderOptions, prefix: 'query' | 'passage'): Promise<number[][]> {
  const enc = await Encoder.fromDirectory(model, { threads: 1, ...opts });
  try {
    const v = await enc.encode(TEXTS, { prefix });
    return TEXTS.map((_, i) => Array.from(v.subarray(i * DIM, (i + 1) * DIM)));
  } finally {
    await enc.dispose();
  }
}

const norm = (v: number[]) => Math.hypot(...v);
const BGE = 'Represent this sentence for searching relevant passages: ';

describe('tessera encode --retriever-name / --normalize', () => {
  it("e5: 'query: ' for queries and 'passage: ' for passages, as Search-R1's server and builder add them", async () => {
    const plain = await cli();
    const q = await cli('--retriever-name', 'e5');
    expect(q).toEqual(await lib({ prefixes: { query: 'query: ', passage: '' }, pooling: 'mean', maxLength: 256 }, 'query'));
    expect(q).not.toEqual(plain);
    expect(await cli('--retriever-name', 'e5', '--prefix', 'passage')).toEqual(await lib({ prefixes: { query: '', passage: 'passage: ' }, pooling: 'mean' }, 'passage'));
  });

  it("bge: BGE's instruction before queries (mean pooling, as the server), cls pooling and no prefix for passages (as the builder)", async () => {
    expect(await cli('--retriever-name', 'bge')).toEqual(await lib({ prefixes: { query: BGE, passage: '' }, pooling: 'mean' }, 'query'));
    expect(await cli('--retriever-name', 'bge', '--prefix', 'passage')).toEqual(await lib({ prefixes: 'none', pooling: 'cls' }, 'passage'));
  });

  it('dpr: not normalised; --no-normalize and --normalize override the folder and the name', async () => {
    const dpr = await cli('--retriever-name', 'dpr');
    expect(Math.abs(norm(dpr[0]!) - 1)).toBeGreaterThan(1e-3);
    expect(dpr).toEqual(await lib({ normalize: false, pooling: 'mean' }, 'query'));
    expect(await cli('--no-normalize')).toEqual(dpr);
    for (const v of await cli('--retriever-name', 'dpr', '--normalize')) expect(norm(v)).toBeCloseTo(1, 5);
    for (const v of await cli()) expect(norm(v)).toBeCloseTo(1, 5);
  });

  it('--pooling and --max-length given override the name', async () => {
    expect(await cli('--retriever-name', 'bge', '--prefix', 'passage', '--pooling', 'mean', '--max-length', '4')).toEqual(await lib({ prefixes: 'none', pooling: 'mean', maxLength: 4 }, 'passage'));
  });
});

describe("index_builder.py's settings by --retrieval_method", () => {
  it("'passage: ' only for exactly e5; bge cls; normalised unless dpr; 256 tokens", () => {
    expect(searchR1PassageEncoding('e5')).toEqual({ prefixes: 'e5', pooling: 'mean', normalize: true, maxLength: 256 });
    expect(searchR1PassageEncoding('E5')).toEqual({ prefixes: 'e5', pooling: 'mean', normalize: true, maxLength: 256 });
    expect(searchR1PassageEncoding('e5-large').prefixes).toBe('none');
    expect(searchR1PassageEncoding('bge-base')).toEqual({ prefixes: 'none', pooling: 'cls', normalize: true, maxLength: 256 });
    expect(searchR1PassageEncoding('dpr')).toEqual({ prefixes: 'none', pooling: 'mean', normalize: false, maxLength: 256 });
  });

  it("build's serve line names --retriever-name, and --pooling cls for bge (Search-R1's server would mean-pool the queries)", () => {
    const r = { index: 'out/Flat.index', offsets: 'out/c.offsets' };
    expect(serveCommand(r, { corpus: 'c.jsonl', model: 'm', retrieverName: 'e5' })).toBe('tessera serve --index out/Flat.index --corpus c.jsonl --model m --offsets out/c.offsets --retriever-name e5');
    expect(serveCommand(r, { corpus: 'c.jsonl', model: 'm', retrieverName: 'bge' })).toMatch(/--retriever-name bge --pooling cls$/);
    expect(serveCommand(r, { corpus: 'c.jsonl', model: 'm', pooling: 'cls' })).toMatch(/--offsets out\/c\.offsets --pooling cls$/);
  });
});

describe('tessera build --retriever-name / --no-normalize', () => {
  async function build(out: string, ...args: string[]): Promise<{ vectors: Float32Array; stderr: string }> {
    const corpus = join(dir, 'c.jsonl');
    writeFileSync(corpus, TEXTS.map((t, i) => JSON.stringify({ id: String(i), contents: t })).join('\n') + '\n');
    const outDir = join(dir, out);
    mkdirSync(outDir, { recursive: true });
    const seen = { stderr: '' };
    await runCommand(registerBuild, ['build', '--corpus', corpus, '--model', model, '--out', outDir, '--threads', '1', ...args], seen);
    // IndexFlatIP's rows are its file's last n x d floats.
    const bytes = readFileSync(join(outDir, 'Flat.index'));
    const n = TEXTS.length * DIM;
    return { vectors: new Float32Array(bytes.buffer.slice(bytes.byteOffset + bytes.length - n * 4, bytes.byteOffset + bytes.length)), stderr: seen.stderr };
  }

  it("e5 on a folder not named e5 writes the 'passage: ' vectors; dpr writes them unnormalised", async () => {
    const e5 = await build('e5', '--retriever-name', 'e5');
    expect(Array.from(e5.vectors)).toEqual((await lib({ prefixes: 'e5', pooling: 'mean' }, 'passage')).flat().map(Math.fround));
    expect(e5.stderr).toContain('passage prefix "passage: "');
    expect(e5.stderr).toContain('--retriever-name e5');
    const dpr = await build('dpr', '--retriever-name', 'dpr');
    expect(Array.from(dpr.vectors)).toEqual((await lib({ normalize: false, pooling: 'mean' }, 'passage')).flat().map(Math.fround));
    expect(dpr.stderr).toContain('not normalised');
    expect(Array.from((await build('plain-no-norm', '--no-normalize')).vectors)).toEqual(Array.from(dpr.vectors));
    // Search-R1's builder adds "passage: " for the name e5 only, its server "query: " for any name with e5: said.
    const large = await build('e5-large', '--retriever-name', 'e5-large');
    expect(large.stderr).toContain('passage prefix ""');
    expect(large.stderr).toMatch(/note: --retriever-name e5-large: passages get no "passage: " prefix, as Search-R1's index_builder\.py/);
    expect(e5.stderr).not.toContain('note:');
  });
});
