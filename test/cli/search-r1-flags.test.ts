/**
 * Search-R1's launch flags (retrieval_launch.sh: --index_path, --corpus_path, --topk, --retriever_name,
 * --retriever_model, --faiss_gpu) reach `tessera serve` as its own; the query prefix follows
 * --retriever_name the way Search-R1's encoder picks it. End to end: test/server/e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fromSearchR1Flags } from '../../src/cli/commands/serve.js';
import { searchR1Encoding } from '../../src/encoder/search-r1.js';

const argv = (...args: string[]) => ['node', 'tessera', ...args];

describe("Search-R1's retrieval_server.py flags", () => {
  it('retrieval_launch.sh as written becomes serve flags', () => {
    const launch = argv('serve', '--index_path', 'e5_Flat.index', '--corpus_path', 'wiki-18.jsonl', '--topk', '3', '--retriever_name', 'e5', '--retriever_model', 'e5-onnx/', '--faiss_gpu');
    expect(fromSearchR1Flags(launch)).toEqual(
      argv('serve', '--index', 'e5_Flat.index', '--corpus', 'wiki-18.jsonl', '--topk', '3', '--retriever-name', 'e5', '--model', 'e5-onnx/', '--backend', 'gpu'),
    );
  });

  it('--flag=value form, and other commands untouched', () => {
    expect(fromSearchR1Flags(argv('serve', '--index_path=a.index', '--corpus_path=c.jsonl'))).toEqual(argv('serve', '--index=a.index', '--corpus=c.jsonl'));
    expect(fromSearchR1Flags(argv('search', '--index_path', 'a'))).toEqual(argv('search', '--index_path', 'a'));
  });

  it("retrieval_launch_bm25.sh (--retriever_name bm25, a Lucene folder, no model) is refused naming BM25, not a missing --model", () => {
    const bm25 = argv('serve', '--index_path', 'corpus/bm25', '--corpus_path', 'wiki-18.jsonl', '--topk', '3', '--retriever_name', 'bm25');
    expect(() => fromSearchR1Flags(bm25)).toThrow(/--retriever_name bm25 is Search-R1's BM25 retriever .* tessera does not serve: tessera serves dense FAISS indexes/);
    expect(() => fromSearchR1Flags(argv('serve', '--retriever-name=bm25'))).toThrow(/BM25/);
    // Only serve's flags: a query or a path that says bm25 is not the retriever.
    expect(fromSearchR1Flags(argv('serve', '--index_path', 'bm25', '--retriever_name', 'e5'))).toEqual(argv('serve', '--index', 'bm25', '--retriever-name', 'e5'));
    expect(fromSearchR1Flags(argv('search', '--retriever_name', 'bm25'))).toEqual(argv('search', '--retriever_name', 'bm25'));
  });

  it('--retriever_name sets query encoding as Search-R1 does: prefix by name, mean pooling, dpr unnormalised, 256 tokens', () => {
    expect(searchR1Encoding(undefined)).toEqual({});
    const fixed = { pooling: 'mean', normalize: true, maxLength: 256 };
    expect(searchR1Encoding('e5')).toEqual({ prefixes: 'e5', ...fixed });
    expect(searchR1Encoding('E5-large')).toEqual({ prefixes: 'e5', ...fixed });
    expect(searchR1Encoding('bge')).toEqual({ prefixes: { query: 'Represent this sentence for searching relevant passages: ', passage: '' }, ...fixed });
    expect(searchR1Encoding('contriever')).toEqual({ prefixes: 'none', ...fixed });
    expect(searchR1Encoding('dpr')).toEqual({ prefixes: 'none', ...fixed, normalize: false });
  });
});
