/**
 * @module Test harness for CLI commands: registers commands on a fresh commander program, runs
 * argv through it in-process and returns what it printed on stdout and stderr (stderr is kept off
 * the test output).
 */
import { Command } from 'commander';
import { vi } from 'vitest';

/** Runs `rtrec <args…>` with only the commands `register` adds; resolves to what it printed. */
export async function runCommand(register: (program: Command) => void, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const program = new Command('rtrec').exitOverride();
  register(program);
  let stdout = '', stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'rtrec', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}
