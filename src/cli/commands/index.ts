/**
 * @module The list of CLI commands, in the order `rtrec --help` shows them. Each module exports a
 * function that adds its command to the program.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [];
