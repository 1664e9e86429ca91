// One error type for everything skiff reports to a user. The exit code follows
// Docker: 125 when skiff itself fails, 126 when the command cannot be invoked,
// 127 when it cannot be found.
import { readFileSync } from 'node:fs';

export const EXIT_SKIFF_FAILED = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

/**
 * Marks SkiffErrors across bundles: each lazily loaded bundle (dist/lazy/*.cjs)
 * has its own copy of this class, so `instanceof` checks a registered symbol
 * rather than one copy's prototype (a subclass still checks its own prototype).
 */
const SKIFF_ERROR = Symbol.for('skiff.SkiffError');

/**
 * What kind of failure, where a command's exit code depends on it: Podman's
 * `rm` and `rmi` exit 1 for a name that does not exist and 2 for a container
 * that is running or an image in use (Docker: 1 for both).
 */
export type SkiffErrorReason = 'not-found' | 'conflict';

export class SkiffError extends Error {
  readonly exitCode: number;
  readonly reason: SkiffErrorReason | undefined;
  /** Its line is already on stderr (a child skiff printed it): nothing more is printed, the exit code stands. */
  readonly reported: boolean;
  readonly [SKIFF_ERROR] = true;
  constructor(message: string, exitCode: number = EXIT_SKIFF_FAILED, reason?: SkiffErrorReason, opts: { reported?: boolean } = {}) {
    super(message);
    this.name = 'SkiffError';
    this.exitCode = exitCode;
    this.reason = reason;
    this.reported = opts.reported === true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== SkiffError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [SKIFF_ERROR]?: unknown })[SKIFF_ERROR] === true;
  }
}

/** The errno-style code of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** "cannot write FILE: why", for an output file (-o, --iidfile) that could not be created. */
export function cannotWrite(file: string, err: unknown): SkiffError {
  const code = errnoCode(err);
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) || '/' : '.';
  const why =
    code === 'ENOENT' ? `the directory ${dir} does not exist` : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code === 'ENOTDIR' ? `${dir} is not a directory` : (code ?? String(err));
  return new SkiffError(`cannot write ${file}: ${why}`);
}

/** A file the user named (--env-file, --label-file, a seccomp profile), read whole: "cannot read WHAT FILE: why" when it cannot be. */
export function readUserFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    throw new SkiffError(`cannot read ${what} ${file}: ${why}`);
  }
}
