/**
 * @module Child process for cluster-metrics.test.ts: plays a worker that gets `argv[2]` scrapes at
 * once, asks its parent (playing the primary) for the merged metrics, and prints what each got.
 */
import { requestClusterMetrics } from '../cluster-metrics.js';

const scrapes = Number(process.argv[2]);
const texts = await Promise.all(Array.from({ length: scrapes }, () => requestClusterMetrics(5_000)));
const after = await requestClusterMetrics(5_000);
process.stdout.write(`${JSON.stringify({ texts, after, listeners: process.listenerCount('message') })}\n`);
process.disconnect();
