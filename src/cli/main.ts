#!/usr/bin/env node
/**
 * `tessera` command line. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `register(program)`; errors print one line naming the fix and exit non-zero.
 */
import { Command } from 'commander';
import '../node.js';
import { isTesseraError } from '../core/errors.js';
import { commands } from './commands/index.js';
import { fromSearchR1Flags } from './commands/serve.js';

const program = new Command()
  .name('tessera')
  .description('Portable dense retriever: exact GPU search in WGSL, FAISS-compatible ANN in WebAssembly')
  .version(process.env.TESSERA_VERSION ?? '0.1.0')
  .showHelpAfterError('(run with --help for usage)');

for (const register of commands) register(program);

try {
  await program.parseAsync(fromSearchR1Flags(process.argv));
} catch (e) {
  reportAndExit(e);
}
// Every action resolves only when its work is done (serve: once the server closed). Exit now so a
// native handle left open (Dawn's instance, a worker) never keeps a finished command alive.
process.exit(process.exitCode ?? 0);

function reportAndExit(e: unknown): never {
  // One line naming the fix; the stack only for bugs (not TesseraErrors) or with TESSERA_DEBUG=1.
  if (isTesseraError(e)) {
    console.error(`tessera: ${e.message} [${e.code}]`);
    if (process.env.TESSERA_DEBUG) console.error(e.stack);
  } else {
    console.error(`tessera: ${(e as Error)?.stack ?? String(e)}`);
  }
  process.exit(isTesseraError(e) ? 2 : 1);
}
