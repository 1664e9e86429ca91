// The helper's network modes (helpers-c/src/network.c): the holder of
// user-defined networks, and attaching or detaching a running container.
import { SkiffError } from '../errors.js';
import type { OciIdMapping } from '../oci/runtime-spec.js';
import { HELPER_PROTOCOL_VERSION, attachmentEntry, idMapEntries, spawnHelper, type NetworkAttachment } from './helper.js';

export type { NetworkAttachment, NetworkStart } from './helper.js';

async function runMode(mode: string, entries: string[]): Promise<number> {
  const { child, reports } = spawnHelper([mode], [`version=${HELPER_PROTOCOL_VERSION}`, ...entries], ['ignore', 'ignore', 'inherit'], mode === 'netholder');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (c) => resolve(c));
  });
  const report = reports();
  const failure = report.errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (code !== 0) throw new SkiffError(`skiff-helper ${mode} failed (exit ${code ?? 'by a signal'})`);
  return report.pid ?? 0;
}

/**
 * Starts the holder: a process in a new network namespace (and, with
 * mappings, a new user namespace with them) listening on `socket`. Resolves
 * to its pid once it listens.
 */
export async function startNetworkHolder(files: { socket: string; pidFile: string; lock: string }, mappings: { uid: OciIdMapping[]; gid: OciIdMapping[] } | null): Promise<number> {
  const entries = [`holder_socket=${files.socket}`, `holder_pid_file=${files.pidFile}`, `holder_lock=${files.lock}`];
  if (mappings) entries.push(...idMapEntries(mappings.uid, mappings.gid));
  const pid = await runMode('netholder', entries);
  if (!(pid > 0)) throw new SkiffError('the network holder did not report its pid');
  return pid;
}

/** network connect of a running container: its new interfaces, made from inside the holder's user namespace when rootless. */
export async function attachRunning(targetPid: number, holderPid: number, rootless: boolean, attachments: NetworkAttachment[]): Promise<void> {
  await runMode('netattach', [`target_pid=${targetPid}`, `net_holder=${holderPid}`, ...(rootless ? [`ns_user=${holderPid}`] : []), ...attachments.map(attachmentEntry)]);
}

/** network disconnect of a running container: its interfaces removed. */
export async function detachRunning(targetPid: number, holderPid: number | undefined, rootless: boolean, ifnames: string[]): Promise<void> {
  if (rootless && holderPid === undefined) throw new SkiffError('the network holder is gone: stop the container to disconnect it');
  await runMode('netdetach', [`target_pid=${targetPid}`, ...(rootless ? [`ns_user=${holderPid}`] : []), ...ifnames.map((i) => `net_detach=${i}`)]);
}
