// The helper's overlay root filesystem (design.md, decision 4): layers as
// lower dirs, whiteouts as 0/0 character devices, opaque dirs by
// user.overlay.opaque=y, writes in the container's own upper dir. Driven
// through the real helper with the protocol's own encoder, as root and rootless.
import { spawn } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { encodeFsOps } from '../../lib/namespaces/fsops.js';
import { encodeSpec } from '../../lib/namespaces/helper.js';
import { parseSubIds } from '../../lib/host/subids.js';
import { asModeUser, integrationEnv, collect, type Mode, describeModes } from './harness.js';

const helper = () => path.join(integrationEnv().installDir, 'helpers-c/skiff-helper');

function runHelper(mode: Mode, args: string[], opts: { spec?: string[]; stdin?: Buffer }) {
  const [file, ...rest] = asModeUser(mode, [helper(), ...args]);
  const child = spawn(file!, rest, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
  if (opts.spec) (child.stdio[3] as Socket).end(encodeSpec(opts.spec));
  else (child.stdio[3] as Socket).end();
  return collect(child, opts.stdin?.toString('latin1'));
}

function idMapEntries(mode: Mode): string[] {
  if (!mode.user) return [];
  const { name, uid, gid } = mode.user;
  const sub = (file: string) => parseSubIds(readFileSync(file, 'utf8'), name, uid)[0]!;
  const u = sub('/etc/subuid');
  const g = sub('/etc/subgid');
  return [
    `uidmap=0 ${uid} 1`,
    `uidmap=1 ${u.start} ${u.count}`,
    `gidmap=0 ${gid} 1`,
    `gidmap=1 ${g.start} ${g.count}`,
    'newuidmap=/usr/bin/newuidmap',
    'newgidmap=/usr/bin/newgidmap',
  ];
}

describeModes('overlay root filesystem ($name)', (mode) => {
  test('layers, whiteouts, opaque dirs and the upper dir', async () => {
    // Directories the mode's user owns, next to its busybox rootfs.
    const base = path.join(path.dirname(mode.rootfs), `overlay-${Date.now()}`);
    const mk = await runHelperShell(mode, `mkdir -p ${base}/top/etc ${base}/top/home/new ${base}/up ${base}/work ${base}/merged && echo new > ${base}/top/home/new/f`);
    expect(mk.code).toBe(0);
    const ops = encodeFsOps([
      { op: 'whiteout', path: 'etc/hostname' },
      { op: 'opaque', path: 'home' },
    ]);
    const applied = await runHelper(mode, ['fsops', `${base}/top`], { stdin: ops });
    expect(applied.stderr).toBe('');
    expect(lstatSync(`${base}/top/etc/hostname`).isCharacterDevice()).toBe(true);

    const script = 'test -e /etc/hostname && echo HOSTNAME-VISIBLE; ls /home; cat /home/new/f; echo hi > /newfile; rm /bin/ls; echo done';
    const r = await runHelper(mode, ['run'], {
      spec: [
        'version=1',
        `rootfs=${base}/merged`,
        `lowerdir=${base}/top`,
        `lowerdir=${mode.rootfs}`,
        `upperdir=${base}/up`,
        `workdir=${base}/work`,
        'arg=sh',
        'arg=-c',
        `arg=${script}`,
        'env=PATH=/bin',
        'hostname=overlay',
        'network=none',
        'caps=a80425fb',
        ...idMapEntries(mode),
      ],
    });
    expect(r.stdout).toBe('new\nnew\ndone\n');
    expect(r.code).toBe(0);
    // The container's writes went to its upper dir; the layers are untouched.
    expect(lstatSync(`${base}/up/newfile`).isFile()).toBe(true);
    expect(lstatSync(`${base}/up/bin/ls`).isCharacterDevice()).toBe(true);
    expect(lstatSync(`${mode.rootfs}/bin/ls`).isSymbolicLink()).toBe(true);
  });

  test('a path with a separator overlay cannot parse is refused clearly', async () => {
    const r = await runHelper(mode, ['run'], {
      spec: ['version=1', 'rootfs=/tmp/x', 'lowerdir=/tmp/a:b', 'upperdir=/tmp/u', 'workdir=/tmp/w', 'arg=true', ...idMapEntries(mode)],
    });
    expect(r.code).toBe(125);
  });
});

/** Runs a host shell command as the mode's user (to make directories it owns). */
function runHelperShell(mode: Mode, command: string) {
  const [file, ...rest] = asModeUser(mode, ['sh', '-c', command]);
  return collect(spawn(file!, rest, { stdio: ['pipe', 'pipe', 'pipe'] }));
}
