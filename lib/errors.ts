// One error type for everything skiff reports to a user. The exit code follows
// Docker: 125 when skiff itself fails, 126 when the command cannot be invoked,
// 127 when it cannot be found.
export const EXIT_SKIFF_FAILED = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export class SkiffError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_SKIFF_FAILED) {
    super(message);
    this.name = 'SkiffError';
    this.exitCode = exitCode;
  }
}

/** The errno-style code of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
