/** The one error class of tessera: a closed set of codes, messages that say expected vs actual and the fix. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_TRAINED'
  | 'UNSUPPORTED'
  | 'GPU_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'OUT_OF_MEMORY'
  | 'FORMAT'
  | 'NOT_FOUND';

export const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'NOT_TRAINED',
  'UNSUPPORTED',
  'GPU_UNAVAILABLE',
  'DEVICE_LOST',
  'OUT_OF_MEMORY',
  'FORMAT',
  'NOT_FOUND',
];

export class TesseraError extends Error {
  override readonly name = 'TesseraError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTesseraError(e: unknown, code?: ErrorCode): e is TesseraError {
  return e instanceof TesseraError && (code === undefined || e.code === code);
}

/** Byte counts for messages: 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // whole bytes as they are; a fractional count (bytes per vector, an average) to one decimal like the rest
  return `${unit === 0 && Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
