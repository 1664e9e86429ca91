// registries.conf is TOML: smol-toml parses it (full TOML 1.0, no install
// scripts, already what containers.conf uses), and this file adds what the
// library does not keep: the line of every table and key, so that a bad value
// is reported where it was written ("registries.conf:4: \"insecure\" must be
// true or false"). The lines come from a scan of the text the library has
// already accepted: only headers and `key =` lines matter, and a value that
// runs over several lines (an array, a multi-line string) is stepped over.

import { parse, TomlError } from 'smol-toml';

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/** The parsed document, and where each table's header or key was written. */
export interface ParsedToml {
  root: TomlTable;
  line(table: TomlTable, key?: string): number | undefined;
}

export class TomlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'TomlSyntaxError';
  }
}

export function isTable(value: TomlValue | undefined): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function parseToml(text: string): ParsedToml {
  let root: TomlTable;
  try {
    root = parse(text) as unknown as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new TomlSyntaxError(first, err.line);
    }
    throw err;
  }
  const info = locate(text, root);
  return {
    root,
    line(table, key) {
      const found = info.get(table);
      if (found === undefined) return undefined;
      return key === undefined ? found.line : (found.keys.get(key) ?? found.line);
    },
  };
}

interface Where {
  line: number;
  keys: Map<string, number>;
}

/** A key path at the start of `s` ("a", "a.b", "\"x.y\".z", 'lit'): its parts and where it ends. */
function keyPath(s: string): { parts: string[]; end: number } | undefined {
  const part = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*/y;
  const parts: string[] = [];
  let pos = 0;
  for (;;) {
    part.lastIndex = pos;
    const m = part.exec(s);
    if (!m) return undefined;
    parts.push(m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : (m[2] ?? m[3]!));
    pos = part.lastIndex;
    if (s[pos] !== '.') return { parts, end: pos };
    pos++;
  }
}

/**
 * How a value that starts on a line carries on: the brackets still open and
 * whether a multi-line string is open, after reading `s` from that state.
 */
function carry(s: string, state: { depth: number; string: '"""' | "'''" | undefined }): void {
  let i = 0;
  while (i < s.length) {
    if (state.string) {
      const close = s.indexOf(state.string, i);
      if (close < 0) return;
      i = close + 3;
      state.string = undefined;
      continue;
    }
    const c = s[i]!;
    if (c === '#') return;
    if (s.startsWith('"""', i) || s.startsWith("'''", i)) {
      state.string = s.slice(i, i + 3) as '"""' | "'''";
      i += 3;
    } else if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(s.slice(i));
      i += m ? m[0].length : s.length;
    } else if (c === "'") {
      const close = s.indexOf("'", i + 1);
      i = close < 0 ? s.length : close + 1;
    } else {
      if (c === '[' || c === '{') state.depth++;
      else if (c === ']' || c === '}') state.depth--;
      i++;
    }
  }
}

function locate(text: string, root: TomlTable): WeakMap<object, Where> {
  const info = new WeakMap<object, Where>();
  const where = (table: object, line: number): Where => {
    let w = info.get(table);
    if (!w) info.set(table, (w = { line, keys: new Map() }));
    return w;
  };
  const note = (table: object, key: string, line: number): void => {
    const keys = where(table, line).keys;
    if (!keys.has(key)) keys.set(key, line);
  };
  /** Elements of each array of tables met so far: [[x]] headers take them in order. */
  const taken = new Map<unknown[], number>();
  /** The table `key` names in `table`: an array of tables gives its element in use (the next one for a new [[header]]). */
  const step = (table: TomlTable, key: string, line: number, next: boolean): TomlTable | undefined => {
    note(table, key, line);
    const value = table[key];
    if (Array.isArray(value)) {
      const used = taken.get(value) ?? 0;
      const index = next ? used : used - 1;
      if (next) taken.set(value, used + 1);
      const element = value[index];
      return isTable(element) ? element : undefined;
    }
    return isTable(value) ? value : undefined;
  };

  where(root, 1);
  let current: TomlTable | undefined = root;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const state: { depth: number; string: '"""' | "'''" | undefined } = { depth: 0, string: undefined };
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const raw = lines[n]!;
    if (state.depth > 0 || state.string) {
      carry(raw, state);
      continue;
    }
    const header = /^\s*(\[\[?)/.exec(raw);
    if (header) {
      const isArray = header[1] === '[[';
      const path = keyPath(raw.slice(header[0].length));
      if (!path) continue;
      let table: TomlTable | undefined = root;
      path.parts.forEach((key, i) => {
        const last = i === path.parts.length - 1;
        table = table && step(table, key, line, last && isArray);
      });
      if (table) where(table, line).line = line;
      current = table;
      continue;
    }
    const kv = keyPath(raw);
    if (!kv || raw[kv.end] !== '=' || !current) continue;
    let table: TomlTable | undefined = current;
    kv.parts.slice(0, -1).forEach((key) => (table = table && step(table, key, line, false)));
    if (table) note(table, kv.parts[kv.parts.length - 1]!, line);
    carry(raw.slice(kv.end + 1), state);
  }
  return info;
}
