import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagList, flagString } from '../args.js';
import { forEachRef } from '../each.js';
import { SkiffError } from '../../errors.js';
import { waitContainer, type WaitCondition } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'wait',
  summary: 'Block until one or more containers stop, then print their exit codes',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    {
      name: 'condition',
      type: 'array',
      placeholder: 'STATE',
      describe: "Wait until the container is in this state (Podman's: created, running, paused, stopped, exited, healthy or unhealthy; repeatable, any ends the wait); -1 is printed for a state other than stopped",
    },
    { name: 'interval', short: 'i', type: 'string', placeholder: 'DURATION', describe: 'Time between looks at the container (Podman; 250ms, 1s, or milliseconds as a number)' },
  ],
};

/** Podman's condition names, as skiff's states; Podman's configured and initialized are skiff's created. */
const CONDITIONS: Record<string, WaitCondition> = {
  configured: 'created',
  created: 'created',
  initialized: 'created',
  running: 'running',
  paused: 'paused',
  stopped: 'exited',
  exited: 'exited',
  healthy: 'healthy',
  unhealthy: 'unhealthy',
};

/** A Go duration (250ms, 1m30s) or, as Podman reads it, a number of milliseconds. */
export function parseInterval(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new SkiffError(`invalid --interval "${text}": use a duration such as 250ms or 1s`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]!]!, 0);
}

export async function run(args: ParsedArgs): Promise<number> {
  const until = flagList(args, 'condition').map((c) => {
    const state = CONDITIONS[c];
    if (state === undefined) {
      const why = ['stopping', 'removing'].includes(c) ? ': skiff does not record that state' : '';
      throw new SkiffError(`invalid --condition "${c}"${why}; use created, running, paused, stopped, exited, healthy or unhealthy`);
    }
    return state;
  });
  const intervalText = flagString(args, 'interval');
  const intervalMs = intervalText === undefined ? undefined : parseInterval(intervalText);
  return forEachRef(args.positionals, async (ref) =>
    String(await waitContainer(resolveContainer(ref), { createdIsDone: true, ...(until.length > 0 ? { until } : {}), ...(intervalMs !== undefined ? { intervalMs } : {}) })),
  );
}
