/** The list of subcommands: each module exports `register(program)`. One line per command. */
import type { Command } from 'commander';
import { register as bench } from './bench.js';
import { register as build } from './build.js';
import { register as convert } from './convert.js';
import { register as demo } from './demo.js';
import { register as encode } from './encode.js';
import { register as info } from './info.js';
import { register as search } from './search.js';
import { register as serve } from './serve.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  info,
  search,
  bench,
  serve,
  demo,
  encode,
  build,
  convert,
];
