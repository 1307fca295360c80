/** The list of subcommands: each module exports `register(program)`. One line per command. */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
