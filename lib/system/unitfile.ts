// systemd unit files as quadlet reads and writes them: sections of
// KEY=VALUE lines (a key may repeat), comments, backslash continuations;
// words split and quoted as systemd splits Exec= and Environment= lines.
import { SkiffError } from '../errors.js';

export interface UnitEntry {
  key: string;
  value: string;
}

export interface UnitSection {
  name: string;
  entries: UnitEntry[];
}

/** The sections in file order; a section named twice is one. */
export function parseUnitFile(text: string, file: string): UnitSection[] {
  const sections: UnitSection[] = [];
  let current: UnitSection | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    const number = i + 1;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // A value continued on the next lines (comments between them are skipped, as systemd does).
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      if (next.startsWith('#') || next.startsWith(';')) {
        line = `${line.slice(0, -1)} `;
        continue;
      }
      line = `${line.slice(0, -1)} ${next}`;
    }
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new SkiffError(`${file}:${number}: a section header must end with ]`);
      const name = line.slice(1, -1);
      current = sections.find((s) => s.name === name);
      if (!current) sections.push((current = { name, entries: [] }));
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new SkiffError(`${file}:${number}: expected KEY=VALUE, got "${line}"`);
    if (!current) throw new SkiffError(`${file}:${number}: "${line}" is outside any [section]`);
    current.entries.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return sections;
}

/** systemd's word splitting (Exec=, Environment=): whitespace between words, "…" and '…' quote, \ escapes. */
export function splitWords(text: string, what: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = findClosing(text, i, ch);
      if (end < 0) throw new SkiffError(`${what}: unbalanced quote in "${text}"`);
      word = (word ?? '') + unescape(text.slice(i + 1, end));
      i = end;
      continue;
    }
    if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + unescape(text.slice(i, i + 2));
      i++;
      continue;
    }
    word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function findClosing(text: string, open: number, quote: string): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'", ' ': ' ' };

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_m, c: string) => ESCAPES[c] ?? c);
}

/**
 * One argument of an Exec= line, as systemd reads it back: $ doubled (no
 * variable is expanded), % doubled unless `specifiers` (a quadlet file's
 * values may use %h, %U…, as Podman's do), quoted when it holds anything but
 * plain characters.
 */
export function quoteExecArg(arg: string, specifiers = false): string {
  const literal = (specifiers ? arg : arg.replace(/%/g, '%%')).replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A unit file's text: sections in the order given, entries as they are. */
export function formatUnitFile(header: string[], sections: UnitSection[]): string {
  const out = header.map((l) => `# ${l}`.trimEnd());
  for (const s of sections) {
    if (out.length > 0) out.push('');
    out.push(`[${s.name}]`);
    for (const e of s.entries) out.push(`${e.key}=${e.value}`);
  }
  return `${out.join('\n')}\n`;
}
