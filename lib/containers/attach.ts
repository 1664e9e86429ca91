// The client side of a monitor's attach socket (frames in helpers-c/src/protocol.h):
// container output to our stdout/stderr, our stdin to the container, and the
// detach keys (default ctrl-p,ctrl-q) to leave it running.
import { closeSync, existsSync, openSync } from 'node:fs';
import { containerEvent } from './events.js';
import net from 'node:net';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { runDir, type ContainerRecord } from './store.js';

const STREAM_STDOUT = 1;
const STREAM_STDERR = 2;
const STREAM_EXIT = 3;

export function attachSocketPath(id: string): string {
  return path.join(runDir(id), 'attach');
}

/** A unix socket path that fits sun_path (107 bytes): a long one through its directory's fd. */
function connectablePath(socketPath: string): { path: string; dirFd?: number } {
  if (Buffer.byteLength(socketPath) < 100) return { path: socketPath };
  const dirFd = openSync(path.dirname(socketPath), 'r');
  return { path: `/proc/self/fd/${dirFd}/${path.basename(socketPath)}`, dirFd };
}

/** Connects, retrying while the monitor is still creating the socket. */
export async function connectAttach(socketPath: string, timeoutMs = 10_000): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const target = connectablePath(socketPath);
        const sock = net.connect(target.path);
        const release = () => target.dirFd !== undefined && closeSync(target.dirFd);
        sock.once('connect', release);
        sock.once('error', release);
        sock.once('connect', () => resolve(sock));
        sock.once('error', reject);
      });
    } catch (err) {
      const code = errnoCode(err);
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) {
        throw new SkiffError(`cannot attach to ${socketPath}: ${code ?? String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** "ctrl-p,ctrl-q" -> the bytes [0x10, 0x11]; letters and a few symbols as Docker accepts. */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const ctrl = /^ctrl-([a-z@\[\\\]^_])$/.exec(key);
    if (ctrl) bytes.push(ctrl[1]!.charCodeAt(0) & 0x1f);
    else if (key.length === 1) bytes.push(key.charCodeAt(0));
    else throw new SkiffError(`invalid detach keys "${spec}": use e.g. ctrl-p,ctrl-q or ctrl-a,x`);
  }
  return Buffer.from(bytes);
}

export interface PumpOptions {
  stdin: boolean;
  detachKeys: string;
}

/** Relays until the container exits (its code) or the user detaches ('detached'). */
export function pumpAttach(sock: net.Socket, opts: PumpOptions): Promise<number | 'detached'> {
  const keys = parseDetachKeys(opts.detachKeys);
  const raw = opts.stdin && process.stdin.isTTY === true;
  return new Promise((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    let matched = 0;
    let done = false;
    const finish = (result: number | 'detached') => {
      if (done) return;
      done = true;
      if (opts.stdin) {
        process.stdin.off('data', onInput);
        if (raw) process.stdin.setRawMode(false);
        // Done with our stdin: an open pipe must not keep skiff alive after a detach.
        process.stdin.destroy();
      }
      sock.destroy();
      resolve(result);
    };
    const onInput = (chunk: Buffer) => {
      // Hold back a possible start of the detach sequence until it completes or breaks.
      const out: number[] = [];
      for (const byte of chunk) {
        if (keys.length > 0 && byte === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            if (out.length) sock.write(Buffer.from(out));
            finish('detached');
            return;
          }
          continue;
        }
        if (matched > 0) out.push(...keys.subarray(0, matched));
        matched = 0;
        out.push(byte);
      }
      if (out.length) sock.write(Buffer.from(out));
    };
    if (opts.stdin) {
      if (raw) process.stdin.setRawMode(true);
      process.stdin.on('data', onInput);
      process.stdin.on('end', () => sock.end());
    }
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        const stream = pending[0];
        const data = pending.subarray(5, 5 + len);
        pending = pending.subarray(5 + len);
        if (stream === STREAM_STDOUT) process.stdout.write(data);
        else if (stream === STREAM_STDERR) process.stderr.write(data);
        else if (stream === STREAM_EXIT && len === 4) return finish(data.readInt32BE(0));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => finish(-1));
  });
}

/** `attach` to a running container; falls back to waitExit when the stream ends without an exit frame. */
export async function attachContainer(
  record: ContainerRecord,
  opts: PumpOptions & { waitExit: () => Promise<number> },
): Promise<number> {
  const socketPath = attachSocketPath(record.Id);
  if (!existsSync(socketPath)) {
    // Running, but with no monitor: a foreground run, whose skiff holds its stdio.
    throw new SkiffError(
      `cannot attach to ${record.Name}: it runs in the foreground of the skiff that started it, which holds its input and output; attach works with containers started by 'run -d' or 'start' (see 'skiff logs ${record.Name}')`,
    );
  }
  const sock = await connectAttach(socketPath, 2000);
  containerEvent(record, 'attach');
  const result = await pumpAttach(sock, opts);
  if (result === 'detached') return 0;
  return result >= 0 ? result : opts.waitExit();
}
