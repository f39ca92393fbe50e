/**
 * @module Every error becomes a JSON `{ code, message }` with a 4xx status for anything the client
 * got wrong (validation, malformed or oversize bodies, wrong content type, unknown routes, auth, rate
 * limit) and a 5xx only for real server trouble. Stable codes come from src/core/errors.ts.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, isRecError, type ErrorCode } from '../../core/errors.js';

export interface ErrorReply {
  readonly statusCode: number;
  readonly body: { code: string; message: string };
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_VALIDATION: 'RTREC_ERR_HTTP_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'RTREC_ERR_HTTP_MALFORMED_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'RTREC_ERR_HTTP_MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RTREC_ERR_HTTP_MALFORMED_BODY',
  FST_ERR_CTP_BODY_TOO_LARGE: 'RTREC_ERR_HTTP_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'RTREC_ERR_HTTP_VALIDATION',
  FST_ERR_NOT_FOUND: 'RTREC_ERR_HTTP_NOT_FOUND',
};

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  404: 'RTREC_ERR_HTTP_NOT_FOUND',
  413: 'RTREC_ERR_HTTP_PAYLOAD_TOO_LARGE',
  415: 'RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
  429: 'RTREC_ERR_HTTP_RATE_LIMITED',
};

/**
 * Maps any thrown value to the status and body the client gets. A server-side failure (5xx) is
 * described by its code's description, not its message: messages name the store (host, port, LMDB
 * path) for the operator, who finds them in the log under the request id.
 */
export function toErrorReply(err: unknown): ErrorReply {
  if (isRecError(err)) {
    const message = err.statusCode >= 500 ? `${ERROR_CODES[err.code].description} The server log has details under this request id.` : err.message;
    return { statusCode: err.statusCode, body: { code: err.code, message } };
  }
  const e = err as Partial<FastifyError> & { status?: number; validationContext?: string };
  if (e.validation) {
    const first = e.validation[0];
    const extra = first?.params && 'additionalProperty' in first.params ? ` (${String(first.params.additionalProperty)})` : '';
    return { statusCode: 400, body: { code: 'RTREC_ERR_HTTP_VALIDATION', message: `${e.message ?? 'invalid request'}${extra}` } };
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  const status = e.statusCode ?? e.status;
  if (mapped) return { statusCode: ERROR_CODES[mapped].status, body: { code: mapped, message: e.message ?? mapped } };
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { statusCode: status, body: { code: BY_STATUS[status] ?? 'RTREC_ERR_HTTP_VALIDATION', message: e.message ?? 'bad request' } };
  }
  return { statusCode: 500, body: { code: 'RTREC_ERR_HTTP_INTERNAL', message: 'internal error; the server log has details under this request id' } };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { statusCode, body } = toErrorReply(err);
    if (statusCode >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: body.code, statusCode }, body.message);
    void reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0].slice(0, 200);
    void reply.code(404).send({ code: 'RTREC_ERR_HTTP_NOT_FOUND', message: `no route ${req.method} ${path}` });
  });
}
