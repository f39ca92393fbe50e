/**
 * @module The `rtrec` command line: builds the commander program from one module per command and
 * turns every RecError into `error CODE: message` on stderr with a non-zero exit code.
 */
import { Command, CommanderError } from 'commander';
import { isRecError } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('rtrec')
    .description('Self-hosted real-time recommendations: load data, split, train, evaluate, recommend, publish and serve.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (unknown option, missing argument, --help, --version).
    return err.exitCode;
  }
  if (isRecError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(`error (unexpected): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
