/** The encoder contract the server, CLI and build use: texts in, L2-normalised (or not) vectors out. */

export type TextPrefix = 'query' | 'passage' | 'none';

export interface TextEncoder {
  /** Output dimension (e.g. 768 for e5-base-v2). */
  readonly dim: number;
  /** Model folder or name, for logs. */
  readonly name: string;
  /** texts -> Float32Array of texts.length x dim, row-major; prefixes follow the model's conventions (e5: "query: "). */
  encode(texts: readonly string[], opts?: { prefix?: TextPrefix }): Promise<Float32Array>;
  /**
   * Throws, as encode would, for a text it refuses (encoder.ts: TextTooLongError, for a tokenizer
   * that cannot stop early in a text past maxTextChars), without running the model; the server and
   * build ask it for each text, so one such text fails alone, not the batch it would run in.
   */
  check?(text: string, opts?: { prefix?: TextPrefix }): void;
  /** One line on how texts become vectors (pooling, normalisation, query prefix, token limit), for logs. */
  describe?(): string;
  dispose(): Promise<void>;
}
