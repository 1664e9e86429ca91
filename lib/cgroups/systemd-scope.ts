// A transient scope of systemd, asked for over D-Bus (what `systemd-run
// --scope` does, without starting that program at each run): StartTransientUnit
// with the helper's pid and Delegate=yes, then the wait for the start job's
// JobRemoved. It speaks only what that needs, over the manager's private
// socket ($XDG_RUNTIME_DIR/systemd/private, root: /run/systemd/private): a
// direct connection, so no bus daemon, no Hello and no AddMatch (systemd
// sends its signals to every direct connection), SASL EXTERNAL, and the
// little-endian wire format of the D-Bus specification for one method call,
// its reply or error, and one signal.
import { connect, type Socket } from 'node:net';
import { SkiffError } from '../errors.js';

const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER_INTERFACE = 'org.freedesktop.systemd1.Manager';
/** sd-bus's default method timeout. */
const TIMEOUT_MS = 25_000;

const enum MessageType {
  MethodCall = 1,
  MethodReturn = 2,
  Error = 3,
  Signal = 4,
}

const enum HeaderField {
  Path = 1,
  Interface = 2,
  Member = 3,
  ErrorName = 4,
  ReplySerial = 5,
  Destination = 6,
  Signature = 8,
}

/** Writes D-Bus values, aligned from the start of what it writes (a message, or its body: both start 8-aligned). */
class Writer {
  private buf = Buffer.alloc(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  byte(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.align(4);
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }

  /** s and o */
  string(v: string): void {
    const bytes = Buffer.from(v, 'utf8');
    this.u32(bytes.length);
    this.room(bytes.length + 1);
    bytes.copy(this.buf, this.length);
    this.buf[this.length + bytes.length] = 0;
    this.length += bytes.length + 1;
  }

  signature(v: string): void {
    this.byte(v.length);
    this.room(v.length + 1);
    this.buf.write(v, this.length, 'ascii');
    this.buf[this.length + v.length] = 0;
    this.length += v.length + 1;
  }

  /** An array whose elements align to elementAlign (8 for structs and dict entries). */
  array(elementAlign: number, items: () => void): void {
    this.u32(0);
    const lengthAt = this.length - 4;
    this.align(elementAlign);
    const start = this.length;
    items();
    this.buf.writeUInt32LE(this.length - start, lengthAt);
  }

  struct(fields: () => void): void {
    this.align(8);
    fields();
  }

  variant(signature: string, value: () => void): void {
    this.signature(signature);
    value();
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Reads D-Bus values of one message (offsets from its start), in its own byte order. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public offset: number,
    private readonly little: boolean,
  ) {}

  private check(n: number): void {
    if (this.offset + n > this.buf.length) throw new Error('a message from systemd ends early');
  }

  align(n: number): void {
    this.offset += (n - (this.offset % n)) % n;
  }

  byte(): number {
    this.check(1);
    return this.buf[this.offset++]!;
  }

  u32(): number {
    this.align(4);
    this.check(4);
    const v = this.little ? this.buf.readUInt32LE(this.offset) : this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  string(): string {
    const n = this.u32();
    this.check(n + 1);
    const v = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n + 1;
    return v;
  }

  signature(): string {
    const n = this.byte();
    this.check(n + 1);
    const v = this.buf.toString('ascii', this.offset, this.offset + n);
    this.offset += n + 1;
    return v;
  }

  /** A header field's value: the basic types the specification gives them. */
  basic(signature: string): string | number {
    switch (signature) {
      case 's':
      case 'o':
        return this.string();
      case 'g':
        return this.signature();
      case 'u':
        return this.u32();
      case 'y':
        return this.byte();
      default:
        throw new Error(`a header field of type ${signature} from systemd`);
    }
  }
}

interface Message {
  type: number;
  serial: number;
  fields: Map<number, string | number>;
  body: Reader;
}

/** The length of the first whole message in buf, or 0 while it is not all there. */
function messageLength(buf: Buffer): number {
  if (buf.length < 16) return 0;
  const little = buf[0] === 0x6c;
  const bodyLength = little ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLength = little ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const headerEnd = 16 + fieldsLength + ((8 - ((16 + fieldsLength) % 8)) % 8);
  return buf.length >= headerEnd + bodyLength ? headerEnd + bodyLength : 0;
}

function parseMessage(buf: Buffer): Message {
  const little = buf[0] === 0x6c;
  if (!little && buf[0] !== 0x42) throw new Error('a message from systemd in no known byte order');
  const r = new Reader(buf, 4, little);
  r.u32(); // body length
  const serial = r.u32();
  const fieldsLength = r.u32();
  const fieldsEnd = r.offset + fieldsLength;
  const fields = new Map<number, string | number>();
  while (r.offset < fieldsEnd) {
    r.align(8);
    const code = r.byte();
    fields.set(code, r.basic(r.signature()));
  }
  r.align(8);
  return { type: buf[1]!, serial, fields, body: r };
}

function methodCall(serial: number, member: string, signature: string, body: Buffer): Buffer {
  const w = new Writer();
  w.byte(0x6c); // little-endian
  w.byte(MessageType.MethodCall);
  w.byte(0); // flags: a reply is wanted
  w.byte(1); // protocol version
  w.u32(body.length);
  w.u32(serial);
  const field = (code: number, sig: string, value: string) =>
    w.struct(() => {
      w.byte(code);
      w.variant(sig, () => (sig === 'g' ? w.signature(value) : w.string(value)));
    });
  w.array(8, () => {
    field(HeaderField.Path, 'o', MANAGER_PATH);
    field(HeaderField.Interface, 's', MANAGER_INTERFACE);
    field(HeaderField.Member, 's', member);
    field(HeaderField.Destination, 's', 'org.freedesktop.systemd1');
    field(HeaderField.Signature, 'g', signature);
  });
  w.align(8);
  return Buffer.concat([w.bytes(), body]);
}

export interface ScopeRequest {
  /** The manager's private socket. */
  socket: string;
  /** skiff-ID.scope */
  unit: string;
  description: string;
}

/**
 * A connection to the manager, authenticated (SASL EXTERNAL as this
 * process's uid); made before the process to place exists, so that its round
 * trips overlap the helper's start.
 */
export class SystemdConnection {
  private readonly sock: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private authenticated = false;
  private failure: Error | undefined;
  private readonly ready: Promise<void>;
  private serial = 0;
  private readonly replies = new Map<number, (m: Message) => void>();
  /** JobRemoved: each job's result, and who waits for one. */
  private readonly jobResults = new Map<string, string>();
  private readonly jobWaiters = new Map<string, (result: string) => void>();
  private readonly failed = new Set<(err: Error) => void>();

  constructor(private readonly socketPath: string) {
    this.sock = connect(socketPath);
    this.ready = new Promise((resolve, reject) => {
      this.failed.add(reject);
      this.sock.on('connect', () => {
        const uid = String(process.geteuid?.() ?? 0);
        this.sock.write(`\0AUTH EXTERNAL ${Buffer.from(uid, 'ascii').toString('hex')}\r\n`);
      });
      this.sock.on('data', (chunk: Buffer) => {
        this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
        if (!this.authenticated) {
          const eol = this.pending.indexOf('\r\n');
          if (eol < 0) return;
          const line = this.pending.toString('ascii', 0, eol);
          this.pending = this.pending.subarray(eol + 2);
          if (!line.startsWith('OK ')) return this.fail(new Error(`systemd refused the authentication: ${line}`));
          this.authenticated = true;
          this.failed.delete(reject);
          this.sock.write('BEGIN\r\n');
          resolve();
        }
        this.dispatch();
      });
    });
    this.sock.on('error', (err) => this.fail(err));
    this.sock.on('close', () => this.fail(new Error('systemd closed the connection')));
    // Seen by whoever awaits; never an unhandled rejection meanwhile.
    this.ready.catch(() => undefined);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const f of this.failed) f(this.failure);
    this.failed.clear();
    this.sock.destroy();
  }

  private dispatch(): void {
    for (;;) {
      const n = messageLength(this.pending);
      if (n === 0) return;
      try {
        const m = parseMessage(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        const member = m.fields.get(HeaderField.Member);
        if (m.type === MessageType.Signal && member === 'JobRemoved' && m.fields.get(HeaderField.Signature) === 'uoss') {
          m.body.u32(); // the job's id
          const job = m.body.string();
          m.body.string(); // the unit
          const result = m.body.string();
          const waiter = this.jobWaiters.get(job);
          if (waiter) waiter(result);
          else this.jobResults.set(job, result);
        } else if (m.type === MessageType.MethodReturn || m.type === MessageType.Error) {
          this.replies.get(Number(m.fields.get(HeaderField.ReplySerial)))?.(m);
        }
      } catch (err) {
        return this.fail(err as Error);
      }
    }
  }

  /** Resolves with what `register` hands over, or rejects when the connection fails or the timeout passes. */
  private wait<T>(what: string, register: (done: (v: T) => void) => () => void): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      let unregister = (): void => undefined;
      const timer = setTimeout(() => finish(new Error(`no ${what} from systemd within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      const finish = (err: Error | undefined, v?: T) => {
        clearTimeout(timer);
        this.failed.delete(onFail);
        unregister();
        if (err) reject(err);
        else resolve(v as T);
      };
      const onFail = (err: Error) => finish(err);
      this.failed.add(onFail);
      unregister = register((v) => finish(undefined, v));
    });
  }

  /** Starts the scope with pid in it and waits for its start job; throws a SkiffError naming what failed. */
  async startScope(req: ScopeRequest, pid: number): Promise<void> {
    try {
      await this.ready;
      const body = new Writer();
      body.string(req.unit);
      body.string('fail');
      const property = (name: string, signature: string, value: () => void) =>
        body.struct(() => {
          body.string(name);
          body.variant(signature, value);
        });
      body.array(8, () => {
        property('Description', 's', () => body.string(req.description));
        property('PIDs', 'au', () => body.array(4, () => body.u32(pid)));
        property('Delegate', 'b', () => body.u32(1));
        // systemd-run --collect: unloaded even when it failed, so the name is free again.
        property('CollectMode', 's', () => body.string('inactive-or-failed'));
      });
      body.array(8, () => undefined); // no auxiliary units
      const serial = ++this.serial;
      const reply = this.wait<Message>('reply to StartTransientUnit', (done) => {
        this.replies.set(serial, done);
        return () => this.replies.delete(serial);
      });
      this.sock.write(methodCall(serial, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', body.bytes()));
      const answer = await reply;
      if (answer.type === MessageType.Error) {
        const message = answer.fields.get(HeaderField.Signature) === 's' ? answer.body.string() : '';
        throw new Error(`${String(answer.fields.get(HeaderField.ErrorName))}${message ? `: ${message}` : ''}`);
      }
      const job = answer.body.string();
      // The job may have ended before its reply was read.
      const result =
        this.jobResults.get(job) ??
        (await this.wait<string>(`end of the job ${job}`, (done) => {
          this.jobWaiters.set(job, done);
          return () => this.jobWaiters.delete(job);
        }));
      if (result !== 'done') throw new Error(`its start job ended "${result}"`);
    } catch (err) {
      throw new SkiffError(
        `cannot start the systemd scope ${req.unit} for the container (${this.socketPath}): ${(err as Error).message}; run with --cgroup-manager=cgroupfs in a unit with Delegate=yes, or without limits and --cgroups=disabled`,
      );
    }
  }

  close(): void {
    this.failed.clear();
    this.sock.destroy();
  }
}
