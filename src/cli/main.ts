#!/usr/bin/env node
/**
 * `tessera` command line. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `register(program)`; errors print one line naming the fix and exit non-zero.
 */
import { Command } from 'commander';
import '../node.js';
import { isTesseraError } from '../core/errors.js';
import { commands } from './commands/index.js';

const program = new Command()
  .name('tessera')
  .description('Portable dense retriever: exact GPU search in WGSL, FAISS-compatible ANN in WebAssembly')
  .version(process.env.TESSERA_VERSION ?? '0.1.0')
  .showHelpAfterError('(run with --help for usage)');

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  reportAndExit(e);
}

function reportAndExit(e: unknown): never {
  if (isTesseraError(e)) {
    console.error(`tessera: ${e.message} [${e.code}]`);
  } else {
    console.error(`tessera: ${(e as Error)?.stack ?? String(e)}`);
  }
  if (process.env.TESSERA_DEBUG && e instanceof Error) console.error(e.stack);
  process.exit(isTesseraError(e) ? 2 : 1);
}
