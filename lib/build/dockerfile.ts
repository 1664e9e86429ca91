// A Dockerfile into a list of checked instructions. dockerfile-ast finds the
// structure (parser directives and the escape character, line continuations,
// comments, instruction boundaries, heredocs, and where each thing is); this
// module checks what Docker would refuse and reports it as FILE:LINE:COLUMN
// with what was expected, exit 125. Word processing (quotes, variables) is
// words.ts's, at the time each instruction is run, with the variables of then.
import { DockerfileParser, type Flag } from 'dockerfile-ast';
import type { Heredoc as HeredocNode } from 'dockerfile-ast/lib/heredoc.js';
import { SkiffError } from '../errors.js';

export interface InstructionFlag {
  name: string;
  /** null for a bare `--flag`. */
  value: string | null;
  column: number;
}

export interface Heredoc {
  name: string;
  content: string;
  /** `<<"EOF"` or `<<'EOF'`: the content is not expanded. */
  quoted: boolean;
  /** `<<-EOF`: leading tabs are stripped. */
  stripTabs: boolean;
}

export interface Instruction {
  /** Upper case: FROM, RUN, … */
  keyword: string;
  /** 1-based. */
  line: number;
  column: number;
  flags: InstructionFlag[];
  /** The arguments after the flags, continuation lines joined (the first line only when there are heredocs). */
  text: string;
  /** The exec (JSON) form's strings, when the arguments are a JSON array of strings. */
  json: string[] | null;
  heredocs: Heredoc[];
  /** "KEYWORD args" as written (continuations joined), for errors and ONBUILD. */
  original: string;
}

export interface Dockerfile {
  /** The name shown in errors ("Dockerfile", "-", a path). */
  file: string;
  escape: string;
  syntax?: string;
  instructions: Instruction[];
}

/** What each instruction accepts as flags. */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'keep-git-dir', 'checksum', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export const INSTRUCTIONS = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
  'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
];

/** Instructions whose arguments may be a heredoc (BuildKit's). */
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);

export class DockerfileError extends SkiffError {
  constructor(file: string, line: number, column: number, message: string) {
    super(`${file}:${line}:${column}: ${message}`);
  }
}

/** The exec form: a JSON array of strings, else null (then it is the shell form, as Docker reads it). */
export function parseJsonForm(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: the shell form
  }
  return null;
}

/**
 * Parses and checks a Dockerfile. `file` names it in errors. Nothing about
 * variables or the context is checked here: that needs the build's state.
 */
export function parseDockerfile(content: string, file: string): Dockerfile {
  const doc = DockerfileParser.parse(content);
  const lines = content.split(/\r?\n/);
  const escape = doc.getEscapeCharacter();
  const result: Dockerfile = { file, escape, instructions: [] };
  for (const d of doc.getDirectives()) {
    const name = d.getName().toLowerCase();
    const value = d.getValue();
    const r = d.getRange();
    if (name === 'escape' && value !== '\\' && value !== '`') {
      throw new DockerfileError(file, r.start.line + 1, r.start.character + 1, `invalid escape character "${value}": expected \\ or \``);
    }
    if (name === 'syntax') result.syntax = value;
  }
  for (const ins of doc.getInstructions()) {
    const r = ins.getRange();
    const line = r.start.line + 1;
    const column = r.start.character + 1;
    const keyword = ins.getKeyword().toUpperCase();
    if (!INSTRUCTIONS.includes(keyword)) {
      throw new DockerfileError(file, line, column, `unknown instruction "${ins.getKeyword()}": expected one of ${INSTRUCTIONS.join(', ')}`);
    }
    const args = ins.getArgumentsContent() ?? '';
    const heredocs: Heredoc[] = [];
    let firstLine = args;
    if (HEREDOC_INSTRUCTIONS.has(keyword)) {
      // dockerfile-ast marks getHeredocs experimental (protected); it is the parser's own heredoc reading.
      const found = (ins as unknown as { getHeredocs(): HeredocNode[] }).getHeredocs();
      let from = r.start.line + 1;
      for (const h of found) {
        const delim = h.getDelimiterRange();
        const start = h.getStartRange();
        if (delim === null) {
          throw new DockerfileError(file, start.start.line + 1, start.start.character + 1, `unterminated heredoc <<${h.getName()}: expected a line "${h.getName()}" after its content`);
        }
        const marker = lines[start.start.line]!.slice(start.start.character, start.end.character);
        const stripTabs = marker.startsWith('<<-');
        let body = lines.slice(from, delim.start.line);
        if (stripTabs) body = body.map((l) => l.replace(/^\t+/, ''));
        heredocs.push({ name: h.getName(), content: body.map((l) => `${l}\n`).join(''), quoted: /^<<-?["']/.test(marker), stripTabs });
        from = delim.start.line + 1;
      }
      if (heredocs.length > 0) firstLine = args.split('\n')[0]!;
    }
    const argStart = ins.getArgumentsRange()?.start.character ?? r.start.character + keyword.length + 1;
    const allowed = FLAGS[keyword] ?? [];
    const parsedFlags: InstructionFlag[] = [];
    const withFlags = ins as unknown as { getFlags?: () => Flag[] };
    for (const f of withFlags.getFlags?.() ?? []) {
      const fr = f.getRange();
      if (!allowed.includes(f.getName())) {
        const expected = allowed.length > 0 ? `expected ${allowed.map((a) => `--${a}`).join(', ')}` : `${keyword} takes no flags`;
        throw new DockerfileError(file, fr.start.line + 1, fr.start.character + 1, `unknown flag --${f.getName()} for ${keyword}: ${expected}`);
      }
      const value = f.getValue();
      parsedFlags.push({ name: f.getName(), value: value === null ? null : value.replace(/^(["'])(.*)\1$/, '$2'), column: fr.start.character + 1 });
    }
    const text = firstLine;
    const instruction: Instruction = {
      keyword,
      line,
      column,
      flags: parsedFlags,
      text,
      json: heredocs.length > 0 ? null : parseJsonForm(text),
      heredocs,
      // As written, flags too (what the progress and error lines show, as Podman's show them).
      original: [keyword, ...parsedFlags.map((f) => (f.value === null ? `--${f.name}` : `--${f.name}=${f.value}`)), args].join(' ').trim(),
    };
    checkArguments(file, instruction, argStart + 1);
    result.instructions.push(instruction);
  }
  const first = result.instructions.find((i) => i.keyword !== 'ARG');
  if (!first) throw new DockerfileError(file, lines.length, 1, 'no FROM instruction: a Dockerfile needs at least one FROM');
  if (first.keyword !== 'FROM') {
    throw new DockerfileError(file, first.line, first.column, `${first.keyword} before the first FROM: expected FROM (only ARG may come before it)`);
  }
  return result;
}

function checkArguments(file: string, i: Instruction, argColumn: number): void {
  const fail = (message: string, column = argColumn) => {
    throw new DockerfileError(file, i.line, column, message);
  };
  const text = i.text.trim();
  const empty = text === '' && i.heredocs.length === 0;
  switch (i.keyword) {
    case 'FROM': {
      const words = text.split(/\s+/);
      if (empty) fail('FROM requires an image: expected FROM IMAGE [AS NAME]');
      if (words.length === 3 && words[1]!.toUpperCase() !== 'AS') fail(`FROM: expected AS NAME after the image, found "${words[1]}"`);
      if (words.length !== 1 && words.length !== 3) fail('FROM: expected FROM IMAGE [AS NAME]');
      if (words.length === 3 && !/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(words[2]!)) fail(`invalid stage name "${words[2]}": expected a letter, then letters, digits, '_', '.' or '-'`);
      break;
    }
    case 'COPY':
    case 'ADD':
      if (i.json === null && i.heredocs.length === 0 && text.split(/\s+/).length < 2) fail(`${i.keyword} requires at least two arguments: expected ${i.keyword} SOURCE... DESTINATION`);
      if (i.json !== null && i.json.length < 2) fail(`${i.keyword} requires at least two arguments: expected ["SOURCE", ..., "DESTINATION"]`);
      if (i.heredocs.length > 0 && text === '') fail(`${i.keyword} with a heredoc requires a destination: expected ${i.keyword} <<EOF DESTINATION`);
      break;
    case 'ONBUILD': {
      const inner = text.split(/\s+/)[0]!.toUpperCase();
      if (empty) fail('ONBUILD requires an instruction: expected ONBUILD INSTRUCTION');
      if (inner === 'ONBUILD' || inner === 'FROM' || inner === 'MAINTAINER') fail(`${inner} is not allowed as an ONBUILD trigger`);
      if (!INSTRUCTIONS.includes(inner)) fail(`unknown instruction "${inner}" after ONBUILD: expected one of ${INSTRUCTIONS.join(', ')}`);
      break;
    }
    case 'HEALTHCHECK': {
      const kind = text.split(/\s+/)[0]!.toUpperCase();
      if (kind !== 'CMD' && kind !== 'NONE') fail('HEALTHCHECK: expected CMD COMMAND or NONE');
      if (kind === 'CMD' && text.split(/\s+/).length < 2) fail('HEALTHCHECK CMD requires a command');
      break;
    }
    case 'SHELL':
      if (i.json === null || i.json.length === 0) fail('SHELL requires the exec form: expected SHELL ["executable", "parameters"]');
      break;
    case 'CMD':
    case 'ENTRYPOINT':
    case 'RUN':
      if (empty && i.keyword === 'RUN') fail('RUN requires a command');
      break;
    default:
      if (empty) fail(`${i.keyword} requires at least one argument`);
  }
}
