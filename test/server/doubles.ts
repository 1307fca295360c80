/**
 * Test doubles for the server's unit tests (batching, limits, faults) only: a deterministic
 * bag-of-words TextEncoder and a brute-force Index with fault injection. End-to-end tests use the
 * real encoder, model and index.
 */
import { TesseraError } from '../../src/core/errors.js';
import type { Backend, Index, SearchResult } from '../../src/core/types.js';
import type { TextEncoder } from '../../src/encoder/types.js';

/** Each word adds a fixed pseudo-random unit-ish vector (seeded by its characters); rows L2-normalised. */
export class WordHashEncoder implements TextEncoder {
  readonly name = 'word-hash test encoder';
  calls: string[][] = [];
  /** Extra delay per call, ms (to let requests pile up). */
  delayMs = 0;
  /** Time each call holds the thread, ms, as an ONNX run on this thread does (no I/O meanwhile). */
  blockMs = 0;
  /** Calls wait for it while set: a batch held in the encoder for as long as a test needs, not for a guessed time. */
  gate?: Promise<void>;
  constructor(readonly dim: number) {}

  async encode(texts: readonly string[]): Promise<Float32Array> {
    this.calls.push([...texts]);
    await this.gate;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    for (const until = performance.now() + this.blockMs; performance.now() < until; );
    return embed(texts, this.dim);
  }

  async dispose(): Promise<void> {}
}

export function embed(texts: readonly string[], dim: number): Float32Array {
  const out = new Float32Array(texts.length * dim);
  texts.forEach((text, t) => {
    for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
      let h = 2166136261;
      for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
      for (let j = 0; j < dim; j++) {
        h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
        out[t * dim + j]! += ((h >>> 8) / (1 << 24)) * 2 - 1;
      }
    }
    let s = 0;
    for (let j = 0; j < dim; j++) s += out[t * dim + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[t * dim + j]! *= inv;
  });
  return out;
}

/** Exact inner-product search in plain JS; `loseDevice()` makes the next search throw DEVICE_LOST. */
export class BruteForceIndex implements Index {
  readonly metric = 'ip' as const;
  readonly isTrained = true;
  readonly description = 'Flat';
  searches: number[] = [];
  disposed = false;
  private lose = false;
  constructor(
    readonly d: number,
    protected readonly rows: Float32Array,
    readonly backend: Backend = 'gpu',
  ) {}

  get ntotal(): number {
    return this.rows.length / this.d;
  }

  loseDevice(): void {
    this.lose = true;
  }

  async train(): Promise<void> {}
  async add(): Promise<void> {
    throw new TesseraError('UNSUPPORTED', 'test double');
  }

  async search(q: Float32Array, k: number): Promise<SearchResult> {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'index disposed');
    if (this.lose) throw new TesseraError('DEVICE_LOST', 'GPU device lost (test: injected)');
    const nq = q.length / this.d;
    this.searches.push(nq);
    const n = this.ntotal;
    const labels = new BigInt64Array(nq * k).fill(-1n);
    const distances = new Float32Array(nq * k).fill(-Infinity);
    for (let i = 0; i < nq; i++) {
      const scores = Array.from({ length: n }, (_, r) => {
        let s = 0;
        for (let j = 0; j < this.d; j++) s += q[i * this.d + j]! * this.rows[r * this.d + j]!;
        return [Math.fround(s), r] as const;
      }).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let j = 0; j < Math.min(k, n); j++) {
        labels[i * k + j] = BigInt(scores[j]![1]);
        distances[i * k + j] = scores[j]![0];
      }
    }
    return { nq, k, labels, distances };
  }

  async save(): Promise<void> {
    throw new TesseraError('UNSUPPORTED', 'test double');
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/**
 * An index that searches deeper for a larger k, as GpuFlatIndex's int8/f16 searches do (k + 16 or
 * 4k candidates by approximate scores, re-ranked exactly): a shortlist of k + 2 rows by scores
 * rounded to steps of 0.25, re-ranked exactly. Its top 1 at k 1 can differ from its top 1 at k 50.
 */
export class CoarseShortlistIndex extends BruteForceIndex {
  override async search(q: Float32Array, k: number): Promise<SearchResult> {
    this.searches.push(q.length / this.d);
    return this.searchSync(q, k);
  }

  searchSync(q: Float32Array, k: number): SearchResult {
    const base = this.rows;
    const nq = q.length / this.d;
    const n = this.ntotal;
    const labels = new BigInt64Array(nq * k).fill(-1n);
    const distances = new Float32Array(nq * k).fill(-Infinity);
    for (let i = 0; i < nq; i++) {
      const exact = Array.from({ length: n }, (_, r) => {
        let s = 0;
        for (let j = 0; j < this.d; j++) s += q[i * this.d + j]! * base[r * this.d + j]!;
        return { r, s: Math.fround(s), coarse: Math.round(s * 4) / 4 };
      });
      const shortlist = [...exact].sort((a, b) => b.coarse - a.coarse || a.r - b.r).slice(0, k + 2);
      shortlist.sort((a, b) => b.s - a.s || a.r - b.r);
      for (let j = 0; j < Math.min(k, shortlist.length); j++) {
        labels[i * k + j] = BigInt(shortlist[j]!.r);
        distances[i * k + j] = shortlist[j]!.s;
      }
    }
    return { nq, k, labels, distances };
  }
}

/** A BruteForceIndex with GpuFlatIndex's warmUp(k): records each call, or throws when told to. */
export class WarmableIndex extends BruteForceIndex {
  /** k of each warmUp call, with the searches done before it. */
  warmed: { k: number; searchesBefore: number }[] = [];
  failWarmUp = false;

  warmUp(k: number): void {
    if (this.failWarmUp) throw new TesseraError('DEVICE_LOST', 'GPU device lost (test: injected at warm-up)');
    this.warmed.push({ k, searchesBefore: this.searches.length });
  }
}

/** A small corpus of rows shaped like Search-R1's wiki-18 rows. */
export function demoRows(n: number): string[] {
  const topics = ['cat', 'dog', 'river', 'mountain', 'piano', 'rocket', 'bread', 'ocean', 'forest', 'castle', 'violin', 'desert'];
  return Array.from({ length: n }, (_, i) => {
    const t = topics[i % topics.length]!;
    return JSON.stringify({ id: String(i), contents: `"${t} ${i}"\nA passage about the ${t} number ${i}, with some ${t} words.` });
  });
}

export class MemoryRows {
  constructor(private readonly texts: string[]) {}
  get rows(): number {
    return this.texts.length;
  }
  async rowsAt(ids: readonly number[]): Promise<string[]> {
    return ids.map((i) => this.texts[i]!);
  }
  async close(): Promise<void> {}
}

/** startService's limits and timings for a test server, on any free port of this machine only. */
export const TEST_SERVICE_LIMITS = {
  host: '127.0.0.1',
  port: 0,
  defaultTopk: 3,
  maxTopk: 50,
  maxBatch: 8,
  maxWaitMs: 0,
  timeoutMs: 5000,
  bodyLimit: 4096,
  reloadRetryMs: 10,
} as const;
