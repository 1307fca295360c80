/** Parsers for CLI option values: bad values fail in commander with the option's name and the accepted form. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { isTesseraError } from '../core/errors.js';
import { DEFAULT_MAX_TEXT_CHARS } from '../encoder/tokenizer.js';
import { asCliWords } from '../server/files.js';
import { maxThreads, maxThreadsReason } from '../wasm/worker-pool.js';

/**
 * Refuses an option that takes a value followed at once by another option of its command:
 * `--index $INDEX --queries q.npy` with INDEX unset took "--queries" as the index and failed with
 * "too many arguments for 'search'. Expected 0 arguments but got 1." about q.npy. `argv` is
 * process.argv's form (node, script, command, ...).
 */
export function checkOptionValuesPresent(program: Command, argv: readonly string[]): void {
  const command = program.commands.find((c) => c.name() === argv[2] || c.aliases().includes(argv[2]!));
  if (!command) return;
  const flagOf = (arg: string | undefined) => command.options.find((o) => arg !== undefined && (o.long === arg || o.short === arg));
  for (let i = 3; i < argv.length - 1; i++) {
    if (argv[i] === '--') break;
    const option = flagOf(argv[i]);
    const next = flagOf(argv[i + 1]);
    if (option?.required && next) {
      command.error(`error: option '${option.flags}' has no value: ${argv[i + 1]} follows it (an unset shell variable?)`, { code: 'commander.optionMissingArgument' });
    }
  }
}

/** An upper bound of an option and what makes it one, said when a value passes it. */
export interface Bound {
  value: number;
  why: string;
}

/**
 * Most threads a --threads takes: each is a worker with a WebAssembly instance of its own (about
 * 11 MB each for the demo model's encoder), so a stray digit (--threads 100000) ran the process out
 * of memory instead of failing as a bad value. 256, or the machine's cores where it has more (it
 * was 256 on any machine, refusing a 512-thread server its cores, which the encoder takes by default).
 */
export const MAX_THREADS: Bound = {
  // Read when a value is parsed: the core count comes from the platform hooks of tessera's Node entry.
  get value() {
    return maxThreads();
  },
  get why() {
    return maxThreadsReason();
  },
};

/** An integer option in [min, max]. */
export function intOption(name: string, min: number, max: number | Bound = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const { value: most, why } = typeof max === 'number' ? { value: max, why: undefined } : max;
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > most) {
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${most}]${why && n > most ? ` (${why})` : ''}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/**
 * Commander checks required options before unknown ones, so a misspelt required option
 * (`--querys q.npy`) was reported as "required option '--queries <file>' not specified", which
 * the user had typed, rather than as the typo with commander's "Did you mean --queries?". The
 * commands' required options become optional to commander and are checked in a preAction hook,
 * which runs after the unknown-option check, with commander's own message. The hook also refuses
 * an option given as an empty string.
 */
export function checkRequiredOptionsAfterUnknownOnes(program: Command): void {
  const required = new Set<Option>();
  for (const command of program.commands) {
    for (const option of command.options) {
      if (!option.mandatory) continue;
      option.makeOptionMandatory(false);
      required.add(option);
    }
  }
  program.hook('preAction', (_program, command) => {
    for (const option of command.options) {
      const value: unknown = command.getOptionValue(option.attributeName());
      if (required.has(option) && value === undefined) {
        command.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
      }
      // --index "$INDEX" with the variable unset: the empty path failed later as "file not found: ".
      if (value === '') command.error(`error: option '${option.flags}' is empty: give its value (an unset shell variable?)`, { code: 'commander.invalidArgument' });
    }
  });
}

/** "40GiB", "512MB", "1073741824" -> bytes. kB/MB/GB/TB are decimal; k, KiB, G, GiB binary. */
export function bytesOption(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`must be a size such as 40GiB, 512MB or a number of bytes, got ${JSON.stringify(value)}`);
  const unit = m[2]!.toLowerCase();
  const pow = { '': 0, b: 0, k: 1, kb: 1, kib: 1, m: 2, mb: 2, mib: 2, g: 3, gb: 3, gib: 3, t: 4, tb: 4, tib: 4 }[unit]!;
  const base = /^[kmgt]b$/.test(unit) ? 1000 : 1024;
  const bytes = Math.round(Number(m[1]) * base ** pow);
  // Every size option is a limit or a memory: 0 reached fastify (--body-limit) as a stack trace.
  if (bytes < 1) throw new InvalidArgumentError(`must be a size of at least 1 byte, such as 40GiB or 512MB, got ${JSON.stringify(value)}`);
  return bytes;
}

/**
 * bytesOption with an upper bound (`most` bytes, said as `shown`, `why` it is one): a larger value
 * is refused, not capped without a word (convert --shard-bytes 8GiB built with 4GiB).
 */
export function bytesOptionAtMost(most: number, shown: string, why: string) {
  return (value: string): number => {
    const bytes = bytesOption(value);
    if (bytes > most) throw new InvalidArgumentError(`must be a size of at most ${shown} (${why}), got ${JSON.stringify(value)}: pass ${shown} or less, or leave it out for ${shown}`);
    return bytes;
  };
}

/** The GPU index's options, the same for `search` and the serving commands (`serve`, `demo`). */
export function addGpuIndexOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--precision <p>', 'GPU storage precision (auto: the most exact whose rows fit --gpu-memory, f32 without it; the GPU plan line says what was picked)').choices(['auto', 'f32', 'f16', 'int8']).default('auto'))
    .option('--gpu-memory <size>', 'GPU memory of each adapter for the plan to fit (e.g. 79GiB): WebGPU does not report it, so without it nothing is checked before allocating', bytesOption)
    .option('--allow-experimental', "GPU: int8, f16 and f32 batches on the tensor cores through Dawn's experimental subgroup matrices where the adapter has them (opens Dawn with allow_unsafe_apis; README, section Tensor cores)")
    .option('--disable-robustness', "GPU, Node: open Dawn with disable_robustness (no bounds clamps in the shaders: faster tensor-core kernels, but a kernel bug could touch other memory); with --allow-experimental and --no-digit-planes, f16 batches of 9-64 queries then run on the f16 two-pass scan (README, section GPU search)")
    .option('--no-digit-planes', 'GPU with --allow-experimental: keep no digit planes beside the rows (by default f32 keeps two, half its rows\' bytes again, and f16 a code plane, 0.75x f32\'s memory in all; without them f16 takes exactly half of f32\'s memory but converts its rows as it reads them, and f32 runs the f32 kernels)');
}

/** IndexOptions.digitPlanes from the CLI flag: false when --no-digit-planes, else the index's default. */
export function digitPlanesOption(flags: { digitPlanes?: boolean }): false | undefined {
  return flags.digitPlanes === false ? false : undefined;
}

/**
 * Writes text to stdout and resolves once it is handed to the OS, so a command may exit right
 * after without cutting a piped result short.
 */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (e) => (e ? reject(e) : resolve()));
  });
}

/**
 * --max-text-chars: characters of one text a tokenizer other than BERT's takes at once
 * (EncoderOptions.maxTextChars); the default is the encoder's, which the help names.
 */
export function maxTextCharsOption(): Option {
  return new Option(
    '--max-text-chars <n>',
    `a tokenizer other than BERT's (SentencePiece, byte-level BPE) refuses a text with no safe cut (README, section Encoder: a space after a word, and more) giving its first --max-length tokens within this many characters, rather than tokenize it whole (one long word takes seconds) (default: ${DEFAULT_MAX_TEXT_CHARS}, or 8 a token of --max-length when more)`,
  ).argParser(intOption('--max-text-chars', 1));
}

/** --pooling: how token states become one vector; the model folder's 1_Pooling config otherwise. */
export function poolingOption(what: string): Option {
  return new Option('--pooling <mode>', `pooling of token states for ${what} (default: the folder's 1_Pooling/config.json, else mean)`).choices(['mean', 'cls']);
}

/**
 * `action` with the library's errors in the CLI's words (asCliWords): under Node's permission model
 * `search --backend gpu` said "or use backend 'wasm'", the library's option, where the flag is
 * --backend wasm; a GPU too small said gpuMemory, convert's tiny --shard-bytes "raise shardBytes".
 */
export function inCliWords<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (e) {
      // The message alone: the stack still points where it was thrown (TESSERA_DEBUG=1).
      if (isTesseraError(e)) e.message = asCliWords(e.message);
      throw e;
    }
  };
}
