/**
 * @module A server process for the serving benchmark, so the load generator never shares an event
 * loop with what it measures:
 *   node serve-target.js bare <port> <body> <workers>   constant JSON body from node:http (the
 *                                                 ceiling), in `workers` processes like rtrec's
 *   node serve-target.js rtrec <port> <storeUrl> <workers> <logLevel>   `rtrec serve` as shipped
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { loadServeConfig } from '../src/serve/config.js';
import { runServe } from '../src/serve/server.js';

const [mode, port, arg, workers = '1', logLevel = 'info'] = process.argv.slice(2);
if (mode === 'bare' && cluster.isPrimary && Number(workers) > 1) {
  for (let j = 0; j < Number(workers); j++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else if (mode === 'bare') {
  const body = Buffer.from(arg, 'utf8');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  const config = loadServeConfig({ env: {}, flags: { store: arg, port: Number(port), workers: Number(workers), logLevel: logLevel as 'info' } });
  await runServe(config);
}
