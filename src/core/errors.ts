/**
 * @module Every error rtrec raises on purpose: one table of stable codes, each with the HTTP status a
 * server maps it to and a one-line description (docs/errors.md lists exactly these codes; a test checks).
 * Messages say what went wrong, where (file, line, field) and why.
 */

export const ERROR_CODES = {
  RTREC_ERR_CONFIG_INVALID: { status: 400, description: 'A command-line flag, environment variable or option has a value that cannot be used.' },
  RTREC_ERR_DATA_NOT_FOUND: { status: 404, description: 'A data file or folder does not exist or cannot be read.' },
  RTREC_ERR_DATA_EMPTY: { status: 400, description: 'A data file holds no rows.' },
  RTREC_ERR_DATA_BAD_ROW: { status: 400, description: 'A row of a data file has the wrong number of columns, a missing field or a value of the wrong type.' },
  RTREC_ERR_DATA_UNKNOWN_FORMAT: { status: 400, description: 'The format of a data file or folder cannot be recognised.' },
  RTREC_ERR_DATA_DOWNLOAD: { status: 502, description: 'Downloading a data set failed (network, HTTP status or checksum mismatch).' },
  RTREC_ERR_SPLIT_INVALID: { status: 400, description: 'A split was asked for with impossible parameters.' },
  RTREC_ERR_MODEL_NOT_FOUND: { status: 404, description: 'A model folder does not exist or has no manifest.' },
  RTREC_ERR_MODEL_CORRUPT: { status: 500, description: 'A model folder is incomplete or its files do not match its manifest.' },
  RTREC_ERR_MODEL_UNKNOWN_TYPE: { status: 400, description: 'The model type is not one rtrec knows.' },
  RTREC_ERR_MODEL_NOT_FITTED: { status: 503, description: 'A model was used before it was trained or loaded.' },
  RTREC_ERR_MODEL_UNSUPPORTED: { status: 400, description: 'The model cannot do what was asked (for example rating prediction from a ranking-only model).' },
  RTREC_ERR_MODEL_FIT_ABORTED: { status: 499, description: 'Training was cancelled before it finished.' },
  RTREC_ERR_MODEL_ENGINE_UNAVAILABLE: { status: 503, description: 'The training engine is not set up (for Spark: run scripts/setup-spark.sh; Java 17+ is required).' },
  RTREC_ERR_MODEL_ENGINE_FAILED: { status: 500, description: 'The training engine (the Spark job) failed; the message names the log with the details.' },
  RTREC_ERR_EVAL_INPUT: { status: 400, description: 'Truth or prediction input to an evaluation is unusable.' },
  RTREC_ERR_STORE_UNAVAILABLE: { status: 503, description: 'The online store cannot be reached or did not answer in time.' },
  RTREC_ERR_STORE_NO_ACTIVE_VERSION: { status: 503, description: 'The online store holds no active published version yet (run rtrec publish).' },
  RTREC_ERR_STORE_VERSION_NOT_FOUND: { status: 404, description: 'No published version with that number exists in the online store.' },
  RTREC_ERR_STORE_VERSION_NOT_READY: { status: 409, description: 'The version cannot be activated or changed in its current state (still being written, failed, or active).' },
  RTREC_ERR_STORE_VERIFY_FAILED: { status: 500, description: 'A freshly written version did not read back as written (counts or sample checksum differ); it was discarded.' },
  RTREC_ERR_STORE_CORRUPT: { status: 500, description: 'A value in the online store cannot be decoded.' },
  RTREC_ERR_EVENT_INGEST_FAILED: { status: 503, description: 'The thread logging events stopped while handling the request: its events may or may not be logged. Retry with the same eventIds (a retry of a logged event is answered as a duplicate and applied once).' },
  RTREC_ERR_EVENT_OVERLOADED: { status: 503, description: 'The server already holds as many events in flight as it is configured to (RTREC_MAX_EVENTS_IN_FLIGHT); none of this request was logged. Retry after the time in retry-after, or on another instance.' },
  RTREC_ERR_EVENT_INVALID: { status: 400, description: 'No event of a POST /v1/events request was valid (each reason is in the message), or the body is not one event or { events: [...] } with 1-1000 events.' },
  RTREC_ERR_HTTP_VALIDATION: { status: 400, description: 'A request parameter, query string or body field is missing, unknown, malformed or out of range.' },
  RTREC_ERR_HTTP_MALFORMED_BODY: { status: 400, description: 'The request body is not valid JSON.' },
  RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body has a content type other than application/json.' },
  RTREC_ERR_HTTP_PAYLOAD_TOO_LARGE: { status: 413, description: 'The request body is larger than the configured body limit.' },
  RTREC_ERR_HTTP_NOT_FOUND: { status: 404, description: 'No such route, or the item asked for is not in the active version.' },
  RTREC_ERR_HTTP_UNAUTHORIZED: { status: 401, description: 'The route needs an API key (x-api-key or Authorization: Bearer) and none, or a wrong one, was given.' },
  RTREC_ERR_HTTP_RATE_LIMITED: { status: 429, description: 'The client sent more requests than its rate limit allows; retry after the time in retry-after.' },
  RTREC_ERR_HTTP_SHUTTING_DOWN: { status: 503, description: 'The server is shutting down and takes no new requests; retry, on another instance.' },
  RTREC_ERR_HTTP_INTERNAL: { status: 500, description: 'An unexpected server error; the server log holds the details under the request id.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RecErrorDetails {
  /** File the problem is in, when there is one. */
  file?: string;
  /** 1-based line number in that file. */
  line?: number;
  /** Any further machine-readable context. */
  [key: string]: unknown;
}

/** An expected, explainable failure: the CLI prints `code: message` and exits non-zero; the server answers with its status. */
export class RecError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: RecErrorDetails;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: RecErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.details = options.details ?? {};
  }
}

export function isRecError(err: unknown): err is RecError {
  return err instanceof RecError;
}

/** `file:line: message` — the location prefix every data error uses. */
export function atLocation(file: string, line: number | undefined, message: string): string {
  return line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`;
}
