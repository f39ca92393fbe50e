/**
 * @module The server process of the real-time benchmark: `rtrec serve` as shipped, configured only
 * by RTREC_* environment variables (store, port, API key, model folder, log level).
 */
import { loadServeConfig } from '../src/serve/config.js';
import { runServe } from '../src/serve/server.js';

await runServe(loadServeConfig({ env: process.env }));
