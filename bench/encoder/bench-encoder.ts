/**
 * Encoder throughput: texts/s of tessera's Encoder on a model folder, for batch x tokens cases, on one
 * execution provider. Texts are built from single-piece words so each has exactly the asked token
 * count including the e5 prefix and [CLS]/[SEP] (checked). Prints one JSON line per case.
 *
 *   node out/bench-encoder.mjs --model DIR --provider wasm|webgpu|native [--threads N]
 *        [--cases 1x32,64x32,16x256] [--seconds 5]
 *
 * A case runs one warm-up batch, then batches until --seconds have passed (at least 2); the figure
 * is the median batch time. "queries": e5 "query: " texts of 32 tokens; "passages": "passage: "
 * texts of 256 tokens (e5-base-v2's Search-R1 maximum).
 */
import { cpus } from 'node:os';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import type { ExecutionProviderChoice } from '../../src/encoder/runtime.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const model = args.get('model');
if (!model) {
  console.error('usage: bench-encoder --model DIR [--provider wasm|webgpu|native|auto] [--threads N] [--cases 1x32,64x32] [--seconds S]');
  process.exit(2);
}
const provider = (args.get('provider') ?? 'wasm') as ExecutionProviderChoice;
const threads = args.has('threads') ? Number(args.get('threads')) : undefined;
const cases = (args.get('cases') ?? '1x32,64x32,16x256').split(',').map((c) => c.split('x').map(Number) as [number, number]);
const seconds = Number(args.get('seconds') ?? 5);

// Common words that are one WordPiece each in bert-base-uncased (checked below per text).
const WORDS = 'the river city music school water light house market story garden winter mountain paper energy family history village doctor island science summer animal language money window forest engine letter church ocean'.split(' ');

function textOf(enc: Encoder, tokens: number, prefix: 'query' | 'passage', seed: number): string {
  const overhead = enc.tokenize('', prefix).length; // [CLS] prefix pieces [SEP]
  const words: string[] = [];
  for (let i = 0; i < tokens - overhead; i++) words.push(WORDS[(seed * 7 + i * 13) % WORDS.length]!);
  const text = words.join(' ');
  const got = enc.tokenize(text, prefix).length;
  if (got !== Math.min(tokens, enc.maxLength)) throw new Error(`text meant to be ${tokens} tokens has ${got}: the model's vocabulary splits the bench words`);
  return text;
}

const t0 = performance.now();
const maxBatch = Math.max(...cases.map((c) => c[0]));
const enc = await Encoder.fromDirectory(model, { executionProvider: provider, threads, batchSize: maxBatch });
const loadMs = performance.now() - t0;
console.error(`loaded ${model} on ${enc.provider} (threads ${enc.threads}, dim ${enc.dim}) in ${loadMs.toFixed(0)} ms`);

for (const [batch, tokens] of cases) {
  const prefix = tokens > 64 ? 'passage' : 'query';
  const texts = Array.from({ length: batch }, (_, i) => textOf(enc, tokens, prefix, i));
  await enc.encode(texts, { prefix }); // warm-up (kernel compilation, allocations)
  const times: number[] = [];
  const end = performance.now() + seconds * 1e3;
  while (times.length < 2 || (performance.now() < end && times.length < 200)) {
    const s = performance.now();
    const out = await enc.encode(texts, { prefix });
    times.push(performance.now() - s);
    if (!Number.isFinite(out[0])) throw new Error('encoder produced a non-finite value');
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1]!;
  console.log(
    JSON.stringify({
      impl: 'tessera',
      provider: enc.provider,
      threads: enc.threads,
      kind: prefix === 'query' ? 'queries' : 'passages',
      batch,
      tokens,
      ms_per_batch: Number(ms.toFixed(2)),
      texts_per_s: Number(((batch / ms) * 1e3).toFixed(1)),
      reps: times.length,
      cpu: `${cpus()[0]?.model ?? '?'} x${cpus().length}`,
      node: process.version,
    }),
  );
}
await enc.dispose();
process.exit(0);
