// The docker-credential-helpers protocol, "get" only: run
// `docker-credential-NAME get`, write the server name on stdin, read
// {"ServerURL","Username","Secret"} from stdout. A helper that does not know
// the server exits non-zero saying "credentials not found in native keychain".
// The username "<token>" marks an identity token (OAuth2 refresh token).
import { SkiffError } from '../errors.js';
import type { Credentials } from './credentials.js';

const HELPER_TIMEOUT_MS = 30_000;
const NOT_FOUND = /credentials not found/i;

export async function runCredentialHelper(name: string, serverName: string, configFile: string): Promise<Credentials | undefined> {
  if (name === '' || /[/\s]/.test(name)) throw new SkiffError(`${configFile}: invalid credential helper name "${name}"`);
  const program = `docker-credential-${name}`;
  // Loaded here: only a configured helper needs node:child_process.
  const { spawn } = await import('node:child_process');
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SkiffError(`credential helper ${program} (from ${configFile}) did not answer within ${HELPER_TIMEOUT_MS / 1000} s`));
    }, HELPER_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new SkiffError(`credential helper ${program}, named in ${configFile}, is not installed (not found on PATH)`)
          : new SkiffError(`cannot run credential helper ${program}: ${err.message}`),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // A helper may exit without reading stdin; its exit status says what happened.
    });
    child.stdin.end(serverName);
  });
  if (result.code !== 0) {
    if (NOT_FOUND.test(result.stdout) || NOT_FOUND.test(result.stderr)) return undefined;
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
    throw new SkiffError(`credential helper ${program} failed for ${serverName} (exit ${result.code})${said ? `: ${said}` : ''}`);
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(result.stdout) as typeof doc;
  } catch {
    throw new SkiffError(`credential helper ${program} printed something that is not JSON for ${serverName}`);
  }
  if (typeof doc.Username !== 'string' || typeof doc.Secret !== 'string') {
    throw new SkiffError(`credential helper ${program} did not print a Username and a Secret for ${serverName}`);
  }
  if (doc.Username === '<token>') return { username: '', password: '', identityToken: doc.Secret, source: program };
  return { username: doc.Username, password: doc.Secret, source: program };
}
