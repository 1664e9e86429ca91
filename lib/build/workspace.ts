// A step's working container: an overlay of the image's layers with an upper
// directory of its own, under the store's tmp/ (so a killed build leaves only
// what the next writer or garbage collection removes). RUN runs in it through
// the helper as `run` does; COPY and ADD write into it through the helper as
// `cp` does; its upper directory becomes the step's layer. On a vfs store the
// workspace is a plain copy of the image's layers instead (rootfs/), and the
// step's layer is what differs from them.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newContainerId } from '../ids.js';
import { hostsFile, resolvConf } from '../network/etc-files.js';
import { hostAddressOf, planPrivateNetwork, type PrivateNetwork } from '../network/plan.js';
import { copyWithHelper, flattenLayers, runForeground, type CopyJob } from '../namespaces/helper.js';
import type { OciMount, OciRuntimeConfig } from '../oci/runtime-spec.js';
import type { NetworkMode, RunOptions } from '../oci/spec/options.js';
import { buildRuntimeConfig } from '../oci/spec/runtime.js';
import { makeTmpDir } from '../store/atomic.js';
import type { Store } from '../store/store.js';
import { imageRootMode, layerDiffDir } from '../store/layers.js';
import type { StorageDriver } from '../store/driver.js';

export class Workspace {
  readonly dir: string;
  /** What holds the step's changes: the overlay's upper dir, or on vfs the whole copy (compared with the layers). */
  readonly upper: string;
  readonly work: string;
  readonly merged: string;
  /** The network's fallback warning was said (once per build step). */
  private warned = false;
  /** The layers below, bottom first (diffIDs). */
  lowerLayers: string[];

  constructor(
    private readonly store: Store,
    layers: string[],
    readonly driver: StorageDriver = 'overlay',
  ) {
    this.dir = makeTmpDir(store.paths, 'build');
    this.upper = path.join(this.dir, driver === 'vfs' ? 'rootfs' : 'upper');
    this.work = path.join(this.dir, 'work');
    this.merged = path.join(this.dir, 'merged');
    for (const d of driver === 'vfs' ? [this.upper] : [this.upper, this.work, this.merged]) mkdirSync(d, 0o755);
    this.lowerLayers = layers;
  }

  /** vfs: the copy of the layers the steps work in (the build already runs as root of the store's user namespace). */
  async prepare(): Promise<void> {
    if (this.driver !== 'vfs') return;
    chmodSync(this.upper, imageRootMode(this.store.paths, this.lowerLayers));
    const lowerdirs = this.lowerdirs();
    if (lowerdirs.length > 0) await flattenLayers(lowerdirs, this.upper, undefined);
  }

  /** The overlay's lower dirs, uppermost first; none for an image with no layers (scratch). */
  lowerdirs(): string[] {
    return [...this.lowerLayers].reverse().map((l) => layerDiffDir(this.store.paths, l));
  }

  /**
   * The container config of this workspace. An overlay needs a lower dir:
   * a scratch image gets an empty one of its own.
   */
  config(opts: { args: string[]; env: string[]; workdir: string; user: string; network: NetworkMode; binds?: RunOptions['binds']; mounts?: OciMount[]; etcFiles?: boolean }): OciRuntimeConfig {
    let lowerdirs = this.lowerdirs();
    if (lowerdirs.length === 0 && this.driver !== 'vfs') {
      const empty = path.join(this.dir, 'empty');
      mkdirSync(empty, { recursive: true, mode: 0o755 });
      lowerdirs = [empty];
    }
    const id = newContainerId();
    // A private network (RUN's default): run's default network, no ports. The build already runs as root of
    // the store's user namespace (or as root), so the program needs no user namespace of its own.
    const net =
      opts.network === 'private'
        ? planPrivateNetwork({ kind: 'default' }, [], { owner: id, rootless: false, logPath: path.join(this.dir, 'network.log'), apiSocket: path.join(this.dir, 'slirp.sock') })
        : undefined;
    if (net?.warning && !this.warned) {
      this.warned = true;
      process.stderr.write(`skiff: warning: ${net.warning}\n`);
    }
    const options: RunOptions = {
      id,
      rootfs: this.driver === 'vfs' ? this.upper : this.merged,
      args: opts.args,
      env: opts.env,
      workdir: opts.workdir,
      user: opts.user,
      hostname: id.slice(0, 12),
      network: opts.network,
      ...(net ? { networkLabel: net.label, networkProgram: net.program } : {}),
      init: false,
      tty: false,
      interactive: false,
      // The build runs as root of the store's user namespace (or as real root): the container shares that mapping.
      idMappings: null,
      overlay: this.driver === 'vfs' ? { driver: 'vfs', lowerdirs, upperdir: this.upper, workdir: '' } : { lowerdirs, upperdir: this.upper, workdir: this.work },
      ...(opts.binds || opts.etcFiles ? { binds: [...(opts.etcFiles ? this.etcFiles(opts.network, id.slice(0, 12), net) : []), ...(opts.binds ?? [])] } : {}),
      ...(opts.mounts && opts.mounts.length > 0 ? { storage: { mounts: opts.mounts, readonlyRootfs: false } } : {}),
    };
    return buildRuntimeConfig(options);
  }

  /**
   * A RUN step's /etc/hostname, /etc/hosts and /etc/resolv.conf, as `run`
   * gives a container (Docker's and Podman's builds do the same): files of
   * the workspace bound over the image's, never part of the layer
   * (run-step.ts leaves them out). With the host's network, the host's
   * resolv.conf.
   */
  private etcFiles(network: NetworkMode, hostname: string, net: PrivateNetwork | undefined): NonNullable<RunOptions['binds']> {
    let hostResolv = '';
    try {
      hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // none: no resolvers
    }
    const resolv =
      network === 'none' ? '# --network none: no DNS\n' : resolvConf({ hostResolv, ...(net ? { forwarder: net.dns } : {}), dns: [], search: [], options: [] });
    const files: Record<string, string> = {
      '/etc/hostname': `${hostname}\n`,
      '/etc/hosts': hostsFile({ hostname, ...(net ? { ip: net.ip } : {}), ...hostAddressOf(net), extraHosts: [] }),
      '/etc/resolv.conf': resolv,
    };
    const dir = path.join(this.dir, 'etc');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return Object.entries(files).map(([destination, content]) => {
      const source = path.join(dir, path.basename(destination));
      writeFileSync(source, content, { mode: 0o644 });
      return { source, destination, readonly: false };
    });
  }

  /** Runs a RUN step's command; its output goes to `output` (stderr, or nothing with -q). Resolves to its exit code. */
  async run(config: OciRuntimeConfig, output: 'ignore' | number): Promise<{ exitCode: number; error?: { exitCode: number; message: string }; warnings: string[] }> {
    const { exitCode, report } = await runForeground(config, { interactive: false, output });
    const error = report.errors[0];
    return { exitCode: error ? error.exitCode : exitCode, ...(error ? { error } : {}), warnings: report.warnings };
  }

  /**
   * Copies a host path (a staging directory the build made) into the workspace's root, beneath it.
   * The destination's missing directories are made 0755, owned by `owner` (COPY --chown, as BuildKit) or root.
   */
  async copyIn(src: string, dst: string, owner?: { uid: number; gid: number }): Promise<string[]> {
    const config = this.config({ args: ['/'], env: [], workdir: '/', user: '', network: 'none' });
    const job: CopyJob = { op: 'in', src, dst, containerName: 'build', archive: true, follow: false, keepSetid: true, makeDirectories: true, ...(owner ? { directoryOwner: owner } : {}) };
    return (await copyWithHelper(config, undefined, job)).warnings;
  }

  /**
   * Makes a directory and its missing parents in the workspace's root (WORKDIR),
   * 0755, owned by `owner` (as the container sees it) or root; one that exists is left as it is.
   */
  async makeDirectory(dir: string, owner: { uid: number; gid: number } | undefined): Promise<string[]> {
    // Copying an empty directory's contents ("/.") into it changes nothing that exists.
    const empty = path.join(this.dir, 'nothing');
    mkdirSync(empty, { recursive: true, mode: 0o755 });
    const config = this.config({ args: ['/'], env: [], workdir: '/', user: '', network: 'none' });
    const job: CopyJob = { op: 'in', src: `${empty}/.`, dst: `${dir}/.`, containerName: 'build', archive: true, follow: false, keepSetid: true, makeDirectories: true, ...(owner ? { directoryOwner: owner } : {}) };
    return (await copyWithHelper(config, undefined, job)).warnings;
  }

  /** Copies a path out of the workspace's root (COPY --from) into a host directory. */
  async copyOut(src: string, dst: string): Promise<string[]> {
    const config = this.config({ args: ['/'], env: [], workdir: '/', user: '', network: 'none' });
    const job: CopyJob = { op: 'out', src, dst, containerName: 'build', archive: true, follow: false, keepSetid: true };
    return (await copyWithHelper(config, undefined, job)).warnings;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
