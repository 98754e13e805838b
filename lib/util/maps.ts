/** The map stored under `key` in `outer`, created (empty) on first use: one level of a nested index. */
export function innerMap<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map<K2, V>();
    outer.set(key, inner);
  }
  return inner;
}
