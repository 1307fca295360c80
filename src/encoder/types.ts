/** The encoder contract the server, CLI and build use: texts in, L2-normalised (or not) vectors out. */

export type TextPrefix = 'query' | 'passage' | 'none';

export interface TextEncoder {
  /** Output dimension (e.g. 768 for e5-base-v2). */
  readonly dim: number;
  /** Model folder or name, for logs. */
  readonly name: string;
  /** texts -> Float32Array of texts.length x dim, row-major; prefixes follow the model's conventions (e5: "query: "). */
  encode(texts: readonly string[], opts?: { prefix?: TextPrefix }): Promise<Float32Array>;
  /** One line on how texts become vectors (pooling, normalisation, query prefix, token limit), for logs. */
  describe?(): string;
  dispose(): Promise<void>;
}
