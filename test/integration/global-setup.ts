// Prepares what every integration test needs, once per run:
// - a copy of the built skiff in a directory every user can read (CI's clone
//   may sit where the unprivileged test user cannot enter);
// - busybox root filesystems, one owned by root and one made by the test user
//   (so its files belong to the user, i.e. to root inside a rootless container).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, rmSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface IntegrationEnv {
  installDir: string;
  /** A busybox rootfs no test runs containers on: what test images are built from. */
  imageRootfs: string;
  rootRootfs: string | null;
  testUser: TestUser | null;
  /** The rootless test user's name (SKIFF_TEST_USER, or skifftest), and why it cannot be tested when it cannot. */
  testUserName: string;
  rootlessSkip: string | null;
  userRootfs: string | null;
  workDir: string;
  /**
   * A containers.conf with [containers] netns = "none": the harness passes it
   * as CONTAINERS_CONF, so that a test that does not test networking does not
   * start pasta for each container (250–450 ms each); it also keeps the host's
   * own containers.conf out of the tests. See useDefaultNetwork().
   */
  networkNoneConf: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    integration: IntegrationEnv;
  }
}

function lookupUser(name: string): TestUser | null {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    const f = line.split(':');
    return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
  } catch {
    return null;
  }
}

/** Why `name` cannot run the rootless tests, or null when it can. */
function whyNoTestUser(name: string, user: TestUser | null): string | null {
  const fix = `sudo scripts/create-test-user.sh${name === 'skifftest' ? '' : ` ${name}`}`;
  if (!user) return `the rootless mode needs the test user ${name}: ${fix}`;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // no file: no range
    }
    const lines = text.split('\n');
    if (!lines.some((l) => l.startsWith(`${name}:`) || l.startsWith(`${user.uid}:`))) return `the test user ${name} has no range in ${file}: ${fix}`;
  }
  return null;
}

function chmodTree(dir: string): void {
  execFileSync('chmod', ['-R', 'a+rX', dir]);
}

let workDir = '';

/**
 * A test that failed midway may leave detached containers running: SIGKILL
 * every monitor started from this run's helper (its containers die with it,
 * by their parent-death signal). Others' helpers are left alone.
 */
function killLeftoverContainers(helper: string): void {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === helper) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, or not ours to look at
    }
  }
}

/**
 * The cgroups skiff made (cgroupfs) for containers of this run's stores,
 * which the stores' removal would otherwise leave in /sys/fs/cgroup: rmdir
 * each (empty once its processes are gone; a busy one is retried briefly).
 */
function removeLeftoverCgroups(dir: string, depth = 0): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dir, e.name);
    if (e.name === 'containers') {
      for (const id of readdirSync(sub)) {
        try {
          const record = JSON.parse(readFileSync(path.join(sub, id, 'container.json'), 'utf8')) as { Cgroup?: { dir?: string; v1?: Record<string, string> } };
          for (const cg of [record.Cgroup?.dir, ...Object.values(record.Cgroup?.v1 ?? {})]) {
            if (!cg) continue;
            for (let i = 0; i < 20; i++) {
              try {
                rmdirSync(cg);
                break;
              } catch (err) {
                if ((err as { code?: string }).code !== 'EBUSY') break;
                execFileSync('sleep', ['0.05']);
              }
            }
          }
        } catch {
          // not a container, or already gone
        }
      }
    } else if (depth < 3) removeLeftoverCgroups(sub, depth + 1);
  }
}

export default function setup(project: TestProject) {
  workDir = mkdtempSync('/tmp/skiff-it-');
  chmodSync(workDir, 0o755);
  const installDir = path.join(workDir, 'skiff');
  mkdirSync(installDir);
  for (const part of ['bin', 'package.json']) cpSync(path.join(root, part), path.join(installDir, part), { recursive: true });
  // dist is a symlink to the current build (scripts/build.mjs): that build's files, as they are now.
  cpSync(realpathSync(path.join(root, 'dist')), path.join(installDir, 'dist'), { recursive: true });
  mkdirSync(path.join(installDir, 'helpers-c'));
  if (!existsSync(path.join(root, 'helpers-c/skiff-helper'))) throw new Error('helpers-c/skiff-helper is not built: run npm run build');
  cpSync(path.join(root, 'helpers-c/skiff-helper'), path.join(installDir, 'helpers-c/skiff-helper'));
  chmodTree(installDir);

  const script = path.join(root, 'scripts/make-busybox-rootfs.sh');
  const isRoot = process.getuid?.() === 0;
  let rootRootfs: string | null = null;
  let testUser: TestUser | null = null;
  let userRootfs: string | null = null;
  let testUserName = process.env['SKIFF_TEST_USER'] ?? 'skifftest';
  let rootlessSkip: string | null = null;
  if (isRoot) {
    rootRootfs = path.join(workDir, 'rootfs-root');
    execFileSync('sh', [script, rootRootfs]);
    testUser = lookupUser(testUserName);
    rootlessSkip = whyNoTestUser(testUserName, testUser);
    if (rootlessSkip) testUser = null;
    if (testUser) {
      const userDir = path.join(workDir, 'user');
      mkdirSync(userDir);
      chownSync(userDir, testUser.uid, testUser.gid);
      userRootfs = path.join(userDir, 'rootfs');
      // Copy the script where the user can read it.
      const userScript = path.join(workDir, 'make-busybox-rootfs.sh');
      cpSync(script, userScript);
      chmodSync(userScript, 0o755);
      execFileSync('setpriv', [`--reuid=${testUser.uid}`, `--regid=${testUser.gid}`, '--init-groups', 'sh', userScript, userRootfs]);
    }
  } else {
    const uid = process.getuid?.() ?? 0;
    const me = lookupUser(String(uid)) ?? { name: String(uid), uid, gid: process.getgid?.() ?? 0, home: process.env['HOME'] ?? '/' };
    testUser = { ...me, name: execFileSync('id', ['-un'], { encoding: 'utf8' }).trim() };
    testUserName = testUser.name;
    rootlessSkip = whyNoTestUser(testUserName, testUser);
    if (rootlessSkip) testUser = null;
    else {
      userRootfs = path.join(workDir, 'rootfs');
      execFileSync('sh', [script, userRootfs]);
    }
  }
  // --rootfs containers write into their rootfs: images get a pristine one of their own.
  const imageRootfs = path.join(workDir, 'rootfs-image');
  execFileSync('sh', [script, imageRootfs]);
  chmodTree(imageRootfs);
  const networkNoneConf = path.join(workDir, 'containers-netns-none.conf');
  writeFileSync(networkNoneConf, '[containers]\nnetns = "none"\n', { mode: 0o644 });
  project.provide('integration', { installDir, imageRootfs, rootRootfs, testUser, testUserName, rootlessSkip, userRootfs, workDir, networkNoneConf });
  return () => {
    killLeftoverContainers(path.join(installDir, 'helpers-c', 'skiff-helper'));
    removeLeftoverCgroups(workDir);
    // Rootless files may belong to sub-IDs: remove them as root or from a user namespace.
    if (isRoot) rmSync(workDir, { recursive: true, force: true });
    else
      try {
        execFileSync('unshare', ['-r', 'rm', '-rf', workDir]);
      } catch {
        rmSync(workDir, { recursive: true, force: true });
      }
  };
}
