// Entry point of the CLI: global flags, command dispatch, and the one place
// where errors become a single line on stderr and an exit code.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from './args.js';
import { COMMANDS, findCommand } from './commands.js';
import { SkiffError, EXIT_SKIFF_FAILED } from '../errors.js';
import { VERSION } from '../version.js';
import { debug } from '../log.js';
import { setInstallRoot } from '../paths.js';
import { logGlobalChoices, parseGlobalOptions } from './global-options.js';
import { printErrorLine as printError } from './error-line.js';


/** What the host's refusal of a file operation means, where the error names the file. */
const HOST_FILE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

/** "cannot mkdir PATH: permission denied" for such an error, else undefined. */
function hostFileProblem(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, syscall, path: file } = err as NodeJS.ErrnoException;
  if (code === undefined || file === undefined) return undefined;
  const why = HOST_FILE_ERRORS[code] ?? (code === 'ENOENT' && syscall === 'mkdir' ? refusedAbove(file) : undefined);
  return why === undefined ? undefined : `cannot ${syscall ?? 'use'} ${file}: ${why}`;
}

/**
 * Node's recursive mkdir reports ENOENT when the host refused a directory on
 * the way (a read-only file system, one the user may not write): the reason,
 * asked of the deepest directory that is there.
 */
function refusedAbove(file: string): string | undefined {
  let dir = path.dirname(file);
  while (!existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined ? HOST_FILE_ERRORS[code] : undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const globals = parseGlobalOptions(argv);
  if (globals.version) {
    process.stdout.write(`skiff version ${VERSION}\n`);
    return 0;
  }
  const i = globals.next;
  logGlobalChoices();
  const name = argv[i];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const { printMainHelp } = await import('./help.js');
    const topic = name === 'help' ? argv[i + 1] : undefined;
    if (topic) {
      const entry = findCommand(topic);
      if (!entry) throw new SkiffError(`unknown command "${topic}" for "skiff"`);
      const { printCommandHelp } = await import('./help.js');
      await printCommandHelp((await entry.load()).spec);
      return 0;
    }
    await printMainHelp(COMMANDS);
    return name === undefined ? EXIT_SKIFF_FAILED : 0;
  }
  const entry = findCommand(name);
  if (!entry) throw new SkiffError(`unknown command "${name}" for "skiff" (see 'skiff --help')`);
  const mod = await entry.load();
  const rest = argv.slice(i + 1);
  const args = parseArgs(mod.spec, mod.normalizeArgv ? mod.normalizeArgv(rest) : rest);
  debug(`command: ${name} (its arguments are not logged: they may hold secrets)`);
  if (args.help) {
    const { printCommandHelp } = await import('./help.js');
    await printCommandHelp(mod.spec);
    return 0;
  }
  return mod.run(args);
}

/** The whole CLI: bin/skiff calls this with argv and the package's directory. */
export function cli(argv: string[], installRoot: string): void {
  setInstallRoot(installRoot);
  main(argv).then(
  (code) => {
    // Done: exit now rather than wait for handles to wind down (a few ms
    // per run). stdout is synchronous for files and terminals, but a pipe
    // or socket is non-blocking: what a slow reader has not taken yet waits
    // in the stream's queue (`save | slow-reader` lost its last KiB), so
    // exit only once that queue is written.
    const out = process.stdout;
    if (out.writableLength > 0 && !out.destroyed) out.write('', () => process.exit(code));
    else process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof SkiffError) {
      if (!err.reported) printError(err.message);
      process.exitCode = err.exitCode;
    } else if (hostFileProblem(err)) {
      // The host refused a file skiff needed (a store it may not write, a full disk): not a bug in skiff.
      printError(hostFileProblem(err)!);
      process.exitCode = EXIT_SKIFF_FAILED;
    } else {
      // A bug in skiff: still one line by default; the stack on request.
      const message = err instanceof Error ? err.message : String(err);
      printError(`internal error: ${message}`);
      if (process.env['SKIFF_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = EXIT_SKIFF_FAILED;
    }
  },
  );
}
