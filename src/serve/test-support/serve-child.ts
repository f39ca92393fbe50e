/**
 * @module Child process for server tests: runs `rtrec serve` exactly as the CLI does, configured
 * by RTREC_* environment variables (and the CLI flags given as argv). Run through ts-child.ts.
 */
import { serveConfigFromFlags } from '../../cli/commands/serve.js';
import { runServe } from '../server.js';

const flags: Record<string, string> = {};
const argv = process.argv.slice(2);
for (let j = 0; j + 1 < argv.length; j += 2) flags[argv[j].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = argv[j + 1];
await runServe(serveConfigFromFlags(flags));
process.stdout.write('{"msg":"child exiting"}\n');
