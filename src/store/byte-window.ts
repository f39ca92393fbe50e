/**
 * @module A first-come-first-served limit on bytes in flight: writers acquire their size before sending
 * and release it when the reply came, so a big batch is pipelined a window at a time instead of being
 * queued all at once (backpressure towards whoever produces the batches).
 */

export class ByteWindow {
  readonly #limitBytes: number;
  #usedBytes = 0;
  readonly #waiting: { readonly bytes: number; readonly grant: () => void }[] = [];

  /** @param limitBytes bytes allowed in flight at once (> 0) */
  constructor(limitBytes: number) {
    if (!(limitBytes > 0)) throw new RangeError(`a byte window needs a positive limit, got ${limitBytes}`);
    this.#limitBytes = limitBytes;
  }

  /** Bytes acquired and not yet released. */
  get inFlightBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Resolves once `bytes` fit in the window, in the order asked. A request larger than the whole
   * window is let through alone (when nothing else is in flight), so it cannot wait forever.
   */
  acquire(bytes: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#usedBytes += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ bytes, grant: resolve }));
  }

  /** Gives back bytes acquired earlier and lets waiting requests in. */
  release(bytes: number): void {
    this.#usedBytes -= bytes;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0].bytes)) {
      const next = this.#waiting.shift();
      if (next === undefined) break;
      this.#usedBytes += next.bytes;
      next.grant();
    }
  }

  #fits(bytes: number): boolean {
    return this.#usedBytes === 0 || this.#usedBytes + bytes <= this.#limitBytes;
  }
}
