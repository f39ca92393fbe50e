/**
 * @module Child process for the killed-publish tests: publishes a fixture model to the store URL in
 * argv[2] with small batches, printing `batch <usersDone>` after each and pausing a little, so the
 * parent can SIGKILL it half-way. Run through ts-child.ts.
 */
import { publishModel } from '../../jobs/publish.js';
import { openStore } from '../../store/open-store.js';
import { fixtureModel } from './fixture-model.js';

const [url, users = '400', tag = '9'] = process.argv.slice(2);
const store = await openStore(url);
const model = fixtureModel({ users: Number(users), items: 30, seed: Number(tag) });
const report = await publishModel(model, store, {
  batchSize: 20,
  progress: false,
  onUserBatch: async (done) => {
    process.stdout.write(`batch ${done}\n`);
    await new Promise((r) => setTimeout(r, 30));
  },
});
process.stdout.write(`published ${report.version}\n`);
await store.close();
