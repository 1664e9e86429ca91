// What each Dockerfile instruction does to the image's configuration, as
// Docker records it: the config fields, and the history line ("created_by")
// `history` shows. Pure: the variables come in, the new config goes out.
import { SkiffError } from '../errors.js';
import type { ImageConfig, ImageHealthcheck, ImageHistory } from '../oci/image-spec.js';
import { processWord, processWords, splitWords, type Variables } from '../oci/shell-words.js';
import type { Instruction } from './dockerfile.js';
import { parseDuration } from '../oci/duration.js';

/** The container config as a build keeps it: the OCI fields plus Docker's Healthcheck, OnBuild and Shell. */
export interface BuildContainerConfig extends NonNullable<ImageConfig['config']> {
  Healthcheck?: ImageHealthcheck;
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface BuildImageConfig extends ImageConfig {
  config?: BuildContainerConfig;
}

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Docker's history prefix for an instruction that changes only the config. */
export function nopCreatedBy(shell: string[], text: string): string {
  return `${shell.join(' ')} #(nop) ${text}`;
}

/** The value of NAME in KEY=VALUE lines (the last one wins). */
export function envValue(env: string[] | undefined, name: string): string | undefined {
  let value: string | undefined;
  for (const e of env ?? []) if (e.startsWith(`${name}=`)) value = e.slice(name.length + 1);
  return value;
}

/** Sets NAME=value in an Env list, in place of an earlier NAME. */
export function setEnv(env: string[], name: string, value: string): string[] {
  const out = [...env];
  const at = out.findIndex((e) => e.startsWith(`${name}=`) || e === name);
  if (at >= 0) out[at] = `${name}=${value}`;
  else out.push(`${name}=${value}`);
  return out;
}

/**
 * KEY=VALUE pairs (ENV, LABEL, ARG): words split with quotes kept, then each
 * key and value processed. `ENV KEY VALUE` (one pair, the rest of the line)
 * is Docker's older form.
 */
export function keyValues(i: Instruction, vars: Variables, escape: string, allowLegacy: boolean): [string, string | undefined][] {
  const words = splitWords(i.text, escape);
  if (words.length === 0) throw new SkiffError(`${i.keyword} requires at least one argument`);
  if (allowLegacy && !words[0]!.includes('=')) {
    const rest = i.text.trim().slice(words[0]!.length).trim();
    if (rest === '') throw new SkiffError(`${i.keyword} ${words[0]} requires a value: expected ${i.keyword} KEY=VALUE`);
    return [[processWord(words[0]!, vars, escape), processWord(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (i.keyword === 'ARG') return [processWord(w, vars, escape), undefined];
      throw new SkiffError(`${i.keyword} ${w}: expected KEY=VALUE`);
    }
    const key = processWord(w.slice(0, eq), vars, escape);
    if (key === '') throw new SkiffError(`${i.keyword} ${w}: the name is empty`);
    return [key, processWord(w.slice(eq + 1), vars, escape)];
  });
}

export interface ConfigChange {
  config: BuildContainerConfig;
  createdBy: string;
}

function execOrShell(i: Instruction, shell: string[]): string[] {
  return i.json ?? [...shell, i.text];
}

/**
 * Applies a config-only instruction (everything but FROM, RUN, COPY, ADD and
 * ARG) to `config`, with the variables in scope for expansion.
 */
export function applyConfigInstruction(i: Instruction, current: BuildContainerConfig, vars: Variables, escape: string): ConfigChange {
  const config: BuildContainerConfig = { ...current };
  const shell = config.Shell ?? DEFAULT_SHELL;
  const word = (w: string) => processWord(w, vars, escape);
  const words = () => processWords(i.text, vars, escape);
  let shown = `${i.keyword} ${i.text}`;
  switch (i.keyword) {
    case 'ENV': {
      let env = [...(config.Env ?? [])];
      const pairs = keyValues(i, vars, escape, true);
      for (const [k, v] of pairs) env = setEnv(env, k, v ?? '');
      config.Env = env;
      shown = `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
      break;
    }
    case 'LABEL': {
      const pairs = keyValues(i, vars, escape, true);
      config.Labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of pairs) config.Labels[k] = v ?? '';
      shown = `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
      break;
    }
    case 'MAINTAINER':
      shown = `MAINTAINER ${i.text}`;
      break;
    case 'EXPOSE': {
      const ports: Record<string, object> = { ...(config.ExposedPorts ?? {}) };
      for (const p of words()) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!m) throw new SkiffError(`EXPOSE ${p}: invalid port: expected PORT[/PROTOCOL] or START-END[/PROTOCOL]`);
        const proto = (m[3] ?? 'tcp').toLowerCase();
        const from = Number(m[1]);
        const to = m[2] === undefined ? from : Number(m[2]);
        if (from < 1 || to > 65535 || to < from) throw new SkiffError(`EXPOSE ${p}: invalid port range`);
        for (let n = from; n <= to; n++) ports[`${n}/${proto}`] = {};
      }
      config.ExposedPorts = ports;
      shown = `EXPOSE ${Object.keys(ports).join(' ')}`;
      break;
    }
    case 'VOLUME': {
      const list = i.json ?? words();
      if (list.length === 0 || list.some((v) => v.trim() === '')) throw new SkiffError('VOLUME requires a path: expected VOLUME PATH...');
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const v of list) config.Volumes[v] = {};
      shown = `VOLUME ${JSON.stringify(list)}`;
      break;
    }
    case 'USER':
      config.User = word(i.text.trim());
      shown = `USER ${config.User}`;
      break;
    case 'WORKDIR': {
      const dir = word(i.text.trim());
      const base = config.WorkingDir || '/';
      const joined = dir.startsWith('/') ? dir : `${base.replace(/\/$/, '')}/${dir}`;
      config.WorkingDir = normalizeAbsolute(joined);
      shown = `WORKDIR ${config.WorkingDir}`;
      break;
    }
    case 'STOPSIGNAL':
      config.StopSignal = word(i.text.trim());
      shown = `STOPSIGNAL ${config.StopSignal}`;
      break;
    case 'CMD':
      config.Cmd = execOrShell(i, shell);
      shown = `CMD ${JSON.stringify(config.Cmd)}`;
      break;
    case 'ENTRYPOINT':
      config.Entrypoint = i.text.trim() === '' ? null : execOrShell(i, shell);
      // Docker: a new ENTRYPOINT drops the base image's CMD unless this Dockerfile set one.
      shown = `ENTRYPOINT ${JSON.stringify(config.Entrypoint ?? [])}`;
      break;
    case 'SHELL':
      config.Shell = i.json!;
      shown = `SHELL ${JSON.stringify(config.Shell)}`;
      break;
    case 'ONBUILD': {
      const trigger = i.text.trim();
      config.OnBuild = [...(config.OnBuild ?? []), trigger];
      shown = `ONBUILD ${trigger}`;
      break;
    }
    case 'HEALTHCHECK': {
      const kind = i.text.trim().split(/\s+/)[0]!.toUpperCase();
      if (kind === 'NONE') {
        if (i.flags.length > 0) throw new SkiffError('HEALTHCHECK NONE takes no flags');
        config.Healthcheck = { Test: ['NONE'] };
      } else {
        const rest = i.text.trim().slice(3).trim();
        const json = rest.startsWith('[') ? (() => { try { const v: unknown = JSON.parse(rest); return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null; } catch { return null; } })() : null;
        const hc: NonNullable<BuildContainerConfig['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest] };
        for (const f of i.flags) {
          const v = f.value ?? '';
          if (f.name === 'retries') {
            if (!/^\d+$/.test(v)) throw new SkiffError(`HEALTHCHECK --retries ${v}: expected a number`);
            hc.Retries = Number(v);
          } else {
            const ns = parseDuration(v, `HEALTHCHECK --${f.name}`);
            if (f.name === 'interval') hc.Interval = ns;
            else if (f.name === 'timeout') hc.Timeout = ns;
            else if (f.name === 'start-period') hc.StartPeriod = ns;
            else hc.StartInterval = ns;
          }
        }
        config.Healthcheck = hc;
      }
      shown = `HEALTHCHECK ${i.text.trim()}`;
      break;
    }
    default:
      throw new SkiffError(`internal: ${i.keyword} is not a config instruction`);
  }
  return { config, createdBy: nopCreatedBy(shell, shown) };
}

/** "/a/./b/../c/" -> "/a/c". */
export function normalizeAbsolute(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

export function historyEntry(created: string, createdBy: string, empty: boolean): ImageHistory {
  return { created, created_by: createdBy, ...(empty ? { empty_layer: true } : {}) };
}
