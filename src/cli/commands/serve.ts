/**
 * @module `rtrec serve`: the HTTP recommendation API over an online store. Every setting is a flag
 * and an `RTREC_*` environment variable (flags win); API keys come from the environment only
 * (RTREC_API_KEYS), so they never show in process listings.
 */
import type { Command } from 'commander';
import { CONFIG_ENV, ServeConfigSchema, flagOf, loadServeConfig, type ServeConfig, type ServeConfigKey } from '../../serve/config.js';
import { runServe } from '../../serve/server.js';

/** Settings without a flag: secrets. */
const ENV_ONLY: readonly ServeConfigKey[] = ['apiKeys'];

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('Serve recommendations over HTTP from an online store (OpenAPI document at /docs)');
  for (const key of Object.keys(CONFIG_ENV) as ServeConfigKey[]) {
    if (ENV_ONLY.includes(key)) continue;
    const schema = ServeConfigSchema.properties[key] as { type?: string; description?: string; default?: unknown };
    const boolean = schema.type === 'boolean';
    const help = `${schema.description ?? ''} [env ${CONFIG_ENV[key]}; default ${JSON.stringify(schema.default)}]`;
    cmd.option(boolean ? flagOf(key) : `${flagOf(key)} <value>`, help);
  }
  cmd.addHelpText('after', `\nAPI keys: ${CONFIG_ENV.apiKeys}=key1,key2 (admin routes need one; reads too with --require-key-for-reads).`);
  cmd.action(async (flags: Partial<Record<ServeConfigKey, string | boolean>>) => {
    await runServe(serveConfigFromFlags(flags));
  });
}

/** The configuration `rtrec serve` runs with for these flags and the current environment. */
export function serveConfigFromFlags(flags: Partial<Record<ServeConfigKey, string | boolean>>, env: NodeJS.ProcessEnv = process.env): Readonly<ServeConfig> {
  return loadServeConfig({ env, flags });
}
