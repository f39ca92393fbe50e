/**
 * @module Per-user serialisation within a process: work on a set of users starts once every earlier
 * work on any of them has finished (successfully or not), so two updates of one user never
 * interleave their reads and writes. Work is ordered by when it was submitted, which rules out
 * deadlocks between overlapping sets.
 */
export class UserLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Users with work pending or running (for tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }

  /** Runs `work` once earlier work on any of `users` is done; later work on them waits for this one. */
  run<T>(users: readonly string[], work: () => Promise<T>): Promise<T> {
    const before: Promise<void>[] = [];
    for (const u of users) {
      const prev = this.#tails.get(u);
      if (prev) before.push(prev);
    }
    const next = before.length === 0 ? work() : Promise.all(before).then(work);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    for (const u of users) this.#tails.set(u, tail);
    void tail.then(() => {
      for (const u of users) if (this.#tails.get(u) === tail) this.#tails.delete(u);
    });
    return next;
  }
}
