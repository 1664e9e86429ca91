// --cidfile on rm and stop (Podman): the containers named by the files that
// run --cidfile wrote, as a systemd unit's ExecStop and ExecStopPost use them.
import { readFileSync, rmSync } from 'node:fs';
import { SkiffError, errnoCode } from '../errors.js';

/** The ids in the files; a missing file is skipped with --ignore. */
export function idsFromCidFiles(files: string[], ignore: boolean): string[] {
  const ids: string[] = [];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (ignore && errnoCode(err) === 'ENOENT') continue;
      throw new SkiffError(`cannot read the container id file ${file}: ${errnoCode(err) ?? (err as Error).message}`);
    }
    const id = text.split('\n')[0]!.trim();
    if (!/^[0-9a-f]{64}$/.test(id)) throw new SkiffError(`the container id file ${file} holds no container id`);
    ids.push(id);
  }
  return ids;
}

/** rm --cidfile: a file whose container is gone goes too, so the unit's next start may write it again. */
export function removeStaleCidFiles(files: string[], exists: (id: string) => boolean): void {
  for (const file of files) {
    let id;
    try {
      id = readFileSync(file, 'utf8').split('\n')[0]!.trim();
    } catch {
      continue;
    }
    if (/^[0-9a-f]{64}$/.test(id) && !exists(id)) rmSync(file, { force: true });
  }
}
