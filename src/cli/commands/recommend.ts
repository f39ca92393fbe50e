/**
 * @module `rtrec recommend`: batch top-k for every user (or the users listed in a file) from a saved
 * model, written as CSV `userId,itemId,score,rank` — the offline equivalent of Spark's
 * `recommendForAllUsers`.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import { prepareFileTarget } from '../../core/atomic-fs.js';
import { RecError } from '../../core/errors.js';
import { float32Text } from '../../core/float32-text.js';
import { createProgress, progressEnabledByDefault } from '../../core/progress.js';
import { loadModel } from '../../models/model-io.js';
import { quoteCsvField as csvField } from '../../data/csv.js';
import { emit, parseIntOption } from '../kit.js';
import { readUserList } from '../user-list.js';

interface RecommendFlags {
  model: string;
  k: number;
  excludeSeen?: boolean;
  users?: string;
  out: string;
  json?: boolean;
}

export function registerRecommendCommand(program: Command): void {
  program
    .command('recommend')
    .description('Write the top-k items for every user of a model as CSV userId,itemId,score,rank')
    .requiredOption('--model <dir>', 'model folder written by rtrec train')
    .option('--k <n>', 'items per user', parseIntOption('--k', 1, 10_000), 10)
    .option('--exclude-seen', 'leave out items the user interacted with in training')
    .option('--users <file>', 'only these users: a file with one user id per line, as it stands or CSV-quoted ("a,b"); a header line "userId" is skipped')
    .requiredOption('--out <file>', 'CSV file to write (replaced atomically)')
    .option('--json', 'print a JSON summary')
    .action(async (flags: RecommendFlags) => {
      await runRecommend(flags);
    });
}

async function runRecommend(flags: RecommendFlags): Promise<void> {
  const model = await loadModel(flags.model);
  let userIdxs: number[];
  let unknown = 0;
  if (flags.users) {
    const ids = await readUserList(flags.users);
    userIdxs = [];
    for (const id of ids) {
      const idx = model.users.indexOf(id);
      if (idx < 0) unknown++;
      else userIdxs.push(idx);
    }
    if (userIdxs.length === 0 && ids.length > 0) {
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `none of the ${ids.length} users listed in ${flags.users} is known to the model (e.g. ${JSON.stringify(ids[0])}); nothing to recommend`);
    }
  } else {
    userIdxs = Array.from({ length: model.numUsers }, (_, i) => i);
  }

  const tmp = await prepareFileTarget(flags.out);
  const out = createWriteStream(tmp);
  const scratch = new Float32Array(model.numItems);
  const bar = createProgress('recommend', userIdxs.length, { enabled: !flags.json && progressEnabledByDefault() });
  const started = performance.now();
  let rows = 0;
  try {
    out.write('userId,itemId,score,rank\n');
    let chunk = '';
    for (let n = 0; n < userIdxs.length; n++) {
      const u = userIdxs[n];
      const ranked = model.recommend(u, { k: flags.k, excludeSeen: Boolean(flags.excludeSeen) }, scratch);
      const userField = csvField(model.users.idOf(u));
      for (let r = 0; r < ranked.items.length; r++) {
        chunk += `${userField},${csvField(model.items.idOf(ranked.items[r]))},${float32Text(ranked.scores[r])},${r + 1}\n`;
      }
      rows += ranked.items.length;
      if (chunk.length > 1 << 16) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
      if ((n & 255) === 255) bar.update(n + 1);
    }
    out.end(chunk);
    await once(out, 'finish');
    await rename(tmp, flags.out);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = { users: userIdxs.length, unknownUsers: unknown, rows, k: flags.k, excludeSeen: Boolean(flags.excludeSeen), out: flags.out, seconds };
  emit(Boolean(flags.json), summary, () =>
    `wrote ${rows} recommendations for ${userIdxs.length} users to ${flags.out} in ${seconds.toFixed(2)} s` +
    (unknown > 0 ? ` (${unknown} listed users are unknown to the model and were skipped)` : ''),
  );
}
