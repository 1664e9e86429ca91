// The part of TOML that registries.conf files use, with the line of every
// table and key kept for error messages.
//
// Why not smol-toml (issue 9 asked; checked against 1.9.1): its parse()
// returns plain objects with no source positions, and its TomlError carries a
// line only for syntax errors. registries-conf.ts reports a bad value at the
// line of its key ("registries.conf:4: \"insecure\" must be true or false"),
// which the library cannot give without a second parser to find the keys.
// So the parser stays, limited to the subset below.
//
// What registries.conf files use: [table] and [[array.of.tables]] headers,
// key = value with bare, quoted and dotted keys, basic and literal strings,
// booleans, decimal integers, arrays (over several lines, with comments and a
// trailing comma), and comments. Anything else in TOML (multi-line strings,
// inline tables, floats, dates) is refused with a clear error and its line.
// Duplicate keys and tables are errors, as in TOML.

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/**
 * The parser's result. `line` gives where a table's header or one of its keys
 * was written, for messages; a TOML library that does not know can return
 * undefined (e.g. `{ root: smolToml.parse(text), line: () => undefined }`).
 */
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

export function parseToml(text: string): ParsedToml {
  return new TomlParser(text).parse();
}

interface TableInfo {
  line: number;
  keys: Map<string, number>;
  /** Defined by a [header]: a second definition is an error. */
  closed: boolean;
}

class TomlParser {
  private pos = 0;
  private lineNo = 1;
  private readonly info = new WeakMap<TomlTable, TableInfo>();
  private readonly tableArrays = new WeakSet<TomlValue[]>();
  private readonly root: TomlTable = this.newTable(1);

  constructor(private readonly src: string) {
    if (src.startsWith('\uFEFF')) this.pos = 1;
  }

  parse(): ParsedToml {
    let current = this.root;
    for (;;) {
      this.skipBlankLines();
      if (this.pos >= this.src.length) break;
      if (this.src[this.pos] === '[') current = this.header();
      else this.keyValue(current);
      this.endOfLine();
    }
    const info = this.info;
    return {
      root: this.root,
      line(table, key) {
        const found = info.get(table);
        if (found === undefined) return undefined;
        return key === undefined ? found.line : (found.keys.get(key) ?? found.line);
      },
    };
  }

  private fail(message: string): never {
    throw new TomlSyntaxError(message, this.lineNo);
  }

  private newTable(line: number): TomlTable {
    const table: TomlTable = Object.create(null) as TomlTable;
    this.info.set(table, { line, keys: new Map(), closed: false });
    return table;
  }

  private tableInfo(table: TomlTable): TableInfo {
    const found = this.info.get(table);
    if (found === undefined) throw new Error('internal error: TOML table without info');
    return found;
  }

  // ── lines, whitespace, comments

  private skipSpaces(): void {
    while (this.src[this.pos] === ' ' || this.src[this.pos] === '\t') this.pos++;
  }

  private skipComment(): void {
    if (this.src[this.pos] !== '#') return;
    while (this.pos < this.src.length && this.src[this.pos] !== '\n') {
      const c = this.src.charCodeAt(this.pos);
      if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f) this.fail('control character in a comment');
      this.pos++;
    }
  }

  /** Consumes a newline (LF or CRLF) if one is here. */
  private newline(): boolean {
    if (this.src[this.pos] === '\n') {
      this.pos++;
      this.lineNo++;
      return true;
    }
    if (this.src[this.pos] === '\r' && this.src[this.pos + 1] === '\n') {
      this.pos += 2;
      this.lineNo++;
      return true;
    }
    return false;
  }

  private skipBlankLines(): void {
    for (;;) {
      this.skipSpaces();
      this.skipComment();
      if (!this.newline()) return;
    }
  }

  private endOfLine(): void {
    this.skipSpaces();
    this.skipComment();
    if (this.pos >= this.src.length || this.newline()) return;
    this.fail(`unexpected ${describeChar(this.src[this.pos])} after the value (one key = value or [table] per line)`);
  }

  // ── keys and headers

  private keyPath(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipSpaces();
      keys.push(this.key());
      this.skipSpaces();
      if (this.src[this.pos] !== '.') return keys;
      this.pos++;
    }
  }

  private key(): string {
    const c = this.src[this.pos];
    if (c === '"') {
      if (this.src.startsWith('"""', this.pos)) this.fail('a key cannot be a multi-line string');
      return this.basicString();
    }
    if (c === "'") {
      if (this.src.startsWith("'''", this.pos)) this.fail('a key cannot be a multi-line string');
      return this.literalString();
    }
    const start = this.pos;
    while (this.pos < this.src.length && /[A-Za-z0-9_-]/.test(this.src[this.pos])) this.pos++;
    if (this.pos === start) this.fail(`expected a key, found ${describeChar(c)}`);
    return this.src.slice(start, this.pos);
  }

  private header(): TomlTable {
    const line = this.lineNo;
    const isArray = this.src.startsWith('[[', this.pos);
    this.pos += isArray ? 2 : 1;
    const path = this.keyPath();
    const close = isArray ? ']]' : ']';
    if (!this.src.startsWith(close, this.pos)) this.fail(`expected "${close}" to close the table header`);
    this.pos += close.length;
    const shown = `${isArray ? '[[' : '['}${path.join('.')}${close}`;

    let table = this.root;
    for (const key of path.slice(0, -1)) table = this.descend(table, key, shown, line);
    const last = path[path.length - 1];
    const existing = table[last];
    if (isArray) {
      if (existing === undefined) {
        const array: TomlValue[] = [];
        this.tableArrays.add(array);
        table[last] = array;
        this.tableInfo(table).keys.set(last, line);
      } else if (!Array.isArray(existing) || !this.tableArrays.has(existing)) {
        this.fail(`${shown}: "${last}" is already defined as something other than an array of tables`);
      }
      const element = this.newTable(line);
      this.tableInfo(element).closed = true;
      (table[last] as TomlValue[]).push(element);
      return element;
    }
    if (existing === undefined) {
      const created = this.newTable(line);
      this.tableInfo(created).closed = true;
      table[last] = created;
      this.tableInfo(table).keys.set(last, line);
      return created;
    }
    if (Array.isArray(existing) && this.tableArrays.has(existing)) {
      this.fail(`${shown}: "${last}" is already an array of tables ([[${path.join('.')}]])`);
    }
    if (!isTable(existing)) this.fail(`${shown}: "${last}" is already defined as a value`);
    const info = this.tableInfo(existing);
    if (info.closed) this.fail(`table ${shown} is defined twice`);
    info.closed = true;
    info.line = line;
    return existing;
  }

  /** Steps into a sub-table for a header or dotted key, creating it if needed. */
  private descend(table: TomlTable, key: string, shown: string, line: number): TomlTable {
    const existing = table[key];
    if (existing === undefined) {
      const created = this.newTable(line);
      table[key] = created;
      this.tableInfo(table).keys.set(key, line);
      return created;
    }
    if (Array.isArray(existing) && this.tableArrays.has(existing)) {
      const lastElement = existing[existing.length - 1];
      if (isTable(lastElement)) return lastElement;
    }
    if (isTable(existing)) return existing;
    this.fail(`${shown}: "${key}" is already defined as a value, not a table`);
  }

  private keyValue(current: TomlTable): void {
    const line = this.lineNo;
    const path = this.keyPath();
    if (this.src[this.pos] !== '=') {
      this.fail(`expected "=" after the key "${path.join('.')}"`);
    }
    this.pos++;
    this.skipSpaces();
    let table = current;
    for (const key of path.slice(0, -1)) {
      table = this.descend(table, key, path.join('.'), line);
      if (this.tableInfo(table).closed) this.fail(`dotted key "${path.join('.')}" extends a table defined elsewhere`);
    }
    const last = path[path.length - 1];
    if (table[last] !== undefined) this.fail(`the key "${path.join('.')}" is defined twice`);
    table[last] = this.value();
    this.tableInfo(table).keys.set(last, line);
  }

  // ── values

  private value(): TomlValue {
    const c = this.src[this.pos];
    if (this.src.startsWith('"""', this.pos) || this.src.startsWith("'''", this.pos)) {
      this.fail('multi-line strings are not supported in registries.conf');
    }
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === '[') return this.array();
    if (c === '{') this.fail('inline tables are not supported in registries.conf; use [[registry.mirror]] and similar tables');
    const start = this.pos;
    while (this.pos < this.src.length && !/[\s,\]}#]/.test(this.src[this.pos])) this.pos++;
    const token = this.src.slice(start, this.pos);
    if (token === '') {
      const atEnd = this.pos >= this.src.length || /[\r\n]/.test(c);
      this.fail(atEnd ? 'expected a value after "="' : `expected a value, found ${describeChar(c)}`);
    }
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (/^[+-]?(?:0|[1-9](?:_?[0-9])*)$/.test(token)) return Number(token.replace(/_/g, ''));
    if (/^[+-]?[0-9]/.test(token) || /^[+-]?(?:inf|nan)$/.test(token)) {
      this.fail(`unsupported value ${token}: registries.conf uses only strings, booleans, integers and arrays`);
    }
    this.fail(`invalid value ${JSON.stringify(token)}: strings must be quoted`);
  }

  private array(): TomlValue[] {
    const startLine = this.lineNo;
    this.pos++; // [
    const items: TomlValue[] = [];
    for (;;) {
      this.skipBlankLines();
      if (this.pos >= this.src.length) throw new TomlSyntaxError('unterminated array (missing "]")', startLine);
      if (this.src[this.pos] === ']') {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipBlankLines();
      const c = this.src[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return items;
      }
      if (this.pos >= this.src.length) throw new TomlSyntaxError('unterminated array (missing "]")', startLine);
      this.fail(`expected "," or "]" in the array, found ${describeChar(c)}`);
    }
  }

  private basicString(): string {
    this.pos++; // "
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length || this.src[this.pos] === '\n' || this.src[this.pos] === '\r') {
        this.fail('unterminated string (missing closing ")');
      }
      const c = this.src[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        out += this.escape();
        continue;
      }
      this.checkStringChar(c);
      out += c;
      this.pos++;
    }
  }

  private literalString(): string {
    const start = ++this.pos;
    for (;;) {
      if (this.pos >= this.src.length || this.src[this.pos] === '\n' || this.src[this.pos] === '\r') {
        this.fail("unterminated string (missing closing ')");
      }
      const c = this.src[this.pos];
      if (c === "'") {
        const value = this.src.slice(start, this.pos);
        this.pos++;
        return value;
      }
      this.checkStringChar(c);
      this.pos++;
    }
  }

  private checkStringChar(c: string): void {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail('control character in a string (use an escape such as \\t or \\u0001)');
  }

  private escape(): string {
    const c = this.src[this.pos + 1];
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
    if (c !== undefined && Object.hasOwn(simple, c)) {
      this.pos += 2;
      return simple[c];
    }
    const digits = c === 'u' ? 4 : c === 'U' ? 8 : 0;
    if (digits > 0) {
      const hex = this.src.slice(this.pos + 2, this.pos + 2 + digits);
      const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === digits ? Number.parseInt(hex, 16) : -1;
      if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`invalid escape \\${c}${hex}`);
      this.pos += 2 + digits;
      return String.fromCodePoint(code);
    }
    this.fail(`invalid escape \\${c ?? ''} in a string`);
  }
}

export function isTable(value: TomlValue | undefined): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'end of file';
  if (c === '\n' || c === '\r') return 'end of line';
  return JSON.stringify(c);
}
