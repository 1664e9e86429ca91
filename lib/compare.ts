/**
 * Orders strings as Go's sort.Strings does (by UTF-16 code unit here, the same
 * for ASCII): the order Docker prints names, tags and paths in. Not
 * localeCompare: its first call sets up an ICU collator (~15 ms per process)
 * and its order depends on the locale.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
