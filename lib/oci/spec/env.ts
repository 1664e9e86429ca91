// -e and --env-file, with Docker's rules: KEY=VALUE sets, a bare KEY passes the
// caller's value (and is dropped when the caller has none), '#' lines and blank
// lines in a file are skipped, and a name may not be empty; in a file it may not
// hold whitespace either (Docker's env-file check; its -e, like Podman's, has none).
import { SkiffError, readUserFile } from '../../errors.js';

export function parseEnvEntry(entry: string, hostEnv: NodeJS.ProcessEnv, where: string, fromFile: boolean): string | undefined {
  const eq = entry.indexOf('=');
  const name = eq === -1 ? entry : entry.slice(0, eq);
  if (name === '') throw new SkiffError(`invalid environment variable "${entry}"${where}: the name is empty`);
  if (fromFile && /\s/.test(name)) throw new SkiffError(`invalid environment variable "${name}"${where}: the name contains whitespace`);
  if (eq !== -1) return entry;
  const value = hostEnv[name];
  return value === undefined ? undefined : `${name}=${value}`;
}

export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const entry = parseEnvEntry(line.trimStart(), hostEnv, ` in ${file} line ${i + 1}`, true);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

export function readEnvFile(file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const text = readUserFile(file, 'env file');
  if (text.includes('\0')) throw new SkiffError(`env file ${file} contains a NUL byte`);
  return parseEnvFile(text, file, hostEnv);
}

/** --env-file entries first, then -e, as Docker orders them. */
export function resolveEnvironment(envFlags: string[], envFiles: string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const file of envFiles) out.push(...readEnvFile(file, hostEnv));
  for (const entry of envFlags) {
    const resolved = parseEnvEntry(entry, hostEnv, '', false);
    if (resolved !== undefined) out.push(resolved);
  }
  return out;
}

/** The proxy variables --http-proxy (Podman's, on by default) passes from the caller. */
export const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY'];

/**
 * $NAME, ${NAME}, ${NAME:-WORD} and ${NAME:+WORD} in `text`, from `vars` (an
 * unset name is empty), as a Dockerfile's ENV expands them; \$ is a dollar.
 */
export function expandVariables(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}?/g, (whole, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    if (whole === '\\$') return '$';
    const name = braced ?? bare;
    if (name === undefined) throw new SkiffError(`invalid variable reference "${whole}" in "${text}": use $NAME or \${NAME}`);
    const value = vars.get(name);
    if (op === '-') return value ? value : (word ?? '');
    if (op === '+') return value ? (word ?? '') : '';
    return value ?? '';
  });
}

export interface EnvironmentRequest {
  /** The image's Env. */
  image: string[];
  /** -e, in order. */
  env: string[];
  /** --env-file, in order. */
  envFiles: string[];
  /** --env-host: the caller's whole environment (skiff's own SKIFF_* settings excepted). */
  envHost: boolean;
  /** --http-proxy (default true): the caller's proxy variables. */
  httpProxy: boolean;
  /** --env-merge KEY=VALUE, VALUE expanded from the variables before it. */
  envMerge: string[];
  /** --unsetenv NAME: dropped from the defaults (the caller's, the image's, PATH, HOSTNAME, TERM). */
  unsetEnv: string[];
  /** --unsetenv-all: none of those defaults. */
  unsetEnvAll: boolean;
}

/**
 * A container's environment in Podman's order: the caller's (--env-host,
 * else its proxy variables), then the image's over them, then --env-merge
 * (expanded from what came before, PATH's default included), less
 * --unsetenv's names (or all of it with --unsetenv-all), then --env-file and
 * -e, which always win. `defaults`: which of skiff's own defaults (PATH,
 * HOSTNAME, TERM) the container still gets.
 */
export function composeEnvironment(req: EnvironmentRequest, hostEnv: NodeJS.ProcessEnv, defaultPath: string): { env: string[]; keepDefault: (name: string) => boolean } {
  const vars = new Map<string, string>();
  const set = (entry: string) => {
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  };
  if (req.envHost) {
    for (const [k, v] of Object.entries(hostEnv)) if (v !== undefined && !k.startsWith('SKIFF_')) vars.set(k, v);
  } else if (req.httpProxy) {
    for (const k of PROXY_VARIABLES) if (hostEnv[k] !== undefined) vars.set(k, hostEnv[k]!);
  }
  for (const entry of req.image) set(entry);
  for (const entry of req.envMerge) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new SkiffError(`invalid --env-merge "${entry}": use NAME=VALUE, e.g. PATH=\${PATH}:/opt/bin`);
    const name = entry.slice(0, eq);
    if (/\s/.test(name)) throw new SkiffError(`invalid --env-merge "${entry}": the name contains whitespace`);
    const scope = new Map(vars);
    if (!scope.has('PATH')) scope.set('PATH', defaultPath);
    vars.set(name, expandVariables(entry.slice(eq + 1), scope));
  }
  for (const name of req.unsetEnv) {
    if (name === '' || name.includes('=')) throw new SkiffError(`invalid --unsetenv "${name}": give a variable's name`);
    vars.delete(name);
  }
  if (req.unsetEnvAll) vars.clear();
  const unset = new Set(req.unsetEnv);
  return {
    env: [...[...vars].map(([k, v]) => `${k}=${v}`), ...resolveEnvironment(req.env, req.envFiles, hostEnv)],
    keepDefault: (name) => !req.unsetEnvAll && !unset.has(name),
  };
}
