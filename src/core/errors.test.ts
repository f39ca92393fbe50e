import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RecError, atLocation, isRecError } from './errors.js';

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes in the table, with their statuses', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(RTREC_ERR_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(Object.entries(ERROR_CODES).map(([code, spec]) => [code, spec.status]));
  });

  it('codes follow RTREC_ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^RTREC_ERR_(CONFIG|DATA|SPLIT|MODEL|EVAL|STORE|EVENT|HTTP)_[A-Z_]+$/);
  });

  it('RecError carries code, status, details and cause', () => {
    const cause = new Error('low level');
    const err = new RecError('RTREC_ERR_DATA_BAD_ROW', atLocation('a.csv', 3, 'bad'), { cause, details: { file: 'a.csv', line: 3 } });
    expect(isRecError(err)).toBe(true);
    expect(err.message).toBe('a.csv:3: bad');
    expect(err.statusCode).toBe(400);
    expect(err.details.line).toBe(3);
    expect(err.cause).toBe(cause);
    expect(isRecError(new Error('x'))).toBe(false);
  });
});
