/**
 * A Map that also pages in a stable order (insertion order), for the List*
 * operations.
 *
 * Each entry gets an increasing sequence number; a page token is the last
 * sequence number returned, so an item deleted between two pages never makes
 * the next page skip or repeat others. Lookups are O(1); a page is a binary
 * search in an array that is rebuilt lazily only after deletions.
 */

interface Entry<V> {
  seq: number;
  key: string;
  value: V;
}

export interface Page<V> {
  items: V[];
  /** Sequence number of the last item returned, when more items follow. */
  nextAfter?: number;
}

export class OrderedStore<V> {
  private readonly byKey = new Map<string, Entry<V>>();
  private ordered: Entry<V>[] | null = [];
  private nextSeq = 1;

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): V | undefined {
    return this.byKey.get(key)?.value;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds at the end, or replaces the value in place (keeping its position). */
  set(key: string, value: V): void {
    const existing = this.byKey.get(key);
    if (existing) {
      existing.value = value;
      return;
    }
    const entry = { seq: this.nextSeq++, key, value };
    this.byKey.set(key, entry);
    this.ordered?.push(entry);
  }

  delete(key: string): boolean {
    const deleted = this.byKey.delete(key);
    if (deleted) this.ordered = null;
    return deleted;
  }

  clear(): void {
    this.byKey.clear();
    this.ordered = [];
  }

  values(): V[] {
    return this.entries().map((entry) => entry.value);
  }

  page(after: number, limit: number): Page<V> {
    const entries = this.entries();
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const slice = entries.slice(lo, lo + limit);
    const page: Page<V> = { items: slice.map((entry) => entry.value) };
    if (lo + limit < entries.length && slice.length > 0) page.nextAfter = slice[slice.length - 1]!.seq;
    return page;
  }

  private entries(): Entry<V>[] {
    // Map iteration is insertion order, which is sequence order.
    if (!this.ordered) this.ordered = [...this.byKey.values()];
    return this.ordered;
  }
}
