// -e and --env-file, with Docker's rules: KEY=VALUE sets, a bare KEY passes the
// caller's value (and is dropped when the caller has none), '#' lines and blank
// lines in a file are skipped, and a name may not be empty or hold whitespace.
import { readFileSync } from 'node:fs';
import { SkiffError, errnoCode } from '../../errors.js';

export function parseEnvEntry(entry: string, hostEnv: NodeJS.ProcessEnv, where: string): string | undefined {
  const eq = entry.indexOf('=');
  const name = eq === -1 ? entry : entry.slice(0, eq);
  if (name === '') throw new SkiffError(`invalid environment variable "${entry}"${where}: the name is empty`);
  if (/\s/.test(name)) throw new SkiffError(`invalid environment variable "${name}"${where}: the name contains whitespace`);
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
    const entry = parseEnvEntry(line.trimStart(), hostEnv, ` in ${file} line ${i + 1}`);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

export function readEnvFile(file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    throw new SkiffError(`cannot read env file ${file}: ${why}`);
  }
  if (text.includes('\0')) throw new SkiffError(`env file ${file} contains a NUL byte`);
  return parseEnvFile(text, file, hostEnv);
}

/** --env-file entries first, then -e, as Docker orders them. */
export function resolveEnvironment(envFlags: string[], envFiles: string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const file of envFiles) out.push(...readEnvFile(file, hostEnv));
  for (const entry of envFlags) {
    const resolved = parseEnvEntry(entry, hostEnv, '');
    if (resolved !== undefined) out.push(resolved);
  }
  return out;
}
