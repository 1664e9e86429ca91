// `commit -c` and `import -c`: Dockerfile instructions that only change an
// image's configuration, applied as Docker applies them: CMD, ENTRYPOINT,
// ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL. Podman's
// "INSTRUCTION=VALUE" spelling is accepted too. ENV, EXPOSE, LABEL, USER,
// VOLUME, WORKDIR and STOPSIGNAL expand $VAR, ${VAR}, ${VAR:-default} and
// ${VAR:+alternative} from the image's environment, as a Dockerfile does;
// CMD, ENTRYPOINT and ONBUILD are taken as written. Pure: no I/O.
import { SkiffError } from '../errors.js';
import type { ImageConfig } from './image-spec.js';

export type ContainerConfig = NonNullable<ImageConfig['config']>;

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'] as const;

function invalid(change: string, why: string): SkiffError {
  return new SkiffError(`invalid change "${change}": ${why}`);
}

/** The value of NAME in an environment list ("NAME=value"), the last one winning. */
function lookup(env: string[], name: string): string | undefined {
  let value: string | undefined;
  for (const e of env) if (e.startsWith(`${name}=`)) value = e.slice(name.length + 1);
  return value;
}

/**
 * Splits shell-like words: blanks separate, '…' keeps everything, "…" keeps
 * blanks and allows \ escapes and $ expansion, \ escapes one character.
 * With `keepEquals`, "a=b c" stays two words ("a=b", "c").
 */
export function splitWords(text: string, env: string[] | undefined, change: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const expand = (): string => {
    // at text[i] === '$'
    if (env === undefined) {
      i++;
      return '$';
    }
    let name = '';
    let op = '';
    let arg = '';
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw invalid(change, 'a ${ is not closed');
      const body = text.slice(i + 2, close);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])(.*))?$/s.exec(body);
      if (!m) throw invalid(change, `bad substitution \${${body}}`);
      name = m[1]!;
      op = m[2] ?? '';
      arg = m[3] ?? '';
      i = close + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) {
        i++;
        return '$';
      }
      name = m[0];
      i += 1 + name.length;
    }
    const value = lookup(env, name);
    if (op === ':-') return value ? value : arg;
    if (op === ':+') return value ? arg : '';
    return value ?? '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw invalid(change, 'a quote is not closed');
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(change, 'a quote is not closed');
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '"\\$'.includes(text[i + 1]!)) {
          word += text[i + 1];
          i += 2;
        } else if (d === '$') {
          word += expand();
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[i + 1];
      inWord = true;
      i += 2;
    } else if (c === '$') {
      word += expand();
      inWord = true;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A JSON array of strings (the exec form), or undefined when the text is not one. */
function jsonForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  } catch {
    // the shell form, then
  }
  return undefined;
}

/** KEY=VALUE pairs (ENV, LABEL); ENV also takes the old "ENV KEY VALUE". */
function pairs(rest: string, env: string[], change: string, instruction: 'ENV' | 'LABEL'): Array<[string, string]> {
  const first = /^(\S+)/.exec(rest)?.[1] ?? '';
  if (instruction === 'ENV' && !first.includes('=')) {
    const value = rest.slice(first.length).trim();
    if (value === '') throw invalid(change, 'ENV needs a value: ENV KEY=VALUE');
    return [[first, splitWords(value, env, change).join(' ')]];
  }
  return splitWords(rest, env, change).map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0) throw invalid(change, `${instruction} takes KEY=VALUE pairs, not "${word}"`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

function ports(words: string[], change: string): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw invalid(change, `"${w}" is not a port (PORT[-PORT][/tcp|udp|sctp])`);
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    if (from < 1 || to > 65535 || to < from) throw invalid(change, `"${w}" is not a port between 1 and 65535`);
    for (let p = from; p <= to; p++) out.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  return out;
}

/** Applies one change to `config` (a copy is changed and returned). */
export function applyConfigChange(config: ContainerConfig, change: string): ContainerConfig {
  const m = /^\s*([A-Za-z]+)(?:\s+|=)([\s\S]*)$/.exec(change);
  const instruction = m?.[1]?.toUpperCase();
  if (!m || instruction === undefined || !(CHANGE_INSTRUCTIONS as readonly string[]).includes(instruction)) {
    throw invalid(change, `the instruction must be one of ${CHANGE_INSTRUCTIONS.join(', ')}`);
  }
  const rest = m[2]!.trim();
  if (rest === '') throw invalid(change, `${instruction} needs an argument`);
  const env = config.Env ?? [];
  const out: ContainerConfig = { ...config };
  switch (instruction) {
    case 'CMD':
    case 'ENTRYPOINT': {
      const argv = jsonForm(rest) ?? ['/bin/sh', '-c', rest];
      if (instruction === 'CMD') out.Cmd = argv;
      else out.Entrypoint = argv;
      break;
    }
    case 'ENV': {
      let list = [...env];
      for (const [k, v] of pairs(rest, env, change, 'ENV')) list = [...list.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
      out.Env = list;
      break;
    }
    case 'LABEL':
      out.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(pairs(rest, env, change, 'LABEL')) };
      break;
    case 'EXPOSE': {
      const exposed: Record<string, object> = { ...(config.ExposedPorts ?? {}) };
      for (const p of ports(splitWords(rest, env, change), change)) exposed[p] = {};
      out.ExposedPorts = exposed;
      break;
    }
    case 'VOLUME': {
      const paths = jsonForm(rest) ?? splitWords(rest, env, change);
      const volumes: Record<string, object> = { ...(config.Volumes ?? {}) };
      for (const p of paths) {
        if (p === '') throw invalid(change, 'a volume path is empty');
        volumes[p] = {};
      }
      out.Volumes = volumes;
      break;
    }
    case 'USER':
      out.User = splitWords(rest, env, change).join(' ');
      break;
    case 'WORKDIR': {
      const dir = splitWords(rest, env, change).join(' ');
      const base = config.WorkingDir || '/';
      const joined = dir.startsWith('/') ? dir : `${base.replace(/\/+$/, '')}/${dir}`;
      out.WorkingDir = joined.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
      break;
    }
    case 'STOPSIGNAL':
      out.StopSignal = splitWords(rest, env, change).join(' ');
      break;
    case 'ONBUILD': {
      const inner = /^([A-Za-z]+)/.exec(rest)?.[1]?.toUpperCase();
      if (inner === 'ONBUILD' || inner === 'FROM' || inner === 'MAINTAINER') throw invalid(change, `${inner} is not allowed as an ONBUILD instruction`);
      out.OnBuild = [...(config.OnBuild ?? []), rest];
      break;
    }
  }
  return out;
}

/** Applies every change in order. */
export function applyConfigChanges(config: ContainerConfig | undefined, changes: string[]): ContainerConfig {
  let out: ContainerConfig = { ...(config ?? {}) };
  for (const c of changes) out = applyConfigChange(out, c);
  return out;
}
