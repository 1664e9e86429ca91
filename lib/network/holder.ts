// The holder of user-defined networks: one process per user and store whose
// network namespace has a bridge per network in use (helpers-c/src/network.c).
// It lives while a container on a network runs: every member's helper (or
// monitor) keeps a connection to it, and it exits when the last one closes,
// SIGKILL included. Its files, below the runtime directory:
//   networks-<hash of the store>/holder.sock  where it listens
//   networks-<hash of the store>/holder.pid   its pid (written before it listens)
//   networks-<hash of the store>/holder.lock  flock(2): joiners hold it while they
//                                             connect, the holder while it leaves
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { createHash } from 'node:crypto';
import { currentStoreLocations } from '../store/paths.js';
import { lockFile } from '../store/lock.js';
import { startNetworkHolder } from '../namespaces/network.js';
import type { OciIdMapping } from '../oci/runtime-spec.js';

function holderFiles() {
  const { graphRoot, runRoot } = currentStoreLocations();
  const dir = path.join(runRoot, `networks-${createHash('sha256').update(graphRoot).digest('hex').slice(0, 12)}`);
  return { dir, socket: path.join(dir, 'holder.sock'), pidFile: path.join(dir, 'holder.pid'), lock: path.join(dir, 'holder.lock') };
}

function connect(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      sock.on('error', () => {}); // the holder going away later is not this process's business
      sock.pause();
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(undefined);
      else reject(new SkiffError(`cannot reach the network holder at ${socketPath}: ${err.message}`));
    });
  });
}

function readHolderPid(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new SkiffError(`the network holder's pid file ${file} is damaged`);
  return pid;
}

export interface HolderMembership {
  pid: number;
  /** Kept open by the container's helper for the container's life. */
  connection: net.Socket;
}

/**
 * Joins the holder, starting it when none runs (a killed one's files are
 * replaced). `mappings`: rootless, the user namespace the holder makes,
 * the same as the containers' own.
 */
export async function joinHolder(mappings: { uid: OciIdMapping[]; gid: OciIdMapping[] } | null): Promise<HolderMembership> {
  const files = holderFiles();
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const lock = await lockFile(files.lock, 'exclusive');
  try {
    let connection = await connect(files.socket);
    if (!connection) {
      await startNetworkHolder(files, mappings);
      connection = await connect(files.socket);
      if (!connection) throw new SkiffError(`the network holder started but does not listen on ${files.socket}`);
    }
    return { pid: readHolderPid(files.pidFile), connection };
  } finally {
    lock.release();
  }
}

/** The running holder's pid, if one runs (network connect/disconnect of a running container). */
export async function runningHolderPid(): Promise<number | undefined> {
  const files = holderFiles();
  const connection = await connect(files.socket);
  if (!connection) return undefined;
  try {
    return readHolderPid(files.pidFile);
  } finally {
    connection.destroy();
  }
}
