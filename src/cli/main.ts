#!/usr/bin/env node
/**
 * `tessera` command line. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `register(program)`; errors print one line naming the fix and exit non-zero.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import '../node.js';
import { isTesseraError } from '../core/errors.js';
import { commands } from './commands/index.js';
import { fromSearchR1Flags } from './commands/serve.js';
import { checkOptionValuesPresent, checkRequiredOptionsAfterUnknownOnes } from './options.js';
import { endProgressLine } from './progress.js';
import { cleanUpOnSignal, exitOnBrokenPipe, isBrokenPipe, signalExitCode } from './signal-cleanup.js';

const program = new Command()
  .name('tessera')
  .description('Portable dense retriever: exact GPU search in WGSL, FAISS-compatible ANN in WebAssembly')
  .version(packageVersion())
  .showHelpAfterError('(run with --help for usage)');

for (const register of commands) register(program);
checkRequiredOptionsAfterUnknownOnes(program);
cleanUpOnSignal();
// An output that fails otherwise (ENOSPC: --json > file on a full disk) is reported as any error is.
exitOnBrokenPipe(process.stdout, undefined, reportAndExit);
exitOnBrokenPipe(process.stderr, undefined, reportAndExit);

try {
  const argv = fromSearchR1Flags(process.argv);
  checkOptionValuesPresent(program, argv);
  await program.parseAsync(argv);
} catch (e) {
  reportAndExit(e);
}
// Every action resolves only when its work is done (serve: once the server closed). Exit now so a
// native handle left open (Dawn's instance, a worker) never keeps a finished command alive.
process.exit(process.exitCode ?? 0);

function reportAndExit(e: unknown): never {
  // stdout's reader has gone (| head): what it wanted was written; quiet, as SIGPIPE ends other tools.
  if (isBrokenPipe(e)) process.exit(signalExitCode('SIGPIPE'));
  // One line naming the fix; the stack only for bugs (not TesseraErrors) or with TESSERA_DEBUG=1.
  // Below a progress bar left drawn by the failed step, not on its line.
  endProgressLine();
  const line = isTesseraError(e) ? `${e.message} [${e.code}]` : fileSystemError(e);
  if (line !== undefined) {
    console.error(`tessera: ${line}`);
    if (process.env.TESSERA_DEBUG) console.error((e as Error).stack);
  } else {
    console.error(`tessera: ${(e as Error)?.stack ?? String(e)}`);
  }
  process.exit(line !== undefined ? 2 : 1);
}

/** A file system error that reached here untranslated (a wrong path, not a bug): one line, or undefined. */
function fileSystemError(e: unknown): string | undefined {
  const { code, path, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  const at = path ? ` ${path}` : '';
  const fixes: Record<string, string> = {
    ENOENT: `no such file or folder${at}: check the path (and that its folder exists)`,
    ENOTDIR: `a path component is not a folder${at}: check the path`,
    EISDIR: `a folder was given where a file is expected${at}: pass the file`,
    EACCES: `permission denied${at}: check its permissions or use another path`,
    EPERM: `operation not permitted${at}: check its permissions or use another path`,
    EROFS: `read-only file system${at}: write elsewhere`,
    ENOSPC: `no space left on the device${at}: free space or write elsewhere`,
    EMFILE: 'too many open files: raise the limit (ulimit -n)',
  };
  const fix = code ? fixes[code] : undefined;
  return fix && `${fix}${syscall ? ` (${syscall})` : ''} [${code}]`;
}

/** The installed package's version: package.json sits two levels up from src/cli/main.ts and dist/cli/main.js alike. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
