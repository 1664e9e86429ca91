// Networking (issue 10): the default private network through pasta (and
// slirp4netns), published ports, the network program's lifetime, the
// errors a port can meet. Real pasta and slirp4netns, real sockets, as root
// and rootless; only 127.0.0.1, the host's own address and addresses inside
// the containers' namespaces; bounded loops; no DNS.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { describe, expect, test } from 'vitest';
import { findProgram } from '../../lib/host/programs.js';
import { hasIPv6DefaultRoute } from '../../lib/network/plan.js';
import { collect, httpGet, integrationEnv, modes, skiffBin, type Mode, useDefaultNetwork } from './harness.js';
import { buildProbe } from './probe-harness.js';
import { newStore, type TestStore } from './store-harness.js';

// This file tests the default network: containers that name none get pasta.
useDefaultNetwork();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROGRAMS = new Set(['pasta', 'passt', 'passt.avx2', 'pasta.avx2', 'slirp4netns']);
const hasPasta = findProgram('pasta') !== undefined;
const probe = buildProbe();
const probePath = 'path' in probe ? probe.path : undefined;
const hasSlirp = findProgram('slirp4netns') !== undefined;
const hostAddress = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
const hostAddress6 = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80:'))?.address;
/** The host's own IPv6 link-local address with its zone (fe80::…%eth0), if it has one. */
const hostLinkLocal = Object.entries(networkInterfaces()).flatMap(([name, l]) => (l ?? []).filter((a) => a.family === 'IPv6' && !a.internal && a.address.startsWith('fe80:')).map((a) => `${a.address}%${name}`))[0];

/** Network programs (pasta, slirp4netns) serving container `id` (or the one whose id starts so), found by SKIFF_CONTAINER in their environment. */
function networkPrograms(id: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (!PROGRAMS.has(comm)) continue;
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${entry}/status`, 'utf8'))) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').some((v) => v.startsWith(`SKIFF_CONTAINER=${id}`))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The process holding the host's listening TCP socket on `port` (any address), by its socket's inode. */
function listenerOf(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** A live process's name; null once it is gone (or a zombie). */
function commOf(pid: number): string | null {
  try {
    if (/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return null;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** User and system CPU a process has used, in clock ticks (1/100 s here). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** httpGet once the server answers: run -d returns before httpd listens, and pasta resets a connection to a port nothing listens on yet (bounded: ~5 s). */
async function httpAnswer(address: string, port: number): Promise<string> {
  let answer = '';
  await until(`an answer on ${address}:${port}`, async () => {
    answer = await httpGet(address, port, 3000);
    return !answer.startsWith('error:');
  }).catch(() => {});
  return answer;
}

/** A free TCP port on the host (then released). */
/** Sends `size` bytes to host:port, half-closes, and resolves with all the peer answers before it closes. */
function sendAndHalfClose(host: string, port: number, size: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const c = connect({ port, host, allowHalfOpen: true });
    let got = '';
    c.on('connect', () => c.end(Buffer.alloc(size, 120)));
    c.setEncoding('utf8').on('data', (d: string) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function listen(address: string, onData?: (text: string) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((sock) => {
      sock.setEncoding('utf8').on('data', (d: string) => onData?.(d));
      sock.on('error', () => {});
    });
    server.listen(0, address, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** A busybox httpd in a detached container, serving "ok-NAME". */
async function webServer(store: TestStore, name: string, flags: string[]): Promise<{ code: number | null; stderr: string; id: string }> {
  const script = `mkdir -p /tmp/w-${name} && echo ok-${name} > /tmp/w-${name}/index.html && exec httpd -f -p 80 -h /tmp/w-${name}`;
  const r = await store.skiff(['run', '-d', '--name', name, ...flags, '--rootfs', store.mode.rootfs, 'sh', '-c', script]);
  return { code: r.code, stderr: r.stderr, id: r.stdout.trim() };
}

/** busybox httpd whose index is a CGI printing the client's address as the container sees it (REMOTE_ADDR). */
async function peerServer(store: TestStore, name: string, flags: string[]): Promise<{ code: number | null; stderr: string; id: string }> {
  const dir = `/tmp/peer-${name}`;
  const script = `mkdir -p ${dir}/cgi-bin && echo '#!/bin/sh' > ${dir}/cgi-bin/index.cgi && echo 'printf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"' >> ${dir}/cgi-bin/index.cgi && chmod 755 ${dir}/cgi-bin/index.cgi && exec httpd -f -p 80 -h ${dir}`;
  const r = await store.skiff(['run', '-d', '--name', name, ...flags, '--rootfs', store.mode.rootfs, 'sh', '-c', script]);
  return { code: r.code, stderr: r.stderr, id: r.stdout.trim() };
}

async function inspect(store: TestStore, name: string, format: string): Promise<string> {
  return (await store.skiff(['inspect', '-f', format, name])).stdout.trim();
}

describe.skipIf(!hasPasta).each(modes())(`the default network${hasPasta ? '' : ' (skipped: pasta is not installed: apt-get install passt)'} ($name)`, (mode: Mode) => {
  test('a private namespace: eth0 at 10.0.2.100/24 with MTU 65520, a default route, lo; HostConfig.NetworkMode pasta', async () => {
    const store = newStore(mode);
    const r = await store.skiff(['run', '--name', 'n', '--rootfs', mode.rootfs, 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/mtu; ip route | grep ^default; ip -o link show lo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/eth0\s+inet 10\.0\.2\.100\/24/);
    expect(lines[1]).toBe('65520');
    expect(lines[2]).toMatch(/^default via 10\.0\.2\.2 dev eth0/);
    expect(lines[3]).toMatch(/lo: <LOOPBACK,UP/);
    expect(await inspect(store, 'n', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}')).toBe('pasta 10.0.2.100 10.0.2.2');
  });

  test('containers.conf [containers] netns sets the default (CONTAINERS_CONF, and the user\'s own file rootless); --network still wins; a bad file is one line', async () => {
    const store = newStore(mode);
    const dir = mkdtempSync(path.join(integrationEnv().workDir, 'conf-'));
    chmodSync(dir, 0o755);
    const none = path.join(dir, 'none.conf');
    writeFileSync(none, '# as Podman reads it\n[containers]\nnetns = "none"\n[engine]\nevents_logger = "file"\n', { mode: 0o644 });
    const links = async (args: string[], env: Record<string, string>) => store.skiff(['run', '--rm', ...args, '--rootfs', mode.rootfs, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'], { env });
    const off = await links([], { CONTAINERS_CONF: none });
    expect(off.stderr).toBe('');
    expect(off.stdout).toBe('lo ');
    expect((await links(['--network', 'pasta'], { CONTAINERS_CONF: none })).stdout).toBe('eth0 lo ');
    if (mode.user) {
      // Rootless, Podman also reads $XDG_CONFIG_HOME/containers/containers.conf.
      mkdirSync(path.join(dir, 'containers'));
      writeFileSync(path.join(dir, 'containers/containers.conf'), '[containers]\nnetns = "none"\n', { mode: 0o644 });
      expect((await links([], { XDG_CONFIG_HOME: dir })).stdout).toBe('lo ');
    }
    const bad = path.join(dir, 'bad.conf');
    writeFileSync(bad, '[containers]\nnetns = "nowhere:x"\n', { mode: 0o644 });
    const r = await links([], { CONTAINERS_CONF: bad });
    expect(r.stderr).toBe(`Error: invalid containers.conf ${bad}: [containers] netns: invalid network mode "nowhere:x": use none, host, pasta[:OPTIONS], slirp4netns[:OPTIONS], container:NAME, ns:PATH or a network's name\n`);
    expect(r.code).toBe(125);
    expect((await store.skiff(['ps', '-aq'])).stdout).toBe('');
  });

  test.skipIf(!hostAddress)("outbound: the container reaches a listener on the host's own address; not the host's 127.0.0.1 unless pasta:--map-gw", async () => {
    const store = newStore(mode);
    let got = '';
    const { server, port } = await listen(hostAddress!, (d) => (got += d));
    const loop = await listen('127.0.0.1', (d) => (got += d));
    try {
      const r = await store.skiff(['run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', `echo out-$$ | nc -w 3 ${hostAddress} ${port} && echo sent`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('sent\n');
      await until('the host to receive', () => got.includes('out-'));
      // The host's loopback is not reachable: a listener on the host's 127.0.0.1 is not at the host's address.
      const closed = await store.skiff(['run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', `nc -w 2 ${hostAddress} ${loop.port} </dev/null && echo reached || echo refused`]);
      expect(closed.stdout).toBe('refused\n');
      // Podman's option opens the host's loopback at the gateway.
      const open = await store.skiff(['run', '--rm', '--network', 'pasta:--map-gw', '--rootfs', mode.rootfs, 'sh', '-c', `echo lo-$$ | nc -w 3 10.0.2.2 ${loop.port} && echo sent`]);
      expect(open.stdout).toBe('sent\n');
      await until('the loopback listener to receive', () => got.includes('lo-'));
    } finally {
      server.close();
      loop.server.close();
    }
  });

  test('-p: busybox httpd answers on the host; port, ps PORTS and inspect in Docker\'s forms; rm -f frees the port at once', async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await webServer(store, 'web', ['-p', `${port}:80`]);
    expect(web.stderr).toBe('');
    expect(web.code).toBe(0);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-web\n');
    if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe('ok-web\n');
    expect((await store.skiff(['port', 'web'])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
    expect((await store.skiff(['port', 'web', '80'])).stdout).toBe(`0.0.0.0:${port}\n`);
    const missing = await store.skiff(['port', 'web', '81']);
    expect([missing.code, missing.stderr]).toEqual([1, "Error: no public port '81/tcp' published for web\n"]);
    expect((await store.skiff(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout).toBe(`web 0.0.0.0:${port}->80/tcp\n`);
    expect(await inspect(store, 'web', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}')).toBe(
      `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"${port}"}]} {"80/tcp":[{"HostIp":"","HostPort":"${port}"}]}`,
    );
    expect(networkPrograms(web.id).length).toBe(1);
    expect((await store.skiff(['rm', '-f', 'web'])).code).toBe(0);
    expect(networkPrograms(web.id)).toEqual([]);
    const again = await webServer(store, 'again', ['-p', `${port}:80`]);
    expect(again.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-again\n');
    await store.skiff(['rm', '-f', 'again']);
  });

  test("-p: the container sees a client on the host's loopback as 127.0.0.1 (pasta splices it) and one on the host's own address as that address (pasta's tap, no proxy)", async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await peerServer(store, 'peer', ['-p', `${port}:80`]);
    expect(web.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', port)).toBe('[::ffff:127.0.0.1]\n');
    if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe(`[::ffff:${hostAddress}]\n`);
    await store.skiff(['rm', '-f', 'peer']);
  });

  test('a missing host port is picked free; ranges; 127.0.0.1 only', async () => {
    const store = newStore(mode);
    const web = await webServer(store, 'any', ['-p', '80', '-p', '127.0.0.1::8080']);
    expect(web.stderr).toBe('');
    const lines = (await store.skiff(['port', 'any'])).stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^80\/tcp -> 0\.0\.0\.0:\d+$/);
    expect(lines[1]).toMatch(/^8080\/tcp -> 127\.0\.0\.1:\d+$/);
    const port = Number(lines[0]!.split(':').pop());
    expect(port).toBeGreaterThan(0);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-any\n');
    // port -a (Podman's): every running container's lines, each after its short id.
    const id = (await store.skiff(['inspect', '--format', '{{.Id}}', 'any'])).stdout.trim().slice(0, 12);
    expect(await store.skiff(['port', '-a'])).toMatchObject({ code: 0, stdout: lines.map((l) => `${id}\t${l}\n`).join(''), stderr: '' });
    await store.skiff(['rm', '-f', 'any']);
    const base = await freePort();
    const range = await webServer(store, 'range', ['-p', `${base}-${base + 1}:80-81`]);
    if (range.code === 0) {
      expect((await store.skiff(['ps', '--format', '{{.Ports}}'])).stdout).toBe(`0.0.0.0:${base}-${base + 1}->80-81/tcp\n`);
      expect(await httpAnswer('127.0.0.1', base)).toBe('ok-range\n');
      await store.skiff(['rm', '-f', 'range']);
    } else expect(range.stderr).toMatch(/already in use/); // base+1 was taken meanwhile
  });

  test("--network pasta:-t,PORT with -p: pasta forwards both its own option's port and the published ones (as Podman passes both)", async () => {
    const store = newStore(mode);
    const [own, published, local] = [await freePort(), await freePort(), await freePort()];
    const web = await webServer(store, 'both', ['--network', `pasta:-t,${own}:80`, '-p', `${published}:80`, '-p', `127.0.0.1:${local}:80`]);
    expect([web.code, web.stderr]).toEqual([0, '']);
    // The published ports were dropped from pasta's command line: ps showed them, nothing answered.
    for (const port of [own, published, local]) expect(await httpAnswer('127.0.0.1', port)).toBe('ok-both\n');
    await store.skiff(['rm', '-f', 'both']);
  });

  test("a range of more TCP ports than skiff-forward takes (512) is published by pasta: it runs, and a port of it answers", async () => {
    const store = newStore(mode);
    // Below the ephemeral ports, which clients' sockets hold for a while.
    const base = 20000 + Math.floor(Math.random() * 9000);
    const last = base + 512;
    const web = await webServer(store, 'wide', ['-p', `${base}-${last}:${base}-${last}`, '-p', `${last + 1}:80`]);
    if (web.code === 0) {
      expect(web.stderr).toBe('');
      expect(await httpAnswer('127.0.0.1', last + 1)).toBe('ok-wide\n');
      expect((await store.skiff(['ps', '--format', '{{.Ports}}'])).stdout).toBe(`0.0.0.0:${last + 1}->80/tcp, 0.0.0.0:${base}-${last}->${base}-${last}/tcp\n`);
      await store.skiff(['rm', '-f', 'wide']);
    } else expect(web.stderr).toMatch(/already in use/); // one of them was taken: nothing to learn here
  });

  test('run -d returns with its published port bound: a connection made at once is accepted (pasta, before the container listens)', async () => {
    const store = newStore(mode);
    const port = await freePort();
    const r = await store.skiff(['run', '-d', '-p', `${port}:80`, '--rootfs', mode.rootfs, 'sleep', '60']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    // Nothing listens in the container: pasta accepts on the host and then closes; a port not bound yet would refuse.
    const accepted = await new Promise<string>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => (c.destroy(), resolve('accepted')));
      c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    // skiff's forwarder (a wildcard port is its too) accepts and resets the client at once, often before the client has seen its connect: bound all the same.
    expect(['accepted', 'ECONNRESET']).toContain(accepted);
    await store.skiff(['rm', '-f', r.stdout.trim()]);
  });

  test('no network program is left after any exit path: run --rm, kill -9 of the container, of the monitor, of the foreground skiff', async () => {
    const store = newStore(mode);
    const fg = await store.skiff(['run', '--name', 'fg', '--rootfs', mode.rootfs, 'true']);
    expect(fg.code).toBe(0);
    const fgId = await inspect(store, 'fg', '{{.Id}}');
    expect(networkPrograms(fgId)).toEqual([]);

    for (const victim of ['container', 'monitor'] as const) {
      const r = await store.skiff(['run', '-d', '--name', victim, '--rootfs', mode.rootfs, 'sleep', '60']);
      const id = r.stdout.trim();
      expect(networkPrograms(id).length).toBe(1);
      const pidFile = JSON.parse(readFileSync(path.join(store.root, 'containers', id, 'pid.json'), 'utf8')) as { Pid: number; MonitorPid: number };
      const pid = victim === 'container' ? pidFile.Pid : pidFile.MonitorPid;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      await until(`the network program of the ${victim} killed to end`, () => networkPrograms(id).length === 0);
    }

    const child = store.spawn(['run', '--name', 'killed', '--rootfs', mode.rootfs, 'sleep', '60']);
    let id = '';
    await until('the foreground container to run', async () => {
      id = await inspect(store, 'killed', '{{if .State.Running}}{{.Id}}{{end}}');
      return id !== '';
    });
    // Running is recorded before pasta is ready, and pasta's start clones short-lived helpers of its own.
    await until('one network program for the foreground container', () => networkPrograms(id).length === 1);
    child.kill('SIGKILL');
    await until('the network program of the killed foreground skiff to end', () => networkPrograms(id).length === 0);
  });

  test('run --rm on the default network: skiff returns with the container\'s status, the container removed, its network program gone and its published port free', async () => {
    const store = newStore(mode);
    const port = await freePort();
    // The helper reports the status before it reaps pasta (skiff records the end meanwhile), and exits once pasta is gone.
    const r = await store.skiff(['run', '--rm', '-p', `${port}:80`, '--rootfs', mode.rootfs, 'sh', '-c', 'hostname; exit 3']);
    expect([r.code, r.stderr]).toEqual([3, '']);
    // The hostname is the id's first 12 digits.
    const shortId = r.stdout.trim();
    expect(shortId).toMatch(/^[0-9a-f]{12}$/);
    expect(networkPrograms(shortId)).toEqual([]);
    // pasta's listening socket closes only as it exits: the port binds at once.
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    server.close();
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('port errors: one line, exit 125, nothing left: in use, malformed, with --network none or host; privileged rootless', async () => {
    const store = newStore(mode);
    const { server, port } = await listen('0.0.0.0');
    try {
      const used = await store.skiff(['run', '--rm', '-p', `${port}:80`, '--rootfs', mode.rootfs, 'true']);
      expect([used.code, used.stderr]).toEqual([125, `Error: cannot publish port ${port}/tcp: it is already in use on the host (free it, or publish another host port)\n`]);
    } finally {
      server.close();
    }
    const cases: [string[], string][] = [
      [['-p', '80:80:80:80'], 'Error: invalid -p 80:80:80:80: use [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]\n'],
      [['-p', '70000:80'], 'Error: invalid port "70000" in -p 70000:80: ports are 1 to 65535\n'],
      [['-p', '8080:80/sctp'], 'Error: cannot publish 8080:80/sctp: sctp is not supported (pasta and slirp4netns forward tcp and udp)\n'],
      [['--network', 'none', '-p', '8080:80'], "Error: -p/--publish need a network of the container's own: --network none has no network to publish from\n"],
      [['--network', 'host', '-p', '8080:80'], "Error: -p/--publish need a network of the container's own: --network host uses the host's ports directly\n"],
      [['--network', 'bogus!'], 'Error: invalid network mode "bogus!": use none, host, pasta[:OPTIONS], slirp4netns[:OPTIONS], container:NAME, ns:PATH or a network\'s name\n'],
    ];
    for (const [flags, message] of cases) {
      const r = await store.skiff(['run', '--rm', ...flags, '--rootfs', mode.rootfs, 'true']);
      expect([r.code, r.stderr]).toEqual([125, message]);
    }
    // A bad pasta option: glibc's line naming it, not the last line of the usage text pasta prints after it.
    const bad = await store.skiff(['run', '--rm', '--network', 'pasta:--bogus', '--rootfs', mode.rootfs, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^Error: pasta could not set up the container's network: \S*pasta: unrecognized option '--bogus'\n$/);
    if (mode.user) {
      const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
      if (start > 80) {
        const low = await store.skiff(['run', '--rm', '-p', '80:80', '--rootfs', mode.rootfs, 'true']);
        expect([low.code, low.stderr]).toEqual([
          125,
          `Error: cannot publish port 80/tcp: rootless, ports below ${start} (net.ipv4.ip_unprivileged_port_start) need root: lower it with 'sudo sysctl net.ipv4.ip_unprivileged_port_start=80', or publish a port of ${start} or more\n`,
        ]);
      }
    }
    expect((await store.skiff(['ps', '-aq'])).stdout).toBe('');
  });

  test("start and restart: a published port taken since create is one line naming it, exit 125, the container left as it was, nothing running; once free it starts (pasta's UDP, slirp4netns's TCP)", async () => {
    const store = newStore(mode);
    const udpPort = await freePort();
    expect((await store.skiff(['create', '--name', 'late-udp', '-p', `${udpPort}:80/udp`, '--rootfs', mode.rootfs, 'sleep', '60'])).code).toBe(0);
    // Without the check pasta bound [::] alone and the container ran with its IPv4 port missing, exit 0.
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(udpPort, '0.0.0.0', () => resolve()));
    try {
      const r = await store.skiff(['start', 'late-udp']);
      expect([r.code, r.stderr]).toEqual([125, `Error: cannot publish port ${udpPort}/udp: it is already in use on the host (free it, or publish another host port)\n`]);
      expect(await inspect(store, 'late-udp', '{{.State.Status}}')).toBe('created');
      expect(networkPrograms(await inspect(store, 'late-udp', '{{.Id}}'))).toEqual([]);
    } finally {
      udp.close();
    }
    expect((await store.skiff(['start', 'late-udp'])).code).toBe(0);
    await store.skiff(['rm', '-f', 'late-udp']);
    if (hasSlirp) {
      const { server, port } = await listen('0.0.0.0');
      // Taken between create and start: slirp4netns's own refusal said only "slirp_add_hostfwd failed", the container left as exited (137).
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect((await store.skiff(['create', '--name', 'late-tcp', '--network', 'slirp4netns', '-p', `${port}:80`, '--rootfs', mode.rootfs, 'sleep', '60'])).code).toBe(0);
      const again = createServer();
      await new Promise<void>((resolve) => again.listen(port, '0.0.0.0', () => resolve()));
      try {
        const r = await store.skiff(['restart', 'late-tcp']);
        expect([r.code, r.stderr]).toEqual([125, `Error: cannot publish port ${port}/tcp: it is already in use on the host (free it, or publish another host port)\n`]);
        expect(await inspect(store, 'late-tcp', '{{.State.Status}}')).toBe('created');
      } finally {
        again.close();
      }
      await store.skiff(['rm', '-f', 'late-tcp']);
    }
  });

  test.skipIf(!probePath)(`UDP: a datagram through a published port reaches the container and its answer comes back${probePath ? '' : ` (skipped: ${(probe as { reason: string }).reason})`}`, async () => {
    const store = newStore(mode);
    const port = await freePort();
    const other = await freePort();
    const r = await store.skiff(['run', '-d', '--name', 'udp', '-p', `${port}:${port}/udp`, '-p', `${other}:5353/udp`, '-v', `${probePath}:/probe:ro`, '--rootfs', mode.rootfs, 'sh', '-c', `/probe udp-echo ${port} & exec /probe udp-echo 5353`]);
    expect(r.code).toBe(0);
    // Debian 12's pasta drops replies from a container port that differs from the host's to a client on the host's loopback: said once.
    expect(r.stderr).toBe(`skiff: warning: ${other}:5353/udp: pasta here does not answer clients on the host's loopback when the host and container ports differ; clients on other addresses are answered (publish ${other}:${other}/udp for local clients)\n`);
    const roundTrip = async (address: string, to: number) => {
      const sock = createSocket('udp4');
      try {
        let answer = '';
        sock.on('message', (m) => (answer += m.toString()));
        await new Promise<void>((res) => sock.bind(0, address, () => res()));
        await until(`the UDP answer from ${address}:${to}`, () => {
          sock.send(`ping-${to}`, to, address);
          return answer.includes(`pong ping-${to}`);
        });
      } finally {
        sock.close();
      }
    };
    try {
      await roundTrip('127.0.0.1', port);
      if (hostAddress) await roundTrip(hostAddress, other);
    } finally {
      await store.skiff(['rm', '-f', 'udp']);
    }
  });

  test("-p 127.0.0.1:H:C: skiff's forwarder, a child of the monitor, holds the port (pasta does not); 127.0.0.1 in the container; half-close; a stalled receiver costs it no CPU; it ends with the container", async () => {
    const store = newStore(mode);
    const [webPort, sinkPort] = [await freePort(), await freePort()];
    const web = await peerServer(store, 'lo-peer', ['-p', `127.0.0.1:${webPort}:80`]);
    expect(web.stderr).toBe('');
    // The receiver reads nothing for 3 s, then counts what came and answers on the half-closed connection.
    // The container outlives that connection, so its forwarder is still there to be asked for its CPU.
    const sink = await store.skiff(['run', '-d', '--name', 'lo-sink', '-p', `127.0.0.1:${sinkPort}:5000`, '--rootfs', mode.rootfs, 'sh', '-c', "nc -l -p 5000 -e sh -c 'sleep 3; wc -c'; exec sleep 60"]);
    expect([sink.code, sink.stderr]).toEqual([0, '']);
    const { MonitorPid } = JSON.parse(readFileSync(path.join(store.root, 'containers', web.id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const holder = listenerOf(webPort);
    expect(holder).not.toBeNull();
    expect(commOf(holder!)).toBe('skiff-forward');
    expect(parentOf(holder!)).toBe(MonitorPid);
    // pasta serves the container still (outbound), but not this port.
    expect(networkPrograms(web.id)).not.toContain(holder);
    expect(networkPrograms(web.id).length).toBe(1);
    expect(await httpAnswer('127.0.0.1', webPort)).toBe('[::ffff:127.0.0.1]\n');

    const forwarder = listenerOf(sinkPort)!;
    const cpu0 = cpuTicks(forwarder);
    const size = 32 << 20;
    expect((await sendAndHalfClose('127.0.0.1', sinkPort, size)).trim()).toBe(String(size));
    // Debian 12's pasta polls all along such a stall (~1 s of CPU per second here); the forwarder waits for the container's side.
    expect(cpuTicks(forwarder) - cpu0).toBeLessThan(50);

    await store.skiff(['rm', '-f', 'lo-peer', 'lo-sink']);
    await until('the forwarders to end with their containers', () => [holder!, forwarder].every((pid) => commOf(pid) === null));
    // The port is free again at once.
    const again = await webServer(store, 'lo-again', ['-p', `127.0.0.1:${webPort}:80`]);
    expect(again.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', webPort)).toBe('ok-lo-again\n');
    const { MonitorPid: monitor } = JSON.parse(readFileSync(path.join(store.root, 'containers', again.id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const last = listenerOf(webPort)!;
    process.kill(monitor, 'SIGKILL');
    await until('the forwarder of a killed monitor to end', () => commOf(last) === null);
    await store.skiff(['rm', '-f', 'lo-again']);
  });

  test("-p H:C: skiff's forwarder holds the wildcard port too; the host's own address reaches the container as itself; a stalled receiver costs it no CPU; ip rule shows skiff's rule; the port is free after rm -f and kill -9", async () => {
    const store = newStore(mode);
    const [webPort, sinkPort] = [await freePort(), await freePort()];
    const web = await peerServer(store, 'any-peer', ['-p', `${webPort}:80`]);
    expect(web.stderr).toBe('');
    const sink = await store.skiff(['run', '-d', '--name', 'any-sink', '-p', `${sinkPort}:5000`, '--rootfs', mode.rootfs, 'sh', '-c', "nc -l -p 5000 -e sh -c 'sleep 3; wc -c'; exec sleep 60"]);
    expect([sink.code, sink.stderr]).toEqual([0, '']);
    const holder = listenerOf(webPort);
    expect(holder).not.toBeNull();
    expect(commOf(holder!)).toBe('skiff-forward');
    expect(networkPrograms(web.id)).not.toContain(holder);
    expect(await httpAnswer('127.0.0.1', webPort)).toBe('[::ffff:127.0.0.1]\n');
    if (hostAddress) expect(await httpGet(hostAddress, webPort, 3000)).toBe(`[::ffff:${hostAddress}]\n`);
    // IPv6 (pasta copies the host's address and route when the host has a default route): the host's own address, as itself.
    if (hostAddress6 && hasIPv6DefaultRoute(readFileSync('/proc/net/ipv6_route', 'utf8'))) expect(await httpGet(hostAddress6, webPort, 3000)).toBe(`[${hostAddress6}]\n`);
    // A link-local client: its address (scoped to a link of the host's) cannot be bound in the container, so it comes from the container's ::1, as the host's loopback does (the forwarder closed it, unanswered).
    if (hostLinkLocal) expect(await httpGet(hostLinkLocal, webPort, 3000)).toBe('[::1]\n');
    // The replies to a client connected from its own address stay in the container's namespace: skiff's rule, and its table's local route.
    const rules = await store.skiff(['exec', 'any-peer', 'ip', 'rule']);
    expect(rules.stdout).toMatch(/^1700:\s+from all fwmark 0x5f1f lookup 1700\s*$/m);
    const { Pid: webPid } = JSON.parse(readFileSync(path.join(store.root, 'containers', web.id, 'pid.json'), 'utf8')) as { Pid: number };
    // busybox's ip takes no table above 255: the host's, from the container's namespace (root can enter it).
    if (process.getuid?.() === 0) {
      const table = execFileSync('nsenter', ['-t', String(webPid), '-n', 'ip', 'route', 'show', 'table', '1700'], { encoding: 'utf8' });
      expect(table).toMatch(/^local default dev lo\b/m);
    }

    // The stalled receiver, through the transparent path when the host has an address of its own.
    const forwarder = listenerOf(sinkPort)!;
    expect(commOf(forwarder)).toBe('skiff-forward');
    const cpu0 = cpuTicks(forwarder);
    const size = 32 << 20;
    expect((await sendAndHalfClose(hostAddress ?? '127.0.0.1', sinkPort, size)).trim()).toBe(String(size));
    expect(cpuTicks(forwarder) - cpu0).toBeLessThan(50);

    await store.skiff(['rm', '-f', 'any-peer', 'any-sink']);
    await until('the forwarders to end with their containers', () => [holder!, forwarder].every((pid) => commOf(pid) === null));
    const again = await webServer(store, 'any-again', ['-p', `${webPort}:80`]);
    expect(again.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', webPort)).toBe('ok-any-again\n');
    if (hostAddress) expect(await httpGet(hostAddress, webPort, 3000)).toBe('ok-any-again\n');
    const last = listenerOf(webPort)!;
    const { Pid } = JSON.parse(readFileSync(path.join(store.root, 'containers', again.id, 'pid.json'), 'utf8')) as { Pid: number };
    process.kill(Pid, 'SIGKILL');
    await until('the forwarder of a killed container to end', () => commOf(last) === null);
    const third = await webServer(store, 'any-third', ['-p', `${webPort}:80`]);
    expect(third.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', webPort)).toBe('ok-any-third\n');
    await store.skiff(['rm', '-f', 'any-again', 'any-third']);
    await until('no forwarder left', () => listenerOf(webPort) === null);
  });

  test("kill -9 of skiff-forward: the monitor starts it again and the container's log says so; port, ps and inspect stay true; a death within a second of its start is logged, not restarted, and port, ps and inspect drop the port until a start; stop and rm -f leave nothing, the port free at once", async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await webServer(store, 'fwd-kill', ['-p', `${port}:80`]);
    expect([web.code, web.stderr]).toEqual([0, '']);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fwd-kill\n');
    const { MonitorPid } = JSON.parse(readFileSync(path.join(store.root, 'containers', web.id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const first = listenerOf(port)!;
    expect(commOf(first)).toBe('skiff-forward');
    expect(parentOf(first)).toBe(MonitorPid);
    // One that dies within a second of its start is not started again (below): this one has run longer.
    await sleep(1100);
    process.kill(first, 'SIGKILL');
    let second = 0;
    await until('a new forwarder on the port', () => {
      second = listenerOf(port) ?? 0;
      return second !== 0 && second !== first;
    });
    expect(commOf(second)).toBe('skiff-forward');
    expect(parentOf(second)).toBe(MonitorPid);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fwd-kill\n');
    if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe('ok-fwd-kill\n');
    const logs = await store.skiff(['logs', 'fwd-kill']);
    expect(logs.stdout + logs.stderr).toContain(`skiff: the published ports' forwarder (skiff-forward) was killed by signal 9; started it again (pid ${second}): connections open through it were lost\n`);
    expect((await store.skiff(['port', 'fwd-kill'])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
    expect((await store.skiff(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout).toBe(`fwd-kill 0.0.0.0:${port}->80/tcp\n`);
    expect(await inspect(store, 'fwd-kill', '{{.State.Status}} {{json .NetworkSettings.Ports}}')).toBe(`running {"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"${port}"}]}`);

    // Killed again at once: a line says the ports no longer answer; the container runs on.
    process.kill(second, 'SIGKILL');
    await until('the line of a forwarder not started again', async () => {
      const r = await store.skiff(['logs', 'fwd-kill']);
      return (r.stdout + r.stderr).includes("skiff: the published ports' forwarder (skiff-forward) was killed by signal 9 within a second of its start: not started again; the container's published TCP ports no longer answer (restart the container)\n");
    });
    expect(listenerOf(port)).toBeNull();
    expect(await inspect(store, 'fwd-kill', '{{.State.Status}}')).toBe('running');
    // Nor do port, ps and inspect list it now (the configuration keeps it).
    expect((await store.skiff(['port', 'fwd-kill'])).stdout).toBe('');
    expect((await store.skiff(['port', '--all'])).stdout).toBe('');
    expect((await store.skiff(['ps', '--format', '{{.Names}} [{{.Ports}}]'])).stdout).toBe('fwd-kill [80/tcp]\n');
    expect(await inspect(store, 'fwd-kill', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}')).toBe(`{"80/tcp":null} {"80/tcp":[{"HostIp":"","HostPort":"${port}"}]}`);
    // A restart of the container publishes it again.
    expect((await store.skiff(['stop', '-t', '1', 'fwd-kill'])).code).toBe(0);
    expect(networkPrograms(web.id)).toEqual([]);
    expect((await store.skiff(['start', 'fwd-kill'])).stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fwd-kill\n');
    expect((await store.skiff(['port', 'fwd-kill'])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
    const third = listenerOf(port)!;
    expect(commOf(third)).toBe('skiff-forward');

    // stop, then rm -f after another restart by the monitor: nothing left, the port free at once.
    await sleep(1100);
    process.kill(third, 'SIGKILL');
    let fourth = 0;
    await until('a new forwarder on the port', () => {
      fourth = listenerOf(port) ?? 0;
      return fourth !== 0 && fourth !== third;
    });
    expect((await store.skiff(['rm', '-f', 'fwd-kill'])).code).toBe(0);
    expect(commOf(fourth)).toBeNull();
    expect(listenerOf(port)).toBeNull();
    expect(networkPrograms(web.id)).toEqual([]);
    const again = await webServer(store, 'fwd-again', ['-p', `${port}:80`]);
    expect(again.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fwd-again\n');
    await store.skiff(['rm', '-f', 'fwd-again']);
    await until('no forwarder left', () => listenerOf(port) === null);
  });

  test("kill -9 of a foreground run's skiff-forward: its helper starts it again and says so on stderr; the run ends with nothing left and the port free", async () => {
    const store = newStore(mode);
    const port = await freePort();
    const run = store.spawn(['run', '--rm', '--name', 'fwd-fg', '-p', `127.0.0.1:${port}:80`, '--rootfs', mode.rootfs, 'sh', '-c', 'echo ok-fg > /tmp/index.html && httpd -p 80 -h /tmp && sleep 4']);
    const ended = collect(run, null);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fg\n');
    const first = listenerOf(port)!;
    expect(commOf(first)).toBe('skiff-forward');
    const helper = parentOf(first);
    expect(commOf(helper)).toBe('skiff-helper');
    await sleep(1100);
    process.kill(first, 'SIGKILL');
    let second = 0;
    await until('a new forwarder on the port', () => {
      second = listenerOf(port) ?? 0;
      return second !== 0 && second !== first;
    });
    expect(parentOf(second)).toBe(helper);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fg\n');
    const r = await ended;
    expect([r.code, r.stderr]).toEqual([0, `skiff: the published ports' forwarder (skiff-forward) was killed by signal 9; started it again (pid ${second}): connections open through it were lost\n`]);
    expect(commOf(second)).toBeNull();
    expect(listenerOf(port)).toBeNull();
  });

  test('kill -9 of the network program: the container runs on and its log (a foreground run: stderr) says it has lost its network; rm -f leaves nothing', async () => {
    const store = newStore(mode);
    const r = await store.skiff(['run', '-d', '--name', 'net-lost', '--rootfs', mode.rootfs, 'sleep', '60']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const id = r.stdout.trim();
    await until('its network program', () => networkPrograms(id).length === 1);
    const program = networkPrograms(id)[0]!;
    process.kill(program, 'SIGKILL');
    const line = `skiff: the container's network program (pasta or slirp4netns, pid ${program}) was killed by signal 9: the container has no network beyond its own until it is restarted\n`;
    await until('the line in its log', async () => {
      const logs = await store.skiff(['logs', 'net-lost']);
      return (logs.stdout + logs.stderr).includes(line);
    });
    expect(await inspect(store, 'net-lost', '{{.State.Status}}')).toBe('running');
    expect((await store.skiff(['rm', '-f', 'net-lost'])).code).toBe(0);
    expect(networkPrograms(id)).toEqual([]);

    const run = store.spawn(['run', '--rm', '--name', 'net-lost-fg', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 3']);
    const ended = collect(run, null);
    let fgId = '';
    await until('the foreground container to run', async () => {
      fgId = await inspect(store, 'net-lost-fg', '{{if .State.Running}}{{.Id}}{{end}}');
      return fgId !== '' && networkPrograms(fgId).length === 1;
    });
    const fgProgram = networkPrograms(fgId)[0]!;
    process.kill(fgProgram, 'SIGKILL');
    const done = await ended;
    expect([done.code, done.stderr]).toEqual([0, `skiff: the container's network program (pasta or slirp4netns, pid ${fgProgram}) was killed by signal 9: the container has no network beyond its own until it is restarted\n`]);
    expect(networkPrograms(fgId)).toEqual([]);
  });

  test("--sysctl net.ipv4.tcp_fwmark_accept=0: the wildcard port stays pasta's, and the host's own address still reaches the container", async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await webServer(store, 'fwmark', ['--sysctl', 'net.ipv4.tcp_fwmark_accept=0', '-p', `${port}:80`]);
    expect([web.code, web.stderr]).toEqual([0, '']);
    expect(await httpAnswer('127.0.0.1', port)).toBe('ok-fwmark\n');
    // skiff-forward's transparent path needs the sysctl at 1: with the container's 0 its replies left by eth0 and the client waited.
    if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe('ok-fwmark\n');
    expect(commOf(listenerOf(port)!)).not.toBe('skiff-forward');
    await store.skiff(['rm', '-f', 'fwmark']);
  });

  test('container:NAME shares the network of a running container (its address, its published port)', async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await webServer(store, 'base', ['-p', `${port}:80`]);
    expect(web.code).toBe(0);
    const r = await store.skiff(['run', '--rm', '--network', 'container:base', '--rootfs', mode.rootfs, 'sh', '-c', 'ip -o -4 addr show eth0; wget -q -O - http://127.0.0.1:80/']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/inet 10\.0\.2\.100\/24[\s\S]*\nok-base\n$/);
    const joined = await store.skiff(['run', '--rm', '--network', 'container:nope', '--rootfs', mode.rootfs, 'true']);
    expect(joined.code).toBe(125);
    await store.skiff(['rm', '-f', 'base']);
  });
});

describe.skipIf(!hasSlirp).each(modes())(`slirp4netns${hasSlirp ? '' : ' (skipped: slirp4netns is not installed)'} ($name)`, (mode: Mode) => {
  test('--network slirp4netns: tap0 at 10.0.2.100, a published port answers, the program ends with the container', async () => {
    const store = newStore(mode);
    const ip = await store.skiff(['run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'sh', '-c', 'ip -o -4 addr show tap0; cat /sys/class/net/tap0/mtu']);
    expect(ip.stderr).toBe('');
    expect(ip.stdout).toMatch(/tap0\s+inet 10\.0\.2\.100\/24[\s\S]*\n65520\n$/);
    const port = await freePort();
    const web = await webServer(store, 'slirp', ['--network', 'slirp4netns', '-p', `${port}:80`]);
    expect(web.stderr).toBe('');
    // run -d returns before httpd listens; slirp4netns resets a connection to a port nothing listens on yet.
    let answer = '';
    await until('httpd answering through slirp4netns', async () => {
      answer = await httpGet('127.0.0.1', port, 3000);
      return !answer.startsWith('error:');
    });
    expect(answer).toBe('ok-slirp\n');
    expect(await inspect(store, 'slirp', '{{.HostConfig.NetworkMode}}')).toBe('slirp4netns');
    expect(networkPrograms(web.id).length).toBe(1);
    await store.skiff(['rm', '-f', 'slirp']);
    expect(networkPrograms(web.id)).toEqual([]);
  });

  // The container's process makes slirp4netns's tap0 before slirp4netns starts (helpers-c/src/net_watch.h): what it sends
  // first waits in the tap's queue, and one run is one try (no retry loop here).
  test.skipIf(!hostAddress)("--network slirp4netns: the container's first connection, at once, reaches a listener on the host's own address", async () => {
    const store = newStore(mode);
    let got = '';
    const { server, port } = await listen(hostAddress!, (d) => (got += d));
    try {
      const r = await store.skiff(['run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'sh', '-c', `echo first-$$ | nc -w 3 ${hostAddress} ${port} && echo sent`]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'sent\n', '']);
      await until('the host to receive', () => got.includes('first-'));
    } finally {
      server.close();
    }
  });

  test('--network slirp4netns -p: kill -9 of the container, of the monitor, of the foreground skiff leaves no slirp4netns, and the port is free at once', async () => {
    const store = newStore(mode);
    const bindFree = (port: number) =>
      new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    for (const victim of ['container', 'monitor', 'foreground'] as const) {
      const port = await freePort();
      const args = ['--name', `s-${victim}`, '--network', 'slirp4netns', '-p', `${port}:80`, '--rootfs', mode.rootfs, 'sleep', '60'];
      let id = '';
      const child = victim === 'foreground' ? store.spawn(['run', ...args]) : undefined;
      if (child) {
        await until('the foreground container to run', async () => {
          id = await inspect(store, `s-${victim}`, '{{if .State.Running}}{{.Id}}{{end}}');
          return id !== '';
        });
      } else {
        const r = await store.skiff(['run', '-d', ...args]);
        expect([r.code, r.stderr]).toEqual([0, '']);
        id = r.stdout.trim();
      }
      await until(`slirp4netns of the ${victim} container to hold port ${port}`, () => networkPrograms(id).length === 1 && listenerOf(port) === networkPrograms(id)[0]);
      if (child) child.kill('SIGKILL');
      else {
        const pidFile = JSON.parse(readFileSync(path.join(store.root, 'containers', id, 'pid.json'), 'utf8')) as { Pid: number; MonitorPid: number };
        process.kill(victim === 'container' ? pidFile.Pid : pidFile.MonitorPid, 'SIGKILL');
      }
      await until(`slirp4netns of the ${victim} container killed to end`, () => networkPrograms(id).length === 0);
      await bindFree(port);
    }
  });

  test("-p: slirp4netns shows a client on the host's loopback as its gateway 10.0.2.2 and one on the host's own address as that address", async () => {
    const store = newStore(mode);
    const port = await freePort();
    const web = await peerServer(store, 'speer', ['--network', 'slirp4netns', '-p', `${port}:80`]);
    expect(web.stderr).toBe('');
    expect(await httpAnswer('127.0.0.1', port)).toBe('[::ffff:10.0.2.2]\n');
    if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe(`[::ffff:${hostAddress}]\n`);
    await store.skiff(['rm', '-f', 'speer']);
  });
});

// Host faults, each in a private mount namespace of the test's own (the host's
// /dev/net/tun and programs are never touched): a tun device the user cannot
// open, pasta missing, both programs missing. Needs root to make the namespace.
const asRoot = process.getuid?.() === 0;
describe.skipIf(!asRoot || !hasPasta).each(modes())(`host faults${asRoot ? '' : ' (skipped: the private mount namespaces need root)'} ($name)`, (mode: Mode) => {
  /** skiff run in a private mount namespace where `binds` (host path -> what is bound over it) are in place. */
  async function runWith(store: TestStore, binds: [string, string][], args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const mounts = binds.map(([target, source]) => `mount --bind '${source}' '${target}'`).join(' && ');
    const user = mode.user ? `setpriv --reuid=${mode.user.uid} --regid=${mode.user.gid} --init-groups -- ` : '';
    const cmd = `${mounts} && exec ${user}${skiffBin()} ${args.map((a) => `'${a}'`).join(' ')}`;
    const { spawn } = await import('node:child_process');
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', cmd], {
      env: { SKIFF_ROOT: store.root, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: mode.user?.home ?? '/root', LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: '/',
    });
    return collect(child);
  }
  const dir = () => {
    const d = mkdtempSync(path.join(integrationEnv().workDir, 'netfault-'));
    chmodSync(d, 0o755);
    const empty = path.join(d, 'not-a-program');
    writeFileSync(empty, '', { mode: 0o644 });
    return { d, empty };
  };

  // Root opens the device whatever its mode: a rootless fault only.
  if (mode.user) test('/dev/net/tun the user cannot open: one line with the fix; --network none and host still run', async () => {
    const store = newStore(mode);
    const { d } = dir();
    const tun = path.join(d, 'tun');
    execFileSync('mknod', ['-m', '600', tun, 'c', '10', '200']);
    const r = await runWith(store, [['/dev/net/tun', tun]], ['run', '--rm', '--rootfs', mode.rootfs, 'true']);
    expect([r.code, r.stderr]).toEqual([125, `Error: private networking needs /dev/net/tun, which ${mode.user!.name} cannot open: make it usable (sudo chmod 666 /dev/net/tun; see 'skiff doctor'), or run with --network none or host\n`]);
    for (const net of ['none', 'host']) {
      const ok = await runWith(store, [['/dev/net/tun', tun]], ['run', '--rm', '--network', net, '--rootfs', mode.rootfs, 'echo', net]);
      expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, `${net}\n`, '']);
    }
  });

  test.skipIf(!hasSlirp)('pasta missing: slirp4netns, with a one-line warning naming both', async () => {
    const store = newStore(mode);
    const { empty } = dir();
    const r = await runWith(store, [['/usr/bin/pasta', empty]], ['run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', 'ip -o -4 addr show tap0']);
    expect(r.stderr).toBe("skiff: warning: pasta is not installed (package passt): the container's network goes through slirp4netns\n");
    expect(r.stdout).toMatch(/tap0\s+inet 10\.0\.2\.100\/24/);
    expect(r.code).toBe(0);
  });

  // The container's process makes pasta's interface beforehand and runs once pasta has configured it
  // (helpers-c/src/net_watch.h): pasta failing before or after that still ends in slirp4netns alone,
  // on a tap0 the helper made persistent (tun_flags IFF_TAP | IFF_NO_PI | IFF_PERSIST), so that
  // slirp4netns's exit does not unregister it (RCU grace periods the container's end would wait out).
  test.skipIf(!hasSlirp)('pasta failing at start or after it configured the interface: slirp4netns on a persistent tap0, one warning, no interface of pasta\'s left', async () => {
    const store = newStore(mode);
    const { d } = dir();
    // A copy of the real program under the name pasta (bound over /usr/bin/pasta, the original is hidden).
    cpSync(realpathSync('/usr/bin/pasta'), path.join(d, 'passt-real'));
    symlinkSync(path.join(d, 'passt-real'), path.join(d, 'pasta'));
    const early = path.join(d, 'early');
    writeFileSync(early, '#!/bin/sh\necho "pasta: failed at start (test)" >&2\nexit 1\n', { mode: 0o755 });
    // The real pasta configures the interface, with its pid going nowhere; then the program dies before it said it was ready.
    const late = path.join(d, 'late');
    writeFileSync(late, `#!/bin/sh
for a in "$@"; do shift; if [ "$prev" = --pid ]; then set -- "$@" /dev/null; else set -- "$@" "$a"; fi; prev=$a; done
${path.join(d, 'pasta')} "$@" &
sleep 0.5
kill -9 $!
echo "pasta: failed after configuring (test)" >&2
exit 1
`, { mode: 0o755 });
    // Bounded: slirp4netns's tap0 appears, then the container's links.
    const script = 'for i in $(seq 100); do ip -o -4 addr show tap0 2>/dev/null | grep -q 10.0.2.100 && break; sleep 0.1; done; ip -o link | cut -d: -f2 | tr -d " \\n"; echo; ip -o -4 addr show tap0 | grep -c 10.0.2.100/24; cat /sys/class/net/tap0/tun_flags';
    for (const [program, why] of [[early, 'pasta: failed at start (test)'], [late, 'pasta: failed after configuring (test)']] as const) {
      const r = await runWith(store, [['/usr/bin/pasta', program]], ['run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', script]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'lotap0\n1\n0x1802\n', `skiff: warning: pasta could not set up the container's network (${why}): using slirp4netns\n`]);
    }
  });

  // Podman's inspect and ps name the program serving the default network (pasta or slirp4netns): after a fallback, slirp4netns.
  test.skipIf(!hasSlirp)('after the fallback (pasta missing, pasta failing) inspect and ps say slirp4netns, the program serving the container', async () => {
    const store = newStore(mode);
    const { d, empty } = dir();
    const failing = path.join(d, 'failing');
    writeFileSync(failing, '#!/bin/sh\necho "pasta: failed at start (test)" >&2\nexit 1\n', { mode: 0o755 });
    for (const [name, program, warning] of [
      ['fb-missing', empty, "pasta is not installed (package passt): the container's network goes through slirp4netns"],
      ['fb-failing', failing, "pasta could not set up the container's network (pasta: failed at start (test)): using slirp4netns"],
    ] as const) {
      const r = await runWith(store, [['/usr/bin/pasta', program]], ['run', '-d', '--name', name, '--rootfs', mode.rootfs, 'sleep', '60']);
      expect([r.code, r.stderr]).toEqual([0, `skiff: warning: ${warning}\n`]);
      expect(await inspect(store, name, '{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks}}')).toMatch(/^slirp4netns \{"slirp4netns":\{/);
      expect((await store.skiff(['ps', '--filter', `name=${name}`, '--format', '{{.Networks}}'])).stdout).toBe('slirp4netns\n');
      await store.skiff(['rm', '-f', name]);
    }
  });

  test('pasta and slirp4netns both missing: one line with the fix; --network none still runs', async () => {
    const store = newStore(mode);
    const { empty } = dir();
    const binds: [string, string][] = [['/usr/bin/pasta', empty], ...(hasSlirp ? [['/usr/bin/slirp4netns', empty] as [string, string]] : [])];
    const r = await runWith(store, binds, ['run', '--rm', '--rootfs', mode.rootfs, 'true']);
    expect([r.code, r.stderr]).toEqual([125, 'Error: private networking needs pasta or slirp4netns, and neither is installed: install passt (sudo apt-get install passt), or run with --network none or host\n']);
    const ok = await runWith(store, binds, ['run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'echo', 'fine']);
    expect([ok.code, ok.stdout]).toEqual([0, 'fine\n']);
  });
});
