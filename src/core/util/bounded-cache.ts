/**
 * Values computed once and kept across documents (font subsets, text runs, line breaks), for a
 * process that renders record after record. When `limit` entries are held the cache forgets them
 * all: cheaper than tracking use, and it keeps a long-running daemon's memory flat.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();
  constructor(private readonly limit: number) {}

  get(key: K, compute: (key: K) => V): V {
    const held = this.entries.get(key);
    if (held !== undefined || this.entries.has(key)) return held as V;
    const value = compute(key);
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
