/** The encoder's public surface: model folders -> TextEncoder on ONNX Runtime. */
export { Encoder, E5_PREFIXES, checkEncoderDim } from './encoder.js';
export type { EncoderOptions, PrefixStrings } from './encoder.js';
export { WordPieceTokenizer, bertTokenizerJson, TextTooLongError, DEFAULT_MAX_TEXT_CHARS } from './tokenizer.js';
export type { TokenBatch } from './tokenizer.js';
export { pool, l2NormalizeRows } from './pooling.js';
export type { Pooling } from './pooling.js';
export { openModelFolder } from './model-files.js';
export type { ModelFiles, FileLookup, ModelFolder } from './model-files.js';
export { installNativeRuntime } from './runtime.js';
export type { ExecutionProvider, ExecutionProviderChoice, NativeRuntimeHooks } from './runtime.js';
