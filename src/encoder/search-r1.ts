/**
 * Passage encoding as Search-R1's index builder sets it up from --retrieval_method
 * (search_r1/search/index_builder.py), so `tessera build --retriever-name` writes the vectors its
 * index has. Queries are encoded as its retrieval server does: searchR1Encoding in server/files.ts.
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

/** `told` without its undefined entries, to spread over defaults: a flag left out keeps --retriever-name's (or the folder's) setting. */
export function definedOnly<T extends object>(told: T): Partial<T> {
  return Object.fromEntries(Object.entries(told).filter(([, v]) => v !== undefined)) as Partial<T>;
}
