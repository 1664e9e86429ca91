// Issue 10, user-defined networks: network create/ls/inspect/rm/prune/exists,
// containers that reach each other by name and alias on one network and not
// across networks, connect/disconnect, the holder's life, as root and as the
// unprivileged test user. Only addresses inside namespaces skiff made.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { asModeUser, cleanEnv, collect, httpGet, integrationEnv, modes, skiffBin, type Mode, useDefaultNetwork } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';
import { skipTitle } from '../skip.js';

let reg: TestRegistry;

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

async function pulled(mode: Mode): Promise<{ s: TestStore; img: string }> {
  const s = newStore(mode);
  const img = `${reg.host}/busybox`;
  const r = await s.skiff(['pull', '-q', img]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return { s, img };
}

/** A web server answering "hello from NAME" on port 8080. */
function server(name: string): string[] {
  return ['sh', '-c', `mkdir -p /www && echo "hello from ${name}" > /www/index.html && exec httpd -f -p 8080 -h /www`];
}

/**
 * GET / of HOST:8080 from inside a container, the body printed, retried for
 * up to ~5 s (the server may still be starting). nc, not wget: this static
 * busybox's wget crashes in its resolver.
 */
function fetch(host: string, tries = 50): string[] {
  return ['sh', '-c', `for i in $(seq ${tries}); do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} 8080 2>/dev/null) && [ -n "$r" ] && { echo "$r" | tail -n 1; exit 0; }; sleep 0.1; done; exit 1`];
}

/**
 * For a container that looks a peer's name up on a network with a way out:
 * this image has no nsswitch.conf, so glibc asks DNS before /etc/hosts, and
 * the network's forwarder would pass the query to the host's resolver. A
 * resolver on the container's own loopback refuses at once instead.
 */
const NO_DNS = ['--dns', '127.0.0.1'];

const hostAddress = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;

/** GET http://127.0.0.1:PORT/ from the host, retried for up to ~5 s: the body, or the last error's code. */
async function httpGetRetried(port: number): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    last = await httpGet('127.0.0.1', port, 2000);
    if (!last.startsWith('error:')) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** The running holder of this store's networks (lib/network/holder.ts), by its pid file; undefined when none runs. */
function holderPid(s: TestStore): number | undefined {
  const runRoot = s.mode.user ? `/tmp/skiff-${s.mode.user.uid}` : '/run/skiff';
  const file = path.join(runRoot, `networks-${createHash('sha256').update(s.root).digest('hex').slice(0, 12)}`, 'holder.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return cmd.includes('netholder') && state !== 'Z' ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function holderGone(s: TestStore): Promise<boolean> {
  for (let i = 0; i < 100 && holderPid(s) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
  return holderPid(s) === undefined;
}

// This file tests the default network: containers that name none get pasta.
useDefaultNetwork();

// strace kills a network create at a precise point: the link(2) of its written record into place.
const strace = spawnSync('strace', ['-V']).status === 0;

describe.each(modes())('networks: records ($name)', (mode) => {
  test.skipIf(!strace)(skipTitle('network-create-killed-midway: the .tmp- record a killed create left is removed by network prune', strace ? undefined : 'needs strace: apt-get install strace'), async () => {
    const s = newStore(mode);
    const networks = path.join(s.root, 'networks');
    // The first create writes the caches, so the next one's first link is its record's.
    expect(await s.skiff(['network', 'create', 'warm'])).toMatchObject({ code: 0 });
    const [file, ...args] = asModeUser(mode, ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=link,linkat', '-e', 'inject=link,linkat:signal=SIGKILL:when=1', skiffBin(), 'network', 'create', 'half']);
    const killed = await collect(spawn(file!, args, { env: cleanEnv(mode, { SKIFF_ROOT: s.root }), stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' }));
    expect(killed.code).not.toBe(0);
    const left = () => readdirSync(networks).filter((n) => n.startsWith('.tmp-'));
    expect(left()).toEqual([expect.stringMatching(/^\.tmp-\d+-[0-9a-f]{8}$/)]);
    expect((await s.skiff(['network', 'ls', '-q'])).stdout).toBe('warm\n');
    // (A live create holds the networks' lock while its .tmp- exists, which prune waits for.)
    expect(await s.skiff(['network', 'prune', '-f'])).toMatchObject({ code: 0, stdout: 'warm\n' });
    expect(left()).toEqual([]);
    expect(await s.skiff(['network', 'create', 'half'])).toMatchObject({ code: 0, stdout: 'half\n' });
  }, 60_000);

  test('create, ls (table, -q, --filter, --format json and templates), inspect, exists, rm, prune', async () => {
    const s = newStore(mode);
    expect(await s.skiff(['network', 'create', 'front'])).toMatchObject({ code: 0, stdout: 'front\n' });
    expect(await s.skiff(['network', 'create', '--internal', '--label', 'tier=db', 'back'])).toMatchObject({ code: 0, stdout: 'back\n' });
    expect(await s.skiff(['network', 'create', '--subnet', '192.168.77.0/24', '--gateway', '192.168.77.254', 'fixed'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['network', 'create'])).toMatchObject({ code: 0, stdout: 'skiff1\n' });

    const ls = await s.skiff(['network', 'ls']);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(1).join(' '))).toEqual(['back bridge', 'fixed bridge', 'front bridge', 'skiff1 bridge']);
    expect(lines[1]).toMatch(/^[0-9a-f]{12} /);
    expect((await s.skiff(['network', 'ls', '-q', '--filter', 'label=tier=db'])).stdout).toBe('back\n');
    expect((await s.skiff(['network', 'ls', '-q', '--filter', 'name=^f'])).stdout).toBe('fixed\nfront\n');
    expect((await s.skiff(['network', 'ls', '--format', '{{.Name}} {{.Internal}} {{range .Subnets}}{{.Subnet}}{{end}}', '--filter', 'dangling=true'])).stdout).toBe(
      'back true 10.89.1.0/24\nfixed false 192.168.77.0/24\nfront false 10.89.0.0/24\nskiff1 false 10.89.2.0/24\n',
    );
    // One object per line, as ps, images and volume ls print.
    const jsonLines = (await s.skiff(['network', 'ls', '--format', 'json'])).stdout.trimEnd().split('\n');
    expect(jsonLines.map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['back', 'fixed', 'front', 'skiff1']);

    const inspect = await s.skiff(['network', 'inspect', 'back']);
    expect(inspect.code).toBe(0);
    const [back] = JSON.parse(inspect.stdout);
    expect(back).toMatchObject({ name: 'back', driver: 'bridge', internal: true, labels: { tier: 'db' }, subnets: [{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }], containers: {} });
    expect(back.id).toMatch(/^[0-9a-f]{64}$/);
    expect((await s.skiff(['network', 'inspect', '--format', '{{.Name}} {{range .Subnets}}{{.Gateway}}{{end}}', back.id.slice(0, 10)])).stdout).toBe('back 10.89.1.1\n');
    expect(await s.skiff(['network', 'exists', 'front'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['network', 'exists', 'nowhere'])).toMatchObject({ code: 1 });

    const missing = await s.skiff(['network', 'rm', 'front', 'nowhere']);
    expect(missing).toMatchObject({ code: 1, stdout: 'front\n', stderr: 'Error: unable to find network with name or ID nowhere: network not found\n' });
    expect((await s.skiff(['network', 'prune', '--filter', 'label=tier=db', '-f'])).stdout).toBe('back\n');
    expect((await s.skiff(['network', 'prune', '-f'])).stdout).toBe('fixed\nskiff1\n');
    expect((await s.skiff(['network', 'ls', '-q'])).stdout).toBe('');
  }, 240_000);

  test('bad input: one line, exit 125, nothing made', async () => {
    const s = newStore(mode);
    expect((await s.skiff(['network', 'create', 'taken'])).code).toBe(0);
    const cases: [string[], string][] = [
      [['network', 'create', 'taken'], 'Error: network name taken already used: network already exists\n'],
      [['network', 'create', 'none'], 'Error: network name "none" is reserved for the --network mode of that name: choose another\n'],
      [['network', 'create', 'b@d'], 'Error: invalid network name "b@d": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n'],
      [['network', 'create', '--subnet', '10.89.0.0/16', 'wide'], 'Error: subnet 10.89.0.0/16 is already used by network taken\n'],
      [['network', 'create', '--subnet', '10.1.2.3/24', 'x'], 'Error: invalid subnet "10.1.2.3/24": host bits are set, did you mean 10.1.2.0/24?\n'],
      [['network', 'create', '--subnet', 'fd00::/64', 'x'], "Error: invalid subnet \"fd00::/64\": skiff's networks are IPv4 only\n"],
      [['network', 'create', '--gateway', '10.1.1.1', 'x'], 'Error: --gateway needs --subnet\n'],
      [['network', 'create', '--subnet', '10.1.2.0/24', '--gateway', '10.1.3.1', 'x'], 'Error: gateway 10.1.3.1 is not a host address of subnet 10.1.2.0/24\n'],
      [['network', 'create', '-d', 'macvlan', 'x'], 'Error: unsupported network driver "macvlan": skiff makes bridge networks only\n'],
      [['network', 'ls', '--filter', 'colour=red'], "Error: invalid filter 'colour': use name=, id=, driver=, label=, label!=, dangling=, until=\n"],
    ];
    for (const [args, stderr] of cases) expect(await s.skiff(args), args.join(' ')).toMatchObject({ code: 125, stdout: '', stderr });
    expect((await s.skiff(['network', 'create', '--ignore', 'taken'])).stdout).toBe('taken\n');
    expect((await s.skiff(['network', 'ls', '-q'])).stdout).toBe('taken\n');
  }, 240_000);
});

describe.each(modes())('networks: containers ($name)', (mode) => {
  test('two containers on one network reach each other by name and by alias; a third on another network cannot', async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', 'front'])).code).toBe(0);
    // back is --internal: a container there reaching for front's address would otherwise leave through its way out.
    expect((await s.skiff(['network', 'create', '--internal', 'back'])).code).toBe(0);
    const web = await s.skiff(['run', '-d', '--name', 'web', '--network', 'front', '--network-alias', 'www', img, ...server('web')]);
    expect(web, web.stderr).toMatchObject({ code: 0 });
    try {
      const byName = await s.skiff(['run', '--rm', '--network', 'front', ...NO_DNS, img, ...fetch('web')]);
      expect(byName, byName.stderr).toMatchObject({ code: 0, stdout: 'hello from web\n' });
      const byAlias = await s.skiff(['run', '--rm', '--network', 'front', ...NO_DNS, img, ...fetch('www')]);
      expect(byAlias, byAlias.stderr).toMatchObject({ code: 0, stdout: 'hello from web\n' });
      // On two networks at once: one interface on each, in the order given.
      const both = await s.skiff(['run', '--rm', '--network', 'back,front', ...NO_DNS, img, 'sh', '-c', 'ip -4 -o addr | grep -o "eth[0-9] *inet [0-9.]*" | tr -s " "; ' + fetch('web')[2]]);
      expect(both, both.stderr).toMatchObject({ code: 0, stdout: 'eth0 inet 10.89.1.2\neth1 inet 10.89.0.3\nhello from web\n' });
      const [info] = JSON.parse((await s.skiff(['inspect', 'web'])).stdout);
      const ip = info.NetworkSettings.Networks.front.IPAddress;
      expect(ip).toBe('10.89.0.2');
      expect(info.NetworkSettings.Networks.front).toMatchObject({ Aliases: ['www'], IPPrefixLen: 24, Gateway: '10.89.0.1', MacAddress: '02:42:0a:59:00:02' });
      expect(info.HostConfig.NetworkMode).toBe('front');
      // Another network: neither the name nor the address answers.
      const other = await s.skiff(['run', '--rm', '--network', 'back', img, 'sh', '-c', `grep -c web /etc/hosts; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 8080 && echo reached`]);
      expect(other.stdout).toBe('0\n');
      expect(other.code).not.toBe(0);
      // The network lists its container.
      const [front] = JSON.parse((await s.skiff(['network', 'inspect', 'front'])).stdout);
      expect(Object.values(front.containers)).toEqual([{ name: 'web', interfaces: { eth0: { subnets: [{ ipnet: '10.89.0.2/24', gateway: '10.89.0.1' }], mac_address: '02:42:0a:59:00:02' } } }]);
      // In use: rm refused (exit 2), then -f takes the container with it.
      const busy = await s.skiff(['network', 'rm', 'front']);
      expect(busy).toMatchObject({ code: 2, stderr: 'Error: "front" has associated containers with it (web): use -f to remove them with the network: network is being used\n' });
      expect(await s.skiff(['network', 'rm', '-f', '-t', '0', 'front'])).toMatchObject({ code: 0, stdout: 'front\n' });
      expect((await s.skiff(['ps', '-a', '-q'])).stdout).toBe('');
    } finally {
      await s.skiff(['rm', '-f', 'web']);
    }
  }, 240_000);

  test('--ip, connect and disconnect of a stopped and of a running container, names kept current', async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', '--subnet', '10.89.40.0/24', 'a'])).code).toBe(0);
    expect((await s.skiff(['network', 'create', '--internal', 'b'])).code).toBe(0);
    expect((await s.skiff(['run', '-d', '--name', 'srv', '--network', 'a', '--ip', '10.89.40.50', img, ...server('srv')])).code).toBe(0);
    try {
      const taken = await s.skiff(['create', '--network', 'a', '--ip', '10.89.40.50', img]);
      expect(taken).toMatchObject({ code: 125, stderr: 'Error: --ip 10.89.40.50 is already used on network a\n' });
      // A stopped container connected to a, then started: it reaches srv by name.
      expect((await s.skiff(['create', '--name', 'cli', '--network', 'b', img, ...fetch('srv')])).code).toBe(0);
      expect(await s.skiff(['network', 'connect', '--alias', 'client', 'a', 'cli'])).toMatchObject({ code: 0, stdout: '' });
      const started = await s.skiff(['start', '-a', 'cli']);
      expect(started, started.stderr).toMatchObject({ code: 0, stdout: 'hello from srv\n' });
      // A running container connected to b gets eth1 at once; disconnected, it goes.
      expect(await s.skiff(['network', 'connect', 'b', 'srv'])).toMatchObject({ code: 0 });
      const ifs = await s.skiff(['exec', 'srv', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "']);
      // tap0: a's way out (a is not --internal).
      expect(ifs.stdout).toBe('eth0 eth1 lo tap0 ');
      const viaB = await s.skiff(['run', '--rm', '--network', 'b', img, ...fetch('srv')]);
      expect(viaB, viaB.stderr).toMatchObject({ code: 0, stdout: 'hello from srv\n' });
      expect(await s.skiff(['network', 'disconnect', 'b', 'srv'])).toMatchObject({ code: 0 });
      expect((await s.skiff(['exec', 'srv', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'])).stdout).toBe('eth0 lo tap0 ');
      const gone = await s.skiff(['run', '--rm', '--network', 'b', img, 'sh', '-c', 'grep -c srv /etc/hosts']);
      expect(gone.stdout).toBe('0\n');
      expect(await s.skiff(['network', 'disconnect', 'b', 'srv'])).toMatchObject({ code: 125, stderr: 'Error: container srv is not connected to network b\n' });
    } finally {
      await s.skiff(['rm', '-f', 'srv', 'cli']);
    }
  }, 240_000);

  test('--internal: no route out; the holder lives only while a member runs, and SIGKILL of it or of a container breaks no later run', async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', '--internal', 'sealed'])).code).toBe(0);
    // A listener of the test's own on the host's address: nothing on the network reaches it.
    const listener = net.createServer((c) => c.end('outside\n'));
    await new Promise<void>((r) => listener.listen(0, '0.0.0.0', r));
    const hostIp = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
    try {
      const port = (listener.address() as AddressInfo).port;
      const routes = await s.skiff(['run', '--rm', '--network', 'sealed', img, 'sh', '-c', `ip route; nc -w 2 ${hostIp} ${port} </dev/null || echo unreachable`]);
      expect(routes.stdout).toBe('10.89.0.0/24 dev eth0 scope link  src 10.89.0.2 \nunreachable\n');
    } finally {
      listener.close();
    }
    expect(await holderGone(s)).toBe(true);
    // SIGKILL of a container on the network, then of the holder itself.
    expect((await s.skiff(['run', '-d', '--name', 'k1', '--network', 'sealed', img, ...server('k1')])).code).toBe(0);
    expect(holderPid(s)).toBeGreaterThan(0);
    const [k1] = JSON.parse((await s.skiff(['inspect', 'k1'])).stdout);
    process.kill(k1.State.Pid, 'SIGKILL');
    expect(await holderGone(s)).toBe(true);
    expect((await s.skiff(['start', 'k1'])).code).toBe(0);
    process.kill(holderPid(s)!, 'SIGKILL');
    const again = await s.skiff(['run', '--rm', '--network', 'sealed', img, 'sh', '-c', 'ip -4 -o addr show eth0 | grep -o "inet [0-9.]*"']);
    expect(again, again.stderr).toMatchObject({ code: 0, stdout: 'inet 10.89.0.3\n' });
    expect((await s.skiff(['rm', '-f', 'k1'])).code).toBe(0);
    expect(await holderGone(s)).toBe(true);
    expect(existsSync(s.root)).toBe(true);
  }, 240_000);

  test.skipIf(!hostAddress)("a network that is not --internal: a way out (a listener on the host's own address), -p publishes a port; no network program outlives its container", async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', 'open'])).code).toBe(0);
    let got = '';
    const listener = net.createServer((c) => {
      c.setEncoding('utf8').on('data', (d: string) => (got += d));
      c.on('error', () => {});
    });
    await new Promise<void>((r) => listener.listen(0, hostAddress, r));
    try {
      const port = (listener.address() as AddressInfo).port;
      const out = await s.skiff(['run', '--rm', '--network', 'open', img, 'sh', '-c', `echo out-$$ | nc -w 3 ${hostAddress} ${port} && ip route | grep ^default`]);
      expect(out, out.stderr).toMatchObject({ code: 0 });
      expect(out.stdout).toMatch(/^default via 10\.0\.2\.2 dev tap0/);
      for (let i = 0; i < 100 && !got.includes('out-'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(got).toMatch(/^out-\d+\n$/);
    } finally {
      listener.close();
    }
    const pub = await s.skiff(['run', '-d', '--name', 'pub', '--network', 'open', '-p', '127.0.0.1::8080', img, ...server('pub')]);
    expect(pub, pub.stderr).toMatchObject({ code: 0 });
    try {
      const bound = (await s.skiff(['port', 'pub', '8080'])).stdout.trim();
      expect(bound).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await httpGetRetried(Number(bound.split(':')[1]))).toBe('hello from pub\n');
      const [info] = JSON.parse((await s.skiff(['inspect', 'pub'])).stdout);
      expect(info.HostConfig.NetworkMode).toBe('open');
      expect(info.NetworkSettings.IPAddress).toBe('');
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['open']);
      expect(info.NetworkSettings.Ports['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: bound.split(':')[1] }]);
      const pasta = await s.skiff(['exec', 'pub', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "']);
      expect(pasta.stdout).toBe('eth0 lo tap0 ');
      if (!mode.user) {
        // As root (rootless it is refused: one user namespace per network), with a joined PID namespace: its network namespace is made before the join, and its veth lands there.
        const joined = await s.skiff(['run', '--rm', '--network', 'open', '--pid', 'container:pub', img, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "; ps -o comm | grep -c httpd']);
        expect(joined, joined.stderr).toMatchObject({ code: 0, stdout: 'eth0 lo tap0 1\n' });
      }
    } finally {
      expect((await s.skiff(['rm', '-f', 'pub'])).code).toBe(0);
    }
    // A port on every address (skiff-forward's, to pasta's tap0 address 10.0.2.100 for a client not on the host's loopback).
    const any = await s.skiff(['run', '-d', '--name', 'pubany', '--network', 'open', '-p', '8080', img, ...server('pubany')]);
    expect(any, any.stderr).toMatchObject({ code: 0 });
    try {
      const port = Number((await s.skiff(['port', 'pubany', '8080'])).stdout.trim().split(':')[1]);
      expect(await httpGetRetried(port)).toBe('hello from pubany\n');
      if (hostAddress) expect(await httpGet(hostAddress, port, 3000)).toBe('hello from pubany\n');
    } finally {
      expect((await s.skiff(['rm', '-f', 'pubany'])).code).toBe(0);
    }
    expect(await holderGone(s)).toBe(true);
  }, 240_000);

  test("--rootfs: the directory keeps its own /etc files unless --dns, --add-host or a user-defined network ask for skiff's; peers then resolve by name, also once connected later", async () => {
    const s = newStore(mode);
    const dir = mkdtempSync(path.join(path.dirname(mode.rootfs), 'etcfiles-'));
    if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
    const rootfs = path.join(dir, 'rootfs');
    execFileSync('cp', ['-a', mode.rootfs, rootfs]);
    try {
      // Not asked for: the directory's /etc/hostname, and no /etc/hosts or /etc/resolv.conf made in it.
      const own = await s.skiff(['run', '--rm', '--rootfs', rootfs, 'cat', '/etc/hostname']);
      expect(own, own.stderr).toMatchObject({ code: 0, stdout: 'skiff-busybox\n' });
      expect([existsSync(path.join(rootfs, 'etc/hosts')), existsSync(path.join(rootfs, 'etc/resolv.conf'))]).toEqual([false, false]);
      // Asked for: skiff's files, bound onto empty mount points where the directory had none.
      const asked = await s.skiff(['run', '--rm', '--add-host', 'db:10.1.2.3', '--dns', '127.0.0.1', '--rootfs', rootfs, 'sh', '-c', 'grep -w db /etc/hosts; grep nameserver /etc/resolv.conf']);
      expect(asked, asked.stderr).toMatchObject({ code: 0, stdout: '10.1.2.3\tdb\nnameserver 127.0.0.1\n' });
      expect([readFileSync(path.join(rootfs, 'etc/hosts'), 'utf8'), readFileSync(path.join(rootfs, 'etc/resolv.conf'), 'utf8')]).toEqual(['', '']);
      // A user-defined network: the peers' names, as for an image's container.
      expect((await s.skiff(['network', 'create', 'dirs'])).code).toBe(0);
      const web = await s.skiff(['run', '-d', '--name', 'dirweb', '--network', 'dirs', '--rootfs', rootfs, ...server('dirweb')]);
      expect(web, web.stderr).toMatchObject({ code: 0 });
      const byName = await s.skiff(['run', '--rm', '--network', 'dirs', ...NO_DNS, '--rootfs', rootfs, ...fetch('dirweb')]);
      expect(byName, byName.stderr).toMatchObject({ code: 0, stdout: 'hello from dirweb\n' });
      // Made with its own files (--network none), then connected: skiff's /etc/hosts from its next start, with the peers (Podman manages every container's).
      expect((await s.skiff(['create', '--name', 'dircli', '--network', 'none', '--rootfs', rootfs, ...fetch('dirweb', 10)])).code).toBe(0);
      expect(await s.skiff(['network', 'connect', 'dirs', 'dircli'])).toMatchObject({ code: 0, stdout: '' });
      const connected = await s.skiff(['start', '-a', 'dircli']);
      expect(connected, connected.stderr).toMatchObject({ code: 0, stdout: 'hello from dirweb\n' });
      expect(readFileSync(path.join(rootfs, 'etc/hosts'), 'utf8')).toBe('');
    } finally {
      await s.skiff(['rm', '-f', 'dirweb', 'dircli']);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('ps --filter network=, volume=, publish=, expose= (Docker\'s): by name or ID, by name or destination, by container port', async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', 'pf'])).code).toBe(0);
    const id = (await s.skiff(['network', 'inspect', '--format', '{{.Id}}', 'pf'])).stdout.trim();
    const made = [
      ['create', '--name', 'on-pf', '--network', 'pf', '--expose', '9000', img, 'true'],
      ['create', '--name', 'published', '-v', 'pfdata:/data', '-p', '127.0.0.1::80', img, 'true'],
      ['create', '--name', 'isolated', '--network', 'none', '-v', '/tmp:/host-tmp', img, 'true'],
    ];
    for (const args of made) expect(await s.skiff(args), args.join(' ')).toMatchObject({ code: 0 });
    const shown = async (...filters: string[]) => {
      const r = await s.skiff(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])]);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    expect(await shown('network=pf')).toEqual(['on-pf']);
    expect(await shown(`network=${id.slice(0, 12)}`)).toEqual(['on-pf']);
    expect(await shown('network=none')).toEqual(['isolated']);
    expect(await shown('network=none', 'network=pf')).toEqual(['isolated', 'on-pf']);
    expect(await shown('network=nowhere')).toEqual([]);
    expect(await shown('volume=pfdata')).toEqual(['published']);
    expect(await shown('volume=/host-tmp')).toEqual(['isolated']);
    expect(await shown('publish=80')).toEqual(['published']);
    expect(await shown('publish=80/udp')).toEqual([]);
    expect(await shown('publish=9000')).toEqual([]);
    expect(await shown('expose=9000/tcp')).toEqual(['on-pf']);
    expect(await shown('expose=79-81')).toEqual(['published']);
    expect(await shown('expose=9000', 'network=none')).toEqual([]);
    const bad = await s.skiff(['ps', '-a', '--filter', 'publish=http']);
    expect(bad).toMatchObject({ code: 125, stdout: '', stderr: "Error: invalid filter 'publish=http': use PORT[-PORT][/tcp|udp]\n" });
    expect((await s.skiff(['rm', 'on-pf', 'published', 'isolated'])).code).toBe(0);
  }, 120_000);

  test('bad input: one line, exit 125, nothing made', async () => {
    const { s, img } = await pulled(mode);
    expect((await s.skiff(['network', 'create', 'n'])).code).toBe(0);
    expect((await s.skiff(['network', 'create', '--internal', 'sealed'])).code).toBe(0);
    const cases: [string[], string][] = [
      [['run', '--rm', '--network', 'nowhere', img, 'true'], 'Error: unable to find network with name or ID nowhere: network not found\n'],
      [['run', '--rm', '--network-alias', 'x', img, 'true'], 'Error: --network-alias needs a user-defined network (--network NAME)\n'],
      [['run', '--rm', '--network', 'n', '--ip', '10.1.1.1', img, 'true'], "Error: --ip 10.1.1.1 is not a host address of network n's subnet 10.89.0.0/24\n"],
      [['run', '--rm', '--network', 'n', '--ip', '10.89.0.1', img, 'true'], "Error: --ip 10.89.0.1 is network n's gateway\n"],
      [['run', '--rm', '--network', 'n', '--network-alias', 'b@d', img, 'true'], 'Error: invalid --network-alias "b@d": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n'],
      [['network', 'connect', 'nowhere', 'x'], 'Error: unable to find network with name or ID nowhere: network not found\n'],
      [['run', '--rm', '--network', 'n,n', img, 'true'], 'Error: network n is given twice\n'],
      [['run', '--rm', '--network', 'sealed', '-p', '8080:80', img, 'true'], 'Error: -p/--publish: network sealed is --internal, with no way in from the host or out: add a network that is not\n'],
      [['run', '--rm', '--network', 'n', '--mac-address', '92:d0:c6:0a:29:33', img, 'true'], "Error: --mac-address on a user-defined network is not supported: the container's MAC there is 02:42 and its address\n"],
    ];
    for (const [args, stderr] of cases) expect(await s.skiff(args), args.join(' ')).toMatchObject({ code: 125, stdout: '', stderr });
    expect((await s.skiff(['ps', '-a', '-q'])).stdout).toBe('');
  }, 240_000);
});
