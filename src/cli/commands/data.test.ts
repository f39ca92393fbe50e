import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../test-support/run-command.js';
import { isRecError } from '../../core/errors.js';
import { addLoadOptions, loadOptionsFrom, registerDataCommand } from './data.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** Runs `rtrec <args>` in-process and returns what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  return (await runCommand(registerDataCommand, args)).stdout;
}

describe('rtrec data info', () => {
  it('summarises a MovieLens-style folder as JSON (hand-computed from the fixture)', async () => {
    const summary = JSON.parse(await run(['data', 'info', join(FIXTURES, 'tiny-movielens-csv'), '--json'])) as Record<string, unknown>;
    expect(summary).toMatchObject({ format: 'movielens-csv', users: 3, items: 4, interactions: 7, itemMetadataFields: ['title', 'genres'], itemsWithMetadata: 4 });
    expect(summary.density).toBeCloseTo(7 / 12, 12);
    expect(summary.rating).toEqual({ min: 1, max: 5, mean: 23 / 7 });
    expect(summary.time).toMatchObject({ min: 1600000000, max: 1600000600 });
  });

  it('prints a text summary, saying implicit when there are no ratings', async () => {
    const text = await run(['data', 'info', join(FIXTURES, 'tiny-events.jsonl')]);
    expect(text).toMatch(/^ratings\s+implicit$/m);
    expect(text).toMatch(/^interactions\s+4$/m);
    expect(text).toMatch(/^time range\s+2024-01-01T10:00:00.000Z to 2024-01-03T12:30:00.000Z$/m);
  });

  it('honours column flags and rejects an unknown --format value', async () => {
    const err = await run(['data', 'info', join(FIXTURES, 'tiny-events.jsonl'), '--user-col', 'person']).catch((e: unknown) => e);
    expect(isRecError(err) && err.code).toBe('RTREC_ERR_DATA_BAD_ROW');
    expect((err as Error).message).toContain('no user column "person"');
    const bad = await run(['data', 'info', FIXTURES, '--format', 'xml']).catch((e: unknown) => e);
    expect(isRecError(bad) && bad.code).toBe('RTREC_ERR_CONFIG_INVALID');
  });
});

describe('rtrec data subcommands', () => {
  it('has download, info and generate', () => {
    const program = new Command('rtrec');
    registerDataCommand(program);
    const data = program.commands.find((c) => c.name() === 'data');
    expect(data?.commands.map((c) => c.name()).sort()).toEqual(['download', 'generate', 'info']);
  });
});

describe('addLoadOptions / loadOptionsFrom', () => {
  it('maps every flag onto LoadOptions', () => {
    const cmd = addLoadOptions(new Command('x').exitOverride());
    cmd.parse(['--format', 'tsv', '--user-col', 'u', '--item-col', 'i', '--rating-col', 'r', '--timestamp-col', 't', '--items', 'cat.csv', '--item-id-col', 'sku', '--encoding', 'latin-1'], { from: 'user' });
    const options = loadOptionsFrom(cmd.opts());
    expect(options).toMatchObject({ format: 'tsv', userCol: 'u', itemCol: 'i', ratingCol: 'r', timestampCol: 't', itemsFile: 'cat.csv', itemIdCol: 'sku', encoding: 'latin-1' });
    expect(typeof options.onProgress).toBe('function');
  });
});

describe('rtrec data download (local server)', () => {
  let server: Server;
  let root: string;
  let baseUrl: string;
  beforeAll(async () => {
    const zip = zipSync({ 'ml-latest-small/ratings.csv': strToU8('userId,movieId,rating,timestamp\n1,2,3,4\n'), 'ml-latest-small/movies.csv': strToU8('movieId,title,genres\n2,X,Drama\n') });
    const sum = createHash('md5').update(zip).digest('hex');
    server = createServer((req, res) => {
      if (req.url === '/ml-latest-small.zip') res.end(Buffer.from(zip));
      else if (req.url === '/ml-latest-small.zip.md5') res.end(`${sum}  ml-latest-small.zip\n`);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    root = await mkdtemp(join(tmpdir(), 'rtrec-cli-data-'));
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    await rm(root, { recursive: true, force: true });
  });

  it('downloads into --dir, then reports a skip', async () => {
    const first = JSON.parse(await run(['data', 'download', 'movielens-latest-small', '--dir', root, '--base-url', baseUrl, '--json'])) as Record<string, unknown>;
    expect(first).toMatchObject({ name: 'movielens-latest-small', skipped: false, path: join(root, 'ml-latest-small') });
    expect((await readdir(join(root, 'ml-latest-small'))).sort()).toEqual(['movies.csv', 'ratings.csv']);
    const second = await run(['data', 'download', 'movielens-latest-small', '--dir', root, '--base-url', baseUrl]);
    expect(second).toContain('skipped');
  });
});
