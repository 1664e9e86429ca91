// containers.conf (containers.conf(5)): the TOML file in which Podman and
// Buildah users set their engine's defaults. skiff reads the same files in
// the same order, so a host or user that sets a default for Podman gets it
// from skiff too. The keys skiff honours are listed in CONTAINERS_CONF_KEYS;
// the others belong to Podman's engine (as each engine honours its own subset).
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { errnoCode, SkiffError } from '../errors.js';

/** The keys skiff takes from containers.conf, by table. */
export const CONTAINERS_CONF_KEYS = ['containers.netns'] as const;

export interface ContainersConf {
  /** [containers] netns: the network mode of run, create and build when none is given. */
  netns?: { value: string; file: string };
}

type Env = Record<string, string | undefined>;

function dropIns(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/**
 * The files read, in order (a later file's key wins). CONTAINERS_CONF names
 * the only file; else the system's, then its drop-ins, then the user's
 * (rootless only, as Podman); CONTAINERS_CONF_OVERRIDE comes last either way.
 */
export function containersConfFiles(env: Env, uid: number, home: string): string[] {
  const files: string[] = [];
  const only = env['CONTAINERS_CONF'];
  if (only) {
    files.push(only);
  } else {
    files.push('/usr/share/containers/containers.conf', '/etc/containers/containers.conf', ...dropIns('/etc/containers/containers.conf.d'));
    if (uid !== 0) {
      const xdg = env['XDG_CONFIG_HOME'];
      const config = xdg && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] || home, '.config');
      files.push(path.join(config, 'containers/containers.conf'), ...dropIns(path.join(config, 'containers/containers.conf.d')));
    }
  }
  const override = env['CONTAINERS_CONF_OVERRIDE'];
  if (override) files.push(override);
  return files;
}

function readToml(file: string, required: boolean): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new SkiffError(`cannot read containers.conf ${file}: ${code ?? (err as Error).message}`);
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? `line ${err.line}: ${err.message.split('\n')[0]}` : (err as Error).message;
    throw new SkiffError(`invalid containers.conf ${file}: ${where}`);
  }
}

/** The settings skiff honours, from every containers.conf file there is. */
export function readContainersConf(env: Env = process.env, uid: number = process.getuid?.() ?? 0, home: string = homedir()): ContainersConf {
  const conf: ContainersConf = {};
  const named = new Set([env['CONTAINERS_CONF'], env['CONTAINERS_CONF_OVERRIDE']].filter(Boolean));
  for (const file of containersConfFiles(env, uid, home)) {
    const doc = readToml(file, named.has(file));
    const containers = doc?.['containers'];
    if (typeof containers !== 'object' || containers === null) continue;
    const netns = (containers as Record<string, unknown>)['netns'];
    if (netns === undefined) continue;
    if (typeof netns !== 'string') throw new SkiffError(`invalid containers.conf ${file}: [containers] netns must be a string, e.g. netns = "none"`);
    conf.netns = { value: netns, file };
  }
  return conf;
}
