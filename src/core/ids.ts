/**
 * @module IdMap: the only bridge between external ids (`userId: string`) and dense indices
 * (`userIdx: number`, 0..size-1, in order of first appearance).
 */

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
