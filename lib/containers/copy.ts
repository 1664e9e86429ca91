// `cp` and `export`: files between the host and a container's root
// filesystem. The file work happens in `skiff-helper cp` (helpers-c/src/copy.c):
// Node cannot resolve a path beneath a root without following the
// container's symlinks, and rootless the container's files belong to sub-IDs
// that only its user namespace can write. This module decides what to copy
// and where; a tar on stdin is unpacked here, on the host, by the layer
// extractor (which refuses every escape), and then copied in like a directory.
// Between two containers (Podman's) the source's files travel the same way:
// its helper writes them as a tar, the extractor unpacks it in a private
// directory, and the destination's helper copies that in.
import { createReadStream } from 'node:fs';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError, cannotWrite } from '../errors.js';
import { humanSize } from '../humanize.js';
import { copyWithHelper, type CopyJob } from '../namespaces/helper.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { containerState } from './state.js';
import { setPaused } from './lifecycle.js';
import { readConfig, resolveContainer, type ContainerRecord } from './store.js';
import { makeTempDir } from '../paths.js';

export interface CopyRequest {
  source: string;
  destination: string;
  archive: boolean;
  followLink: boolean;
  /** -q: no "Successfully copied" line (which only a terminal gets anyway, as with Docker). */
  quiet: boolean;
  /** --pause (Podman's): a running container is frozen while it is copied from or into. */
  pause?: boolean;
}

export interface CopyEndpoint {
  /** The container as named, when this side is CONTAINER:PATH. */
  container?: string;
  path: string;
}

/** Docker's reading of a cp argument: an absolute path, or one whose part before ':' starts with '.', is local. */
export function splitCopyArg(arg: string): CopyEndpoint {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  const container = arg.slice(0, colon);
  if (container === '') throw new SkiffError(`invalid container name in "${arg}": it is empty`);
  return { container, path: arg.slice(colon + 1) };
}

/** A container path is relative to its root (Docker: "/" is optional). */
function inContainer(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}

interface Target {
  record: ContainerRecord;
  config: OciRuntimeConfig;
  runningPid: number | undefined;
}

function target(name: string): Target {
  const record = resolveContainer(name);
  const config = readConfig(record.Id);
  if (!config) throw new SkiffError(`container ${record.Name} has no config.json`);
  const state = containerState(record);
  return { record, config, runningPid: state.Running ? state.Pid : undefined };
}

function isRoot(): boolean {
  return (process.geteuid?.() ?? 0) === 0;
}

function printWarnings(result: { warnings: string[] }): void {
  for (const w of result.warnings) process.stderr.write(`skiff: warning: ${w}\n`);
}

/** Docker's closing line, on a terminal only: "Successfully copied 2.05kB to ctr:/tmp". */
function printCopied(req: CopyRequest, result: { warnings: string[]; bytes: number }): void {
  printWarnings(result);
  if (req.quiet || !process.stderr.isTTY) return;
  process.stderr.write(`Successfully copied ${humanSize(result.bytes, 3)} to ${req.destination}\n`);
}

export async function copyFiles(req: CopyRequest): Promise<void> {
  const src = splitCopyArg(req.source);
  const dst = splitCopyArg(req.destination);
  if (src.container === undefined && dst.container === undefined) throw new SkiffError('must specify at least one container source');
  const names = [...new Set([src.container, dst.container].filter((c): c is string => c !== undefined))];
  const paused: ContainerRecord[] = [];
  try {
    // --pause: each running container stays frozen while its files are copied (Podman's flag; the copy is safe without it, see how-it-works).
    if (req.pause) {
      for (const name of names) {
        const record = resolveContainer(name);
        const state = containerState(record);
        if (!state.Running || state.Paused) continue;
        await setPaused(record, true);
        paused.push(record);
      }
    }
    if (src.container !== undefined && dst.container !== undefined) await copyBetween(req, src as Required<CopyEndpoint>, dst as Required<CopyEndpoint>);
    else await copyOneSide(req, src, dst);
  } finally {
    for (const record of paused) await setPaused(record, false);
  }
}

/**
 * Container to container: the source's files as a tar (as `cp CTR:SRC -`
 * writes it), unpacked by the layer extractor into a private directory, then
 * copied in by Docker's rules for a host source, so DEST is read as it would
 * be for a host path. Owners survive with -a as root (the extractor sets
 * them), as for a tar on stdin.
 */
async function copyBetween(req: CopyRequest, src: Required<CopyEndpoint>, dst: Required<CopyEndpoint>): Promise<void> {
  const from = target(src.container);
  const to = target(dst.container);
  const keepSetid = req.archive || isRoot();
  const staging = makeTempDir('skiff-cp-');
  try {
    const tarFile = path.join(staging, 'source.tar');
    const fd = openSync(tarFile, 'wx', 0o600);
    try {
      printWarnings(await copyWithHelper(from.config, from.runningPid, { op: 'tar', src: inContainer(src.path), containerName: src.container, archive: req.archive, follow: req.followLink, keepSetid, output: fd }));
    } finally {
      closeSync(fd);
    }
    const tree = path.join(staging, 'tree');
    mkdirSync(tree, { mode: 0o700 });
    const { unpackLayer } = await import('../store/unpack.js');
    const stats = await unpackLayer(createReadStream(tarFile), tree, { chown: req.archive && isRoot() });
    if (stats.devices.length > 0) printWarnings({ warnings: [`${stats.devices.length} device node${stats.devices.length === 1 ? '' : 's'} not copied`] });
    // The tar holds SRC under its own name, or SRC's contents for "DIR/." and "/".
    const source = inContainer(src.path);
    const contents = source === '/' || /\/\.$/.test(source) || /^\/+$/.test(source);
    const name = path.posix.basename(source.replace(/\/+$/, ''));
    const inTree = contents ? `${tree}/.` : path.join(tree, name);
    printCopied(req, await copyWithHelper(to.config, to.runningPid, { op: 'in', src: inTree, dst: inContainer(dst.path), containerName: dst.container, archive: req.archive, follow: false, keepSetid }));
  } finally {
    removeStaging(staging);
  }
}

async function copyOneSide(req: CopyRequest, src: CopyEndpoint, dst: CopyEndpoint): Promise<void> {
  const t = target((src.container ?? dst.container)!);
  const common = {
    containerName: src.container ?? dst.container ?? '',
    archive: req.archive,
    follow: req.followLink,
    // Set-ID bits only where the caller could make them anyway or asked for them (as tar -p).
    keepSetid: req.archive || isRoot(),
  };
  if (src.container !== undefined) {
    const job: CopyJob =
      dst.path === '-'
        ? { ...common, op: 'tar', src: inContainer(src.path) }
        : { ...common, op: 'out', src: inContainer(src.path), dst: dst.path };
    const result = await copyWithHelper(t.config, t.runningPid, job);
    if (job.op === 'tar') printWarnings(result);
    else printCopied(req, result);
    return;
  }
  if (src.path !== '-') {
    if (src.path === '') throw new SkiffError('the source path is empty');
    printCopied(req, await copyWithHelper(t.config, t.runningPid, { ...common, op: 'in', src: src.path, dst: inContainer(dst.path) }));
    return;
  }
  // A tar on stdin: unpacked on the host into a private directory by the
  // layer extractor (no "..", absolute names, or link escapes get through),
  // then its contents copied into the container directory, which must exist.
  const staging = makeTempDir('skiff-cp-');
  try {
    const [{ unpackLayer }, { openStdin }] = await Promise.all([import('../store/unpack.js'), import('../store/decompress.js')]);
    let stats;
    try {
      // As Docker's archive input: a tar, plain or compressed (gzip, zstd, bzip2, xz).
      stats = await unpackLayer(openStdin('the archive on stdin'), staging, { chown: req.archive && isRoot() });
    } catch (err) {
      if (err instanceof SkiffError) throw new SkiffError(err.message.replace(/\blayer\b/g, 'archive'));
      throw err;
    }
    const left = stats.devices.length + stats.whiteouts.length + stats.opaqueDirs.length;
    if (left > 0) printWarnings({ warnings: [`${left} device node${left === 1 ? '' : 's'} or whiteout${left === 1 ? '' : 's'} in the archive not copied`] });
    const dir = inContainer(dst.path).replace(/\/+$/, '');
    printCopied(req, await copyWithHelper(t.config, t.runningPid, { ...common, op: 'in', follow: false, src: `${staging}/.`, dst: `${dir}/.` }));
  } finally {
    removeStaging(staging);
  }
}

/** rm -rf of the staging tree, whose directories may have come read-only from the archive. */
function removeStaging(dir: string): void {
  const unlock = (d: string): void => {
    chmodSync(d, 0o700);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) unlock(path.join(d, e.name));
  };
  try {
    if (lstatSync(dir).isDirectory()) unlock(dir);
  } catch {
    // removed below, or never made
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A tar of the container's whole root filesystem as it sees it (image layers,
 * its own changes, deletions applied; a running container's /proc, /sys and
 * /dev as empty directories) to stdout, or atomically to `output`.
 */
export async function exportContainer(name: string, output: string | undefined): Promise<void> {
  if (output === undefined && process.stdout.isTTY) throw new SkiffError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const t = target(name);
  const job: CopyJob = { op: 'tar', src: '/', containerName: name, archive: false, follow: false, keepSetid: true };
  if (output === undefined) {
    printWarnings(await copyWithHelper(t.config, t.runningPid, job));
    return;
  }
  // Written whole, then renamed: a failure or an interrupt leaves no half file.
  const tmp = `${output}.tmp.${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw cannotWrite(output, err);
  }
  const cleanup = (): void => rmSync(tmp, { force: true });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  };
  for (const s of signals) process.on(s, onSignal);
  let open = true;
  try {
    printWarnings(await copyWithHelper(t.config, t.runningPid, { ...job, output: fd }));
    closeSync(fd);
    open = false;
    renameSync(tmp, output);
  } catch (err) {
    if (open) closeSync(fd);
    cleanup();
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
