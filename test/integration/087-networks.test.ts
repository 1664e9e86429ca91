// Issue 10, user-defined networks: network create/ls/inspect/rm/prune/exists,
// as root and as the unprivileged test user.
import { describe, expect, test } from 'vitest';
import { modes, useDefaultNetwork } from './harness.js';
import { newStore } from './store-harness.js';

// This file tests the default network: containers that name none get pasta.
useDefaultNetwork();

describe.each(modes())('networks: records ($name)', (mode) => {
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
    const json = JSON.parse((await s.skiff(['network', 'ls', '--format', 'json'])).stdout);
    expect(json.map((n: { name: string }) => n.name)).toEqual(['back', 'fixed', 'front', 'skiff1']);

    const inspect = await s.skiff(['network', 'inspect', 'back']);
    expect(inspect.code).toBe(0);
    const [back] = JSON.parse(inspect.stdout);
    expect(back).toMatchObject({ name: 'back', driver: 'bridge', internal: true, labels: { tier: 'db' }, subnets: [{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }], containers: {} });
    expect(back.id).toMatch(/^[0-9a-f]{64}$/);
    expect((await s.skiff(['network', 'inspect', '--format', '{{.Name}} {{range .Subnets}}{{.Gateway}}{{end}}', back.id.slice(0, 10)])).stdout).toBe('back 10.89.1.1\n');
    expect(await s.skiff(['network', 'exists', 'front'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['network', 'exists', 'nowhere'])).toMatchObject({ code: 1 });

    const missing = await s.skiff(['network', 'rm', 'front', 'nowhere']);
    expect(missing).toMatchObject({ code: 1, stdout: 'front\n', stderr: 'skiff: unable to find network with name or ID nowhere: network not found\n' });
    expect((await s.skiff(['network', 'prune', '--filter', 'label=tier=db', '-f'])).stdout).toBe('back\n');
    expect((await s.skiff(['network', 'prune', '-f'])).stdout).toBe('fixed\nskiff1\n');
    expect((await s.skiff(['network', 'ls', '-q'])).stdout).toBe('');
  });

  test('bad input: one line, exit 125, nothing made', async () => {
    const s = newStore(mode);
    expect((await s.skiff(['network', 'create', 'taken'])).code).toBe(0);
    const cases: [string[], string][] = [
      [['network', 'create', 'taken'], 'skiff: network name taken already used: network already exists\n'],
      [['network', 'create', 'none'], 'skiff: network name "none" is reserved for the --network mode of that name: choose another\n'],
      [['network', 'create', 'b@d'], 'skiff: invalid network name "b@d": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n'],
      [['network', 'create', '--subnet', '10.89.0.0/16', 'wide'], 'skiff: subnet 10.89.0.0/16 is already used by network taken\n'],
      [['network', 'create', '--subnet', '10.1.2.3/24', 'x'], 'skiff: invalid subnet "10.1.2.3/24": host bits are set, did you mean 10.1.2.0/24?\n'],
      [['network', 'create', '--subnet', 'fd00::/64', 'x'], "skiff: invalid subnet \"fd00::/64\": skiff's networks are IPv4 only\n"],
      [['network', 'create', '--gateway', '10.1.1.1', 'x'], 'skiff: --gateway needs --subnet\n'],
      [['network', 'create', '--subnet', '10.1.2.0/24', '--gateway', '10.1.3.1', 'x'], 'skiff: gateway 10.1.3.1 is not a host address of subnet 10.1.2.0/24\n'],
      [['network', 'create', '-d', 'macvlan', 'x'], 'skiff: unsupported network driver "macvlan": skiff makes bridge networks only\n'],
      [['network', 'ls', '--filter', 'colour=red'], "skiff: invalid filter 'colour': use name=, id=, driver=, label=, label!=, dangling=, until=\n"],
    ];
    for (const [args, stderr] of cases) expect(await s.skiff(args), args.join(' ')).toMatchObject({ code: 125, stdout: '', stderr });
    expect((await s.skiff(['network', 'create', '--ignore', 'taken'])).stdout).toBe('taken\n');
    expect((await s.skiff(['network', 'ls', '-q'])).stdout).toBe('taken\n');
  });
});
