/**
 * @module A deadline on the reply to one Redis command, counted over the whole round trip. node-redis's
 * own per-command `timeout` (on by default since v5, 5 s) only counts the wait *before* a command is
 * written to the socket: it fires when the calling process blocks its event loop for a while (the
 * publish job scores lists synchronously between batches) and never when the server stops answering.
 * rtrec turns that off and bounds the round trip here instead.
 */

/** Why a command failed: its reply did not come within the deadline. */
export class ReplyTimeoutError extends Error {
  readonly command: string;
  readonly timeoutMs: number;

  constructor(command: string, timeoutMs: number) {
    super(`${command} got no reply within ${timeoutMs} ms`);
    this.name = 'ReplyTimeoutError';
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Settles like `reply`, or rejects with ReplyTimeoutError when `timeoutMs` passed without it. When the
 * timer fires the verdict waits one more event-loop turn: timers run before socket reads, so a reply
 * that arrived while this process was busy (a long synchronous step, GC) is read in that turn and a
 * stall of the caller alone never turns a delivered reply into a timeout. The command itself is not
 * cancelled (Redis cannot take it back); a late reply is ignored.
 */
export function withReplyDeadline<T>(reply: Promise<T>, timeoutMs: number, command: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new ReplyTimeoutError(command, timeoutMs));
      });
    }, timeoutMs);
    reply.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
