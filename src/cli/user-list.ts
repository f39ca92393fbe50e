/**
 * @module The user list of `rtrec recommend --users`: one user id per line, an optional `userId`
 * header. A line starting with `"` is a CSV-quoted id — as `rtrec recommend` itself writes ids
 * holding a comma, quote or line break — and is unquoted; other lines are ids as they stand, spaces
 * included, as the data loaders read ids.
 */
import { readFile } from 'node:fs/promises';
import { RecError } from '../core/errors.js';
import { CsvSyntaxError, splitCsvLine } from '../data/csv.js';

/**
 * The ids listed in `file`, in order.
 * @throws RTREC_ERR_DATA_NOT_FOUND when it cannot be read, RTREC_ERR_DATA_EMPTY when it lists no
 *   id, RTREC_ERR_DATA_BAD_ROW on a malformed quoted id (naming the line)
 */
export async function readUserList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RecError('RTREC_ERR_DATA_NOT_FOUND', `cannot read the user list ${file}`, { cause: err });
  }
  const ids: string[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    if (line.trim() === '' || (ids.length === 0 && line === 'userId')) return;
    ids.push(line.startsWith('"') ? unquote(line, `${file}:${n + 1}`) : line);
  });
  if (ids.length === 0) throw new RecError('RTREC_ERR_DATA_EMPTY', `the user list ${file} holds no user id`);
  return ids;
}

function unquote(line: string, where: string): string {
  let fields: string[];
  try {
    fields = splitCsvLine(line);
  } catch (err) {
    const why = err instanceof CsvSyntaxError ? err.message : String(err);
    throw new RecError('RTREC_ERR_DATA_BAD_ROW', `${where}: ${why} (a quoted user id must be one CSV field: "a,b" or "say ""hi""")`, { cause: err });
  }
  if (fields.length !== 1) throw new RecError('RTREC_ERR_DATA_BAD_ROW', `${where}: one user id per line, got ${fields.length} CSV fields`);
  return fields[0];
}
