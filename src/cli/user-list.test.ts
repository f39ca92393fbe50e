import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteCsvField } from '../data/csv.js';
import { readUserList } from './user-list.js';

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-user-list-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function listOf(text: string): Promise<string[]> {
  const file = join(dir, `list-${++files}.txt`);
  await writeFile(file, text);
  return readUserList(file);
}

describe('readUserList', () => {
  it('reads one id per line as it stands, skipping a userId header and blank lines', async () => {
    expect(await listOf('userId\r\nu1\n\n \n u2 \r\nuserId\n')).toEqual(['u1', ' u2 ', 'userId']);
  });

  it('unquotes ids as rtrec recommend writes them (comma, quote, spaces)', async () => {
    const ids = ['a,b', 'say "hi"', ' padded '];
    expect(await listOf(`userId\n${ids.map((id) => quoteCsvField(id)).join('\n')}\n`)).toEqual(ids);
  });

  it('names the line of a malformed quoted id, and refuses an empty list', async () => {
    await expect(listOf('u1\n"a,b\n')).rejects.toMatchObject({ code: 'RTREC_ERR_DATA_BAD_ROW', message: expect.stringMatching(/:2: unterminated quoted field/) as string });
    await expect(listOf('"a","b"\n')).rejects.toMatchObject({ message: expect.stringMatching(/:1: one user id per line, got 2 CSV fields/) as string });
    await expect(listOf('userId\n\n')).rejects.toMatchObject({ code: 'RTREC_ERR_DATA_EMPTY' });
  });
});
