/**
 * @module Child process for the parallel-publish test: publishes randomAlsModel(users, 60, 8, seed)
 * to the store URL in argv with 2 scoring worker threads and prints `published <version> threads
 * <n>`. Run through ts-child.ts (workers need compiled JavaScript, which ts-child provides).
 */
import { createListScorer } from '../../jobs/publish-scoring.js';
import { publishModel } from '../../jobs/publish.js';
import { openStore } from '../../store/open-store.js';
import { randomAlsModel } from './random-als.js';

const [url, users, seed] = process.argv.slice(2);
const model = randomAlsModel(Number(users), 60, 8, Number(seed));
const probe = await createListScorer(model, 2);
const threads = probe.threads;
await probe.close();
const store = await openStore(url);
const report = await publishModel(model, store, { threads: 2, batchSize: 50, topK: 10, similarK: 5, progress: false });
await store.close();
process.stdout.write(`published ${report.version} threads ${threads}\n`);
