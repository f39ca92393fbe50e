/**
 * @module The answer to a request that arrives once the server has begun shutting down: 503 with
 * the API's usual error body (a stable `code`, a message) and `connection: close`, so a client or
 * load balancer knows to retry elsewhere. Such requests come on keep-alive connections that were
 * busy (a request half-received) when closing started, so closing idle connections missed them.
 * Fastify has its own answer for this (`return503OnClosing`), but its body has no `code`.
 */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES } from '../core/errors.js';
import { JSON_TYPE } from './routes/read-routes.js';

const BODY = JSON.stringify({ code: 'RTREC_ERR_HTTP_SHUTTING_DOWN', message: 'the server is shutting down; retry the request (on another instance)' });
const BODY_BYTES = Buffer.byteLength(BODY);

export function answerClosing(res: ServerResponse, requestId: string): void {
  res.writeHead(ERROR_CODES.RTREC_ERR_HTTP_SHUTTING_DOWN.status, {
    'content-type': JSON_TYPE,
    'content-length': BODY_BYTES,
    'x-request-id': requestId,
    connection: 'close',
  });
  res.end(BODY);
}
