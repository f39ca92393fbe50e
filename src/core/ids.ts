/**
 * @module IdMap: the only bridge between external ids (`userId: string`) and dense indices
 * (`userIdx: number`, 0..size-1, in order of first appearance); and the text check every external
 * id taken from a client passes.
 */

/**
 * Why `id` cannot be an external id, as text, or undefined. Ids are kept and exported as UTF-8
 * (LMDB keys, Redis keys and fields, CSV files): a lone surrogate (JSON `"\ud800"`) has no UTF-8
 * form and becomes U+FFFD there, so two different ids would become one (on Redis and in exports,
 * not on LMDB); control characters break logs, keys and CSV rows. Lengths and blank ids are the
 * callers' to check (their limits differ).
 */
export function idTextProblem(id: string): string | undefined {
  if (!id.isWellFormed()) return 'is not well-formed Unicode: it holds a lone surrogate (such as \\ud800), which UTF-8 stores and exports turn into U+FFFD, mixing it up with other ids';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1F\x7F]/.test(id)) return 'holds a control character';
  return undefined;
}

export class IdMap {
  readonly #indexOf = new Map<string, number>();
  readonly #ids: string[] = [];

  static fromArray(ids: readonly string[]): IdMap {
    const map = new IdMap();
    for (const id of ids) {
      if (map.#indexOf.has(id)) throw new Error(`duplicate id ${JSON.stringify(id)} in id list`);
      map.getOrAdd(id);
    }
    return map;
  }

  /** An independent copy: growing it leaves this map as it is. */
  clone(): IdMap {
    return IdMap.fromArray(this.#ids);
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Dense index of `id`, adding it at the end when new. */
  getOrAdd(id: string): number {
    let idx = this.#indexOf.get(id);
    if (idx === undefined) {
      idx = this.#ids.length;
      this.#indexOf.set(id, idx);
      this.#ids.push(id);
    }
    return idx;
  }

  /** Dense index of `id`, or -1 when unknown. */
  indexOf(id: string): number {
    return this.#indexOf.get(id) ?? -1;
  }

  has(id: string): boolean {
    return this.#indexOf.has(id);
  }

  /** External id of dense index `idx`; throws on an index out of range. */
  idOf(idx: number): string {
    const id = this.#ids[idx];
    if (id === undefined) throw new RangeError(`index ${idx} out of range 0..${this.#ids.length - 1}`);
    return id;
  }

  /** The ids in index order (a copy). */
  toArray(): string[] {
    return this.#ids.slice();
  }
}
