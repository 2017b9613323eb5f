/**
 * LRUCache options that hold at most `entries` entries without lru-cache allocating and filling
 * arrays of that length up front, as its `max` does: 100,000 entries cost about 6 ms of CPU and
 * 2 MB per cache the moment it is made, whether or not an entry is ever stored (a gateway makes
 * seven). Each entry counts 1 towards `maxSize`, so the bound and the eviction order are the
 * same; the arrays grow as entries arrive.
 */
export function upTo(entries: number) {
  return { maxSize: entries, sizeCalculation: () => 1 }
}
