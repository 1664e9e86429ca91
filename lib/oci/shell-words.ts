// Docker's word processing for Dockerfile arguments (BuildKit's shell lexer,
// read from its documentation and behaviour): quotes are removed, the escape
// character (`\`, or the `# escape=` one) takes the next character literally,
// and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`,
// `${VAR+word}`, `${VAR:?msg}` and `${VAR?msg}` are expanded from the build's
// variables. Inside single quotes nothing is special; inside double quotes only
// `$` and an escaped `"`, `$` or escape character.
import { SkiffError } from '../errors.js';

export type Variables = ReadonlyMap<string, string>;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  next(): string {
    return this.text[this.pos++] ?? '';
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
}

/** One piece of a processed word: whether it came from an unquoted expansion (split on blanks by processWords). */
interface Piece {
  text: string;
  splittable: boolean;
}

class Lexer {
  constructor(
    private readonly vars: Variables,
    private readonly escape: string,
  ) {}

  /** The word's pieces up to the end of the text (or an unquoted blank when `stopAtBlank`). */
  pieces(s: Scanner, stopAtBlank: boolean, stopAt = ''): Piece[] {
    const out: Piece[] = [];
    let literal = '';
    const flush = () => {
      if (literal !== '') out.push({ text: literal, splittable: false });
      literal = '';
    };
    while (!s.done()) {
      const ch = s.peek();
      if (stopAt !== '' && ch === stopAt) break;
      if (stopAtBlank && /\s/.test(ch)) break;
      if (ch === this.escape) {
        s.next();
        if (s.done()) literal += ch;
        else literal += s.next();
      } else if (ch === "'") {
        s.next();
        literal += this.singleQuoted(s);
      } else if (ch === '"') {
        s.next();
        literal += this.doubleQuoted(s);
      } else if (ch === '$') {
        flush();
        out.push({ text: this.dollar(s), splittable: true });
      } else {
        literal += s.next();
      }
    }
    flush();
    return out;
  }

  private singleQuoted(s: Scanner): string {
    let out = '';
    for (;;) {
      if (s.done()) throw new SkiffError('unexpected end of statement while looking for matching single-quote');
      const ch = s.next();
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(s: Scanner): string {
    let out = '';
    for (;;) {
      if (s.done()) throw new SkiffError('unexpected end of statement while looking for matching double-quote');
      const ch = s.peek();
      if (ch === '"') {
        s.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar(s);
      } else if (ch === this.escape) {
        s.next();
        const nx = s.peek();
        if (nx === '') continue;
        if (nx !== '"' && nx !== '$' && nx !== this.escape) out += ch;
        out += s.next();
      } else {
        out += s.next();
      }
    }
  }

  /** At a `$`: the expansion, or a literal `$` when no name follows. */
  private dollar(s: Scanner): string {
    s.next();
    const ch = s.peek();
    if (ch === '{') {
      s.next();
      return this.braced(s);
    }
    const name = this.name(s);
    if (name === '') return '$';
    return this.vars.get(name) ?? '';
  }

  private name(s: Scanner): string {
    let name = '';
    if (/[0-9]/.test(s.peek())) return s.next();
    while (/[A-Za-z0-9_]/.test(s.peek())) name += s.next();
    return name;
  }

  private braced(s: Scanner): string {
    const name = this.name(s);
    if (name === '') throw new SkiffError(`bad substitution: \${${s.text.slice(s.pos).split('}')[0]}}`);
    let op = s.next();
    if (op === '}') return this.vars.get(name) ?? '';
    if (op === ':') op += s.next();
    if (!['-', '+', '?', ':-', ':+', ':?'].includes(op)) {
      throw new SkiffError(`unsupported modifier (${op}) in substitution \${${name}${op}…}: use \${${name}:-word}, \${${name}:+word} or \${${name}:?message}`);
    }
    const word = this.pieces(s, false, '}')
      .map((p) => p.text)
      .join('');
    if (s.next() !== '}') throw new SkiffError(`missing '}' in substitution \${${name}${op}${word}`);
    const value = this.vars.get(name);
    const set = value !== undefined && (!op.startsWith(':') || value !== '');
    switch (op.replace(':', '')) {
      case '-':
        return set ? value! : word;
      case '+':
        return set ? word : '';
      default:
        if (!set) throw new SkiffError(`${name}: ${word || 'is not set'}`);
        return value!;
    }
  }
}

/** One word: quotes removed, escapes applied, variables expanded (Docker's ProcessWord). */
export function processWord(word: string, vars: Variables, escape = '\\'): string {
  return new Lexer(vars, escape)
    .pieces(new Scanner(word), false)
    .map((p) => p.text)
    .join('');
}

/**
 * Blank-separated words, each processed; an unquoted expansion that holds
 * blanks makes several words (Docker's ProcessWords: `EXPOSE $PORTS`).
 */
export function processWords(text: string, vars: Variables, escape = '\\'): string[] {
  const lexer = new Lexer(vars, escape);
  const s = new Scanner(text);
  const words: string[] = [];
  for (;;) {
    while (/\s/.test(s.peek())) s.next();
    if (s.done()) return words;
    let current: string | undefined;
    for (const p of lexer.pieces(s, true)) {
      if (!p.splittable) {
        current = (current ?? '') + p.text;
        continue;
      }
      const parts = p.text.split(/\s+/);
      parts.forEach((part, i) => {
        if (i > 0) {
          if (current !== undefined && current !== '') words.push(current);
          current = undefined;
        }
        if (part !== '') current = (current ?? '') + part;
      });
    }
    if (current !== undefined) words.push(current);
  }
}

/**
 * Splits on blanks outside quotes, keeping quotes and escapes in each word
 * (Docker's parseWords, used for `KEY=VALUE` lists before processWord).
 */
export function splitWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === '' && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && quote !== "'" && i + 1 < text.length) {
      word += ch + text[++i]!;
      continue;
    }
    if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = '';
    word += ch;
  }
  if (inWord) words.push(word);
  return words;
}
