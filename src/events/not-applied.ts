/**
 * @module Why logged events did not update recommendation lists, said twice: `reason` goes to the
 * client in the 202 (`notApplied`) and names only error codes and version numbers; `detail` goes to
 * the server log only, with the store's and the model folder's own messages, which can name hosts,
 * ports and paths that a client with an events key has no business seeing.
 */
import { ERROR_CODES, isRecError } from '../core/errors.js';

export interface NotApplied {
  /** Safe to answer: no host, port, path or raw error message. */
  readonly reason: string;
  /** For the server log: the reason with the underlying error's message. */
  readonly detail: string;
}

/** A reason with nothing to hide: said the same to the client and to the log. */
export function plainReason(reason: string): NotApplied {
  return { reason, detail: reason };
}

/**
 * `what` failed with `err`: the client is told the error's code and what the code means (from the
 * error table), the log gets the message too. Errors that are not rtrec's own are "an internal error".
 */
export function failedBecause(what: string, err: unknown): NotApplied {
  const message = err instanceof Error ? err.message : String(err);
  const said = isRecError(err) ? `${err.code}: ${ERROR_CODES[err.code].description}` : 'an internal error; the server log has the details';
  return { reason: `${what} (${said})`, detail: `${what}: ${message}` };
}

/** Both reasons, `first` first; either may be absent. */
export function joinReasons(first: NotApplied | undefined, second: NotApplied | undefined): NotApplied | undefined {
  if (!first || !second) return first ?? second;
  return { reason: `${first.reason}; ${second.reason}`, detail: `${first.detail}; ${second.detail}` };
}
