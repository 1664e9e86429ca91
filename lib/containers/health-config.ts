// A container's healthcheck as `run`/`create` decide it (pure): the image's
// HEALTHCHECK is the default, each --health-* flag overrides its field,
// HEALTHCHECK NONE, --no-healthcheck and --health-cmd none disable it.
// Docker's defaults fill what neither says, so that inspect shows what runs.
import { SkiffError } from '../errors.js';
import { parseDuration } from '../oci/duration.js';
import type { ImageHealthcheck } from '../oci/image-spec.js';

/** The container's Config.Healthcheck: Docker's fields, every one resolved (durations in nanoseconds). */
export interface HealthConfig {
  Test: string[];
  Interval: number;
  Timeout: number;
  StartPeriod: number;
  StartInterval: number;
  Retries: number;
}

export type HealthOnFailure = 'none' | 'kill' | 'restart' | 'stop';

/** The flags as typed (undefined: not given). */
export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
  noHealthcheck: boolean;
  onFailure?: string;
}

export const DEFAULT_INTERVAL = 30e9;
export const DEFAULT_TIMEOUT = 30e9;
export const DEFAULT_START_INTERVAL = 5e9;
export const DEFAULT_RETRIES = 3;

/** --health-cmd: a shell command (CMD-SHELL), or Podman's JSON array (["CMD", …], ["CMD-SHELL", "…"], or the argv itself). */
export function parseHealthCmd(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new SkiffError('--health-cmd requires a command');
  if (trimmed.toLowerCase() === 'none') return ['NONE'];
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new SkiffError(`invalid --health-cmd ${text}: a JSON array of strings, or a shell command`);
    }
    if (!Array.isArray(value) || value.length === 0 || !value.every((v): v is string => typeof v === 'string')) {
      throw new SkiffError(`invalid --health-cmd ${text}: a JSON array of strings, or a shell command`);
    }
    const [first, ...rest] = value;
    if (first === 'NONE') return ['NONE'];
    if (first === 'CMD' || first === 'CMD-SHELL') {
      if (rest.length === 0) throw new SkiffError(`invalid --health-cmd ${text}: ${first} needs a command`);
      return first === 'CMD-SHELL' ? ['CMD-SHELL', rest.join(' ')] : ['CMD', ...rest];
    }
    return ['CMD', ...value];
  }
  return ['CMD-SHELL', text];
}

function duration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ns = parseDuration(text, `--${flag}`);
  // Docker's floor for a set duration: a millisecond.
  if (ns !== 0 && ns < 1e6) throw new SkiffError(`--${flag} cannot be less than 1ms`);
  return ns;
}

export function parseOnFailure(text: string | undefined): HealthOnFailure {
  const value = (text ?? 'none').toLowerCase();
  if (value === 'none' || value === 'kill' || value === 'restart' || value === 'stop') return value;
  throw new SkiffError(`invalid --health-on-failure "${text}": use none, kill, restart or stop`);
}

/**
 * The healthcheck the container runs, undefined for none. Interval 0:
 * Podman's `--health-interval disable` (checks only by `skiff healthcheck run`).
 */
export function resolveHealthcheck(image: ImageHealthcheck | undefined, flags: HealthFlags): HealthConfig | undefined {
  const given = [flags.cmd, flags.interval, flags.timeout, flags.startPeriod, flags.startInterval, flags.retries].some((v) => v !== undefined);
  if (flags.noHealthcheck) {
    if (given) throw new SkiffError('--no-healthcheck conflicts with --health-* options');
    return undefined;
  }
  const test = flags.cmd !== undefined ? parseHealthCmd(flags.cmd) : image?.Test;
  const disabledTimer = flags.interval !== undefined && flags.interval.toLowerCase() === 'disable';
  const interval = disabledTimer ? 0 : duration(flags.interval, 'health-interval');
  const timeout = duration(flags.timeout, 'health-timeout');
  const startPeriod = flags.startPeriod !== undefined ? parseDuration(flags.startPeriod, '--health-start-period') : undefined;
  const startInterval = duration(flags.startInterval, 'health-start-interval');
  let retries: number | undefined;
  if (flags.retries !== undefined) {
    if (!/^-?\d+$/.test(flags.retries)) throw new SkiffError(`invalid --health-retries "${flags.retries}": expected a number`);
    retries = Number(flags.retries);
    if (retries < 0) throw new SkiffError('--health-retries cannot be negative');
  }
  if (test === undefined || test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') throw new SkiffError(`the image's healthcheck test "${test[0]}" is not CMD, CMD-SHELL or NONE`);
  const pick = (flag: number | undefined, fromImage: number | undefined, fallback: number) => (flag !== undefined && flag !== 0 ? flag : fromImage ? fromImage : fallback);
  return {
    Test: test,
    Interval: disabledTimer ? 0 : pick(interval, image?.Interval, DEFAULT_INTERVAL),
    Timeout: pick(timeout, image?.Timeout, DEFAULT_TIMEOUT),
    StartPeriod: startPeriod ?? image?.StartPeriod ?? 0,
    StartInterval: pick(startInterval, image?.StartInterval, DEFAULT_START_INTERVAL),
    Retries: pick(retries, image?.Retries, DEFAULT_RETRIES),
  };
}

/** The argv a check runs in the container. */
export function healthArgv(test: string[]): string[] {
  return test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test.slice(1);
}
