/**
 * Encoding settings from a Search-R1 retriever name: passages as its index builder sets them up from
 * --retrieval_method (search_r1/search/index_builder.py), so `tessera build --retriever-name` writes
 * the vectors its index has; queries as its retrieval server does from --retriever_name
 * (searchR1Encoding), for `tessera serve` and `tessera encode`.
 */
import type { EncoderOptions } from './encoder.js';

/** index_builder.py's MODEL2POOLING: the first key in the name decides; --pooling_method overrides. */
const MODEL2POOLING: readonly (readonly [string, 'mean' | 'cls'])[] = [
  ['e5', 'mean'],
  ['bge', 'cls'],
  ['contriever', 'mean'],
  ['jina', 'mean'],
];

/**
 * index_builder.py: "passage: " only when the method is exactly "e5" (not "e5-large"), none for bge
 * (its instruction is for queries); pooling by MODEL2POOLING, else mean; L2-normalised unless the
 * name has "dpr"; 256 tokens (build_index.sh's --max_length; the script's own default is 180).
 */
export function searchR1PassageEncoding(name: string): Pick<EncoderOptions, 'prefixes' | 'pooling' | 'normalize' | 'maxLength'> {
  const lower = name.toLowerCase();
  return {
    prefixes: lower === 'e5' ? 'e5' : 'none',
    pooling: MODEL2POOLING.find(([k]) => lower.includes(k))?.[1] ?? 'mean',
    normalize: !lower.includes('dpr'),
    maxLength: 256,
  };
}

/**
 * Query encoding as Search-R1's retrieval server sets it up from --retriever_name (retrieval_server.py:
 * Encoder.encode picks the prefix by name and normalises unless the name has dpr; its main fixes mean
 * pooling and 256 tokens whatever the model). Nothing when no name is given: the folder decides.
 */
export function searchR1Encoding(name: string | undefined): Pick<EncoderOptions, 'prefixes' | 'pooling' | 'normalize' | 'maxLength'> {
  if (name === undefined) return {};
  const prefixes: EncoderOptions['prefixes'] = /e5/i.test(name)
    ? 'e5'
    : /bge/i.test(name)
      ? { query: 'Represent this sentence for searching relevant passages: ', passage: '' }
      : 'none';
  return { prefixes, pooling: 'mean', normalize: !/dpr/i.test(name), maxLength: 256 };
}

/** `told` without its undefined entries, to spread over defaults: a flag left out keeps --retriever-name's (or the folder's) setting. */
export function definedOnly<T extends object>(told: T): Partial<T> {
  return Object.fromEntries(Object.entries(told).filter(([, v]) => v !== undefined)) as Partial<T>;
}
