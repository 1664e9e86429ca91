// skiff's log on stderr, as Podman's --log-level: lines of what skiff decided
// and which files and processes it touched, in logrus's text form
// (`time="…" level=debug msg="…"`), so a script that reads Podman's debug
// output reads skiff's. The level is the global --log-level; it reaches every
// skiff process this one starts (a user-namespace re-execution, the monitor's
// `skiff rm`) as SKIFF_LOG_LEVEL, and the helper reads it too.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level a run starts with when none is given: Podman's default. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const v = env['SKIFF_LOG_LEVEL'];
  return v !== undefined && isLogLevel(v) ? v : DEFAULT_LOG_LEVEL;
}

/** Whether lines of `level` are written now. */
export function logs(level: LogLevel, env: NodeJS.ProcessEnv = process.env): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(logLevel(env));
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function write(level: LogLevel, message: string): void {
  const time = new Date().toISOString();
  process.stderr.write(`time=${quote(time)} level=${level} msg=${quote(message)}\n`);
}

/** A debug line: what skiff decided, which file or process it touched. */
export function debug(message: string | (() => string)): void {
  if (!logs('debug')) return;
  write('debug', typeof message === 'function' ? message() : message);
}

export function info(message: string): void {
  if (logs('info')) write('info', message);
}
