// A subset of Go's text/template, as Docker's and Podman's CLIs use it for
// --format: literal text; {{.A.B}} field paths, {{.}}, {{$.A}}; pipelines
// ({{.A | upper}}); Docker's functions json, join, lower, upper, title, split,
// truncate, pad, println, len; {{range}}, {{if}}, {{with}}, {{else}}, {{end}};
// trim markers {{- and -}}; comments. Values are JSON-like data.

export type Term =
  | { kind: 'field'; root: 'dot' | 'top'; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'ident'; name: string };

type Command = Term[];
export type Pipeline = Command[];

export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'range' | 'if' | 'with'; pipe: Pipeline; body: TemplateNode[]; elseBody: TemplateNode[] };

/** A format the engine cannot parse or run; lib/cli/format.ts turns it into one line. */
export class TemplateError extends Error {}

const KEYWORDS = new Set(['range', 'if', 'with', 'else', 'end', 'define', 'template', 'block', 'break', 'continue']);

// ---------------------------------------------------------------- parsing

interface Segment {
  kind: 'text' | 'action';
  text: string;
}

function splitActions(src: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open === -1) {
      out.push({ kind: 'text', text: src.slice(pos) });
      break;
    }
    let text = src.slice(pos, open);
    let inner = open + 2;
    if (src.startsWith('- ', inner) || src.startsWith('-\t', inner) || src.startsWith('-\n', inner)) {
      text = text.replace(/\s+$/, '');
      inner += 1;
    }
    if (text !== '') out.push({ kind: 'text', text });
    const close = findClose(src, inner);
    if (close === -1) throw new TemplateError(`unclosed action starting at "${src.slice(open, open + 20)}"`);
    let body = src.slice(inner, close);
    pos = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(pos));
      pos += m ? m[0].length : 0;
    }
    out.push({ kind: 'action', text: body });
  }
  return out;
}

/** The index of the "}}" closing an action, skipping string literals. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    } else if (ch === '`') {
      i = src.indexOf('`', i + 1);
      if (i === -1) return -1;
    } else if (ch === '}' && src[i + 1] === '}') {
      return i;
    }
    i++;
  }
  return -1;
}

type Token = { kind: 'pipe' } | { kind: 'term'; term: Term };

const GO_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };

function tokenize(action: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const ch = action[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (ch === '"') {
      let value = '';
      i++;
      while (i < action.length && action[i] !== '"') {
        if (action[i] === '\\') {
          const esc = action[i + 1] ?? '';
          const mapped = GO_ESCAPES[esc];
          if (mapped === undefined) throw new TemplateError(`unknown escape sequence \\${esc} in a string`);
          value += mapped;
          i += 2;
        } else {
          value += action[i];
          i++;
        }
      }
      if (i >= action.length) throw new TemplateError('unterminated quoted string');
      i++;
      tokens.push({ kind: 'term', term: { kind: 'string', value } });
    } else if (ch === '`') {
      const end = action.indexOf('`', i + 1);
      if (end === -1) throw new TemplateError('unterminated raw string');
      tokens.push({ kind: 'term', term: { kind: 'string', value: action.slice(i + 1, end) } });
      i = end + 1;
    } else {
      const m = /^[^\s|]+/.exec(action.slice(i))!;
      tokens.push({ kind: 'term', term: parseWord(m[0]) });
      i += m[0].length;
    }
  }
  return tokens;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseFieldPath(word: string, rest: string): string[] {
  if (rest === '') return [];
  const path = rest.split('.');
  for (const part of path) {
    if (!FIELD_NAME.test(part)) throw new TemplateError(`bad field "${word}"`);
  }
  return path;
}

function parseWord(word: string): Term {
  if (word === '.') return { kind: 'field', root: 'dot', path: [] };
  if (word.startsWith('.')) return { kind: 'field', root: 'dot', path: parseFieldPath(word, word.slice(1)) };
  if (word === '$') return { kind: 'field', root: 'top', path: [] };
  if (word.startsWith('$.')) return { kind: 'field', root: 'top', path: parseFieldPath(word, word.slice(2)) };
  if (word.startsWith('$')) throw new TemplateError(`variables are not supported: ${word}`);
  if (word === 'true' || word === 'false') return { kind: 'bool', value: word === 'true' };
  if (word === 'nil') return { kind: 'nil' };
  if (/^-?\d+(\.\d+)?$/.test(word)) return { kind: 'number', value: Number(word) };
  if (FIELD_NAME.test(word)) return { kind: 'ident', name: word };
  throw new TemplateError(`unexpected "${word}"`);
}

function parsePipeline(tokens: Token[], what: string): Pipeline {
  const pipe: Pipeline = [];
  let cmd: Command = [];
  for (const t of tokens) {
    if (t.kind === 'pipe') {
      if (cmd.length === 0) throw new TemplateError(`missing command before "|" in ${what}`);
      pipe.push(cmd);
      cmd = [];
    } else {
      cmd.push(t.term);
    }
  }
  if (cmd.length === 0) throw new TemplateError(pipe.length === 0 ? `missing value in ${what}` : `missing command after "|" in ${what}`);
  pipe.push(cmd);
  for (const c of pipe) {
    const head = c[0]!;
    if (head.kind === 'ident' && FUNCTIONS[head.name] === undefined) {
      throw new TemplateError(`function "${head.name}" not defined (skiff knows: ${Object.keys(FUNCTIONS).join(', ')})`);
    }
    if (head.kind !== 'ident' && c.length > 1) throw new TemplateError(`can't give an argument to a non-function in ${what}`);
  }
  return pipe;
}

interface Frame {
  kind: 'range' | 'if' | 'with';
  pipe: Pipeline;
  body: TemplateNode[];
  elseBody: TemplateNode[];
  inElse: boolean;
}

/** Parses a template into its nodes. */
export function parseTemplate(src: string): TemplateNode[] {
  const root: TemplateNode[] = [];
  const stack: Frame[] = [];
  const current = (): TemplateNode[] => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    return top.inElse ? top.elseBody : top.body;
  };
  for (const seg of splitActions(src)) {
    if (seg.kind === 'text') {
      current().push({ kind: 'text', text: seg.text });
      continue;
    }
    const body = seg.text.trim();
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new TemplateError('unclosed comment');
      continue;
    }
    const tokens = tokenize(body);
    const first = tokens[0];
    const keyword = first?.kind === 'term' && first.term.kind === 'ident' && KEYWORDS.has(first.term.name) ? first.term.name : undefined;
    if (keyword === 'range' || keyword === 'if' || keyword === 'with') {
      stack.push({ kind: keyword, pipe: parsePipeline(tokens.slice(1), `{{${keyword}}}`), body: [], elseBody: [], inElse: false });
    } else if (keyword === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) throw new TemplateError('unexpected {{else}}');
      if (tokens.length > 1) throw new TemplateError('{{else if}} and {{else with}} are not supported: nest an {{if}} inside {{else}}');
      top.inElse = true;
    } else if (keyword === 'end') {
      const top = stack.pop();
      if (!top) throw new TemplateError('unexpected {{end}}');
      current().push({ kind: top.kind, pipe: top.pipe, body: top.body, elseBody: top.elseBody });
    } else if (keyword !== undefined) {
      throw new TemplateError(`{{${keyword}}} is not supported`);
    } else {
      current().push({ kind: 'action', pipe: parsePipeline(tokens, `{{${body}}}`) });
    }
  }
  const open = stack[stack.length - 1];
  if (open) throw new TemplateError(`unexpected end of format: {{${open.kind}}} has no {{end}}`);
  return root;
}

// ---------------------------------------------------------------- execution

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

function resolveField(start: unknown, term: Extract<Term, { kind: 'field' }>): unknown {
  let value = start;
  let where = term.root === 'top' ? '$' : '';
  for (const name of term.path) {
    const owner = where === '' ? 'the value' : where;
    if (value === null || value === undefined) throw new TemplateError(`nil value evaluating ${where}.${name}`);
    if (!isObject(value)) throw new TemplateError(`can't evaluate field ${name} in ${owner}: it is ${describe(value)}, not an object`);
    if (!Object.prototype.hasOwnProperty.call(value, name)) {
      const fields = Object.keys(value);
      const hint = fields.length > 0 ? ` (fields: ${fields.join(', ')})` : '';
      throw new TemplateError(`${where === '' ? 'there is' : `${where} has`} no field ${name}${hint}`);
    }
    value = value[name];
    where = `${where}.${name}`;
  }
  return value;
}

/** Go's fmt %v, for the values JSON can hold. */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (isObject(v)) return `{${Object.values(v).map(printValue).join(' ')}}`;
  return String(v);
}

function asString(fn: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`${fn} wants a string, got ${describe(v)}`);
}

function asInt(fn: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new TemplateError(`${fn} wants an integer, got ${describe(v)}`);
}

function arity(fn: string, args: unknown[], n: number): void {
  if (args.length !== n) throw new TemplateError(`wrong number of arguments for ${fn}: want ${n}, got ${args.length}`);
}

// Docker's template functions (docker/cli templates/templates.go).
const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  json: (a) => {
    arity('json', a, 1);
    return JSON.stringify(a[0] ?? null);
  },
  join: (a) => {
    arity('join', a, 2);
    if (!Array.isArray(a[0])) throw new TemplateError(`join wants a list, got ${describe(a[0])}`);
    return a[0].map(printValue).join(asString('join', a[1]));
  },
  lower: (a) => {
    arity('lower', a, 1);
    return asString('lower', a[0]).toLowerCase();
  },
  upper: (a) => {
    arity('upper', a, 1);
    return asString('upper', a[0]).toUpperCase();
  },
  title: (a) => {
    arity('title', a, 1);
    return asString('title', a[0]).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase());
  },
  split: (a) => {
    arity('split', a, 2);
    return asString('split', a[0]).split(asString('split', a[1]));
  },
  truncate: (a) => {
    arity('truncate', a, 2);
    const s = [...asString('truncate', a[0])];
    return s.slice(0, Math.max(0, asInt('truncate', a[1]))).join('');
  },
  pad: (a) => {
    arity('pad', a, 3);
    return ' '.repeat(Math.max(0, asInt('pad', a[1]))) + asString('pad', a[0]) + ' '.repeat(Math.max(0, asInt('pad', a[2])));
  },
  println: (a) => `${a.map(printValue).join(' ')}\n`,
  // Go's builtin: index ITEM KEY... (a label, a network by name, an element).
  index: (a) => {
    if (a.length < 1) throw new TemplateError('wrong number of arguments for index: want at least 1, got 0');
    let v = a[0];
    for (const key of a.slice(1)) {
      if (Array.isArray(v)) {
        if (typeof key !== 'number' || !Number.isInteger(key)) throw new TemplateError(`index of a list wants an integer, got ${describe(key)}`);
        if (key < 0 || key >= v.length) throw new TemplateError(`index out of range: ${key}`);
        v = v[key];
      } else if (isObject(v)) {
        if (typeof key !== 'string') throw new TemplateError(`index of a map wants a string key, got ${describe(key)}`);
        // A missing key is the map's zero value: "" in a map of strings (labels, annotations), as Go prints it.
        v = Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : Object.values(v).every((x) => typeof x === 'string') ? '' : undefined;
      } else if (v === null || v === undefined) {
        // Go: index of a nil map is its zero value.
        v = '';
      } else {
        throw new TemplateError(`can't index item of type ${describe(v)}`);
      }
    }
    return v;
  },
  len: (a) => {
    arity('len', a, 1);
    const v = a[0];
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new TemplateError(`len of ${describe(v)}`);
  },
};

interface Scope {
  dot: unknown;
  top: unknown;
}

function evalTerm(term: Term, scope: Scope): unknown {
  switch (term.kind) {
    case 'field':
      return resolveField(term.root === 'top' ? scope.top : scope.dot, term);
    case 'string':
    case 'number':
    case 'bool':
      return term.value;
    case 'nil':
      return null;
    case 'ident':
      return FUNCTIONS[term.name]!([]);
  }
}

function evalPipeline(pipe: Pipeline, scope: Scope): unknown {
  let prev: unknown;
  let first = true;
  for (const cmd of pipe) {
    const head = cmd[0]!;
    if (head.kind === 'ident') {
      const args = cmd.slice(1).map((t) => evalTerm(t, scope));
      if (!first) args.push(prev);
      prev = FUNCTIONS[head.name]!(args);
    } else {
      if (!first) throw new TemplateError('a value cannot take piped input: only functions can follow "|"');
      prev = evalTerm(head, scope);
    }
    first = false;
  }
  return prev;
}

/** Go's truth: false, 0, nil and empty strings, lists and maps are false. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

function execNodes(nodes: TemplateNode[], scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action':
        out.push(printValue(evalPipeline(node.pipe, scope)));
        break;
      case 'if': {
        const v = evalPipeline(node.pipe, scope);
        execNodes(truthy(v) ? node.body : node.elseBody, scope, out);
        break;
      }
      case 'with': {
        const v = evalPipeline(node.pipe, scope);
        if (truthy(v)) execNodes(node.body, { dot: v, top: scope.top }, out);
        else execNodes(node.elseBody, scope, out);
        break;
      }
      case 'range': {
        const v = evalPipeline(node.pipe, scope);
        let items: unknown[];
        if (v === null || v === undefined) items = [];
        else if (Array.isArray(v)) items = v;
        else if (isObject(v)) items = Object.keys(v).sort().map((k) => v[k]);
        else throw new TemplateError(`range can't iterate over ${describe(v)}`);
        if (items.length === 0) execNodes(node.elseBody, scope, out);
        for (const item of items) execNodes(node.body, { dot: item, top: scope.top }, out);
        break;
      }
    }
  }
}

/** Runs a parsed template on `data`. */
export function executeTemplate(nodes: TemplateNode[], data: unknown): string {
  const out: string[] = [];
  execNodes(nodes, { dot: data, top: data }, out);
  return out.join('');
}
