/**
 * Maps of sets, as the hub's indexes use them: a set per key, created on first use and
 * dropped once empty, so an index holds nothing for keys nobody uses any more.
 * @module
 */

/** Adds `value` to the set under `key`. */
export function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key)
  if (set === undefined) {
    set = new Set()
    map.set(key, set)
  }
  set.add(value)
}

/** Removes `value` from the set under `key`; true when that emptied (and dropped) the set. */
export function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key)
  if (set === undefined) return false
  set.delete(value)
  if (set.size > 0) return false
  map.delete(key)
  return true
}
