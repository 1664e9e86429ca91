// Rootless store work happens inside a user namespace with the user's full
// mapping (design.md, decision 1): files owned by sub-IDs can only be created,
// chowned and removed from there. A command that needs it re-executes itself
// through `skiff-helper userns`, once per invocation.
import { SkiffError } from '../errors.js';
import { debug } from '../log.js';
import { idMapEntries, spawnHelper, HELPER_PROTOCOL_VERSION } from './helper.js';
import { rootlessMappings } from '../host/subids.js';

import { USERNS_MARKER as MARKER, isReexecuted } from './userns-state.js';

export { inStoreNamespace, isReexecuted } from './userns-state.js';

/** Runs `skiff-helper userns` with these entries (plus the caller's maps); resolves to the program's exit code. */
async function runInUserNamespace(
  entries: string[],
  stdio: ('inherit' | 'ignore' | 'pipe')[],
): Promise<number | null> {
  const mappings = rootlessMappings();
  const spec = [`version=${HELPER_PROTOCOL_VERSION}`, ...entries, ...idMapEntries(mappings.uidMappings, mappings.gidMappings)];
  const { child, reports } = spawnHelper(['userns'], spec, stdio);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  const forward = (s: NodeJS.Signals) => child.kill(s);
  for (const s of signals) process.on(s, forward);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (c) => resolve(c));
  });
  for (const s of signals) process.off(s, forward);
  const failure = reports().errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  return code;
}

/**
 * Runs this same skiff command again as root of a new user namespace with the
 * caller's mapping, and resolves to its exit code. Signals to this process are
 * passed on. Call only when !inStoreNamespace().
 */
export async function reexecInUserNamespace(argv: string[]): Promise<number> {
  if (isReexecuted()) throw new SkiffError('internal: already re-executed into a user namespace, but not root there');
  const entries: string[] = [];
  for (const arg of [process.execPath, '--', ...process.argv.slice(1, 2), ...argv]) entries.push(`arg=${arg}`);
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.includes('=')) entries.push(`env=${k}=${v}`);
  entries.push(`env=${MARKER}=1`, `cwd=${process.cwd()}`);
  debug(() => `re-executing this command as root of a user namespace with the mapping of /etc/subuid (${process.execPath})`);
  const code = await runInUserNamespace(entries, ['inherit', 'inherit', 'inherit']);
  if (code === null) throw new SkiffError('the skiff helper was killed');
  return code;
}
