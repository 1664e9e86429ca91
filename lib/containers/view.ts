// Containers as `ps` and `inspect` show them, with Docker's field names.
import { networkSettingsPorts, portsColumn } from '../network/ports.js';
import { humanDuration } from '../humanize.js';
import { statusText, type ContainerState } from './state.js';
import { healthOf, healthWord } from './health-state.js';
import type { ContainerRecord } from './store.js';
import { networkFellBack, publishedPortsNow, readConfig } from './store.js';
import { emptyResources, type HostResources } from '../oci/spec/resources.js';
import { overlayOf } from '../oci/spec/runtime.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';

/** HostConfig's resource fields of a record (older records have none: Docker's zeros). */
export function recordResources(record: ContainerRecord): HostResources {
  const base = emptyResources();
  const hc = record.HostConfig as Partial<HostResources>;
  for (const key of Object.keys(base) as (keyof HostResources)[]) {
    if (hc[key] !== undefined) (base as unknown as Record<string, unknown>)[key] = hc[key];
  }
  return base;
}

export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  State: string;
  Ports: string;
  Names: string;
  Labels: string;
  Mounts: string;
  Networks: string;
  /** Filled by ps --size only, as in Docker. */
  Size: string;
}

function quoteCommand(record: ContainerRecord, noTrunc: boolean): string {
  const full = [record.Path, ...record.Args].join(' ');
  const shown = noTrunc || full.length <= 20 ? full : `${full.slice(0, 19)}…`;
  return `"${shown}"`;
}

/** ps's MOUNTS: volume names, else sources, as Docker's (truncated there to 15 characters without --no-trunc). */
function mountsColumn(record: ContainerRecord): string {
  return (record.Mounts ?? [])
    .filter((m) => m.Type !== 'tmpfs')
    .map((m) => m.Name ?? m.Source)
    .join(',');
}

/**
 * HostConfig.NetworkMode as the container got it: slirp4netns once its
 * default network fell back from a failing pasta (the helper's record),
 * as Podman shows the program that serves the container.
 */
function networkModeOf(record: ContainerRecord): string {
  const mode = record.HostConfig.NetworkMode;
  return mode === 'pasta' && networkFellBack(record.Id) ? 'slirp4netns' : mode;
}

/** Docker's "Up 3 seconds (healthy)": the health of a running container with a healthcheck. */
function withHealth(status: string, record: ContainerRecord, state: ContainerState): string {
  if (!record.Config.Healthcheck || !state.Running || state.Paused) return status;
  const word = healthWord(record, state);
  return word === 'none' ? status : `${status} (${word})`;
}

export function psRow(record: ContainerRecord, state: ContainerState, noTrunc: boolean, now = Date.now()): PsRow {
  return {
    ID: noTrunc ? record.Id : record.Id.slice(0, 12),
    Image: record.Image || record.Rootfs,
    Command: quoteCommand(record, noTrunc),
    CreatedAt: new Date(record.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(now - Date.parse(record.Created))} ago`,
    Status: withHealth(statusText(state, now), record, state),
    State: state.Status,
    Ports: portsColumn(publishedPortsNow(record), record.Config.ExposedPorts),
    Names: record.Name,
    Labels: Object.entries(record.Config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: mountsColumn(record),
    Networks: record.Networks ? Object.keys(record.Networks).join(',') : networkModeOf(record),
    Size: '',
  };
}

/**
 * Docker's NetworkSettings: the ports (Docker's form), the address on a
 * private network, or one endpoint per user-defined network (Docker leaves
 * the top-level address empty then).
 */
function networkSettings(record: ContainerRecord) {
  const n = record.Network;
  const endpoint = {
    IPAddress: n?.IPAddress ?? '',
    IPPrefixLen: n?.IPPrefixLen ?? 0,
    Gateway: n?.Gateway ?? '',
    MacAddress: n?.MacAddress ?? '',
  };
  const networks = record.Networks
    ? Object.fromEntries(
        Object.entries(record.Networks).map(([name, e]) => [
          name,
          { NetworkID: e.NetworkID, Aliases: e.Aliases, IPAddress: e.IPAddress, IPPrefixLen: e.IPPrefixLen, Gateway: e.Gateway, MacAddress: e.MacAddress },
        ]),
      )
    : { [networkModeOf(record)]: endpoint };
  return {
    ...endpoint,
    Ports: networkSettingsPorts(publishedPortsNow(record), record.Config.ExposedPorts),
    Networks: networks,
  };
}

function storageDriverOf(config: OciRuntimeConfig): string {
  const overlay = overlayOf(config);
  return overlay ? (overlay.driver ?? 'overlay') : '';
}

/** docker inspect's shape for a container. */
export function inspectView(record: ContainerRecord, state: ContainerState) {
  const config = readConfig(record.Id);
  return {
    Id: record.Id,
    Created: record.Created,
    Path: record.Path,
    Args: record.Args,
    State: {
      Status: state.Status,
      Running: state.Running,
      Paused: state.Paused,
      Restarting: false,
      OOMKilled: state.OOMKilled,
      Dead: false,
      Pid: state.Pid,
      ExitCode: state.ExitCode,
      Error: state.Error,
      StartedAt: state.StartedAt,
      FinishedAt: state.FinishedAt,
      // Docker's and Podman's shape; Podman's empty one for a container without a
      // healthcheck, so that `{{.State.Health.Status}}` is empty rather than an error.
      Health: healthOf(record, state),
    },
    // Docker: the image's id here, its name in Config.Image.
    Image: record.ImageID ? (record.ImageID.startsWith('sha256:') ? record.ImageID : `sha256:${record.ImageID}`) : '',
    // Podman's: the image as the user named it.
    ImageName: record.Image ?? '',
    Name: `/${record.Name}`,
    RestartCount: state.RestartCount,
    // The storage driver of its root filesystem (Podman's names); none for a --rootfs container.
    Driver: config ? storageDriverOf(config) : '',
    Rootfs: record.Rootfs,
    // Podman's fields: what the process keeps; skiff's: which seccomp filter it runs under.
    EffectiveCaps: config?.process.capabilities.effective ?? null,
    BoundingCaps: config?.process.capabilities.bounding ?? null,
    SeccompProfile: config ? (config.annotations['io.skiff.seccomp'] ?? (config.linux.seccomp ? 'default' : 'unconfined')) : '',
    // Podman's: run --pidfile and --conmon-pidfile ("" when not given).
    PidFile: record.PidFile ?? '',
    ConmonPidFile: record.ConmonPidFile ?? '',
    // Docker shows every resource field, zero when not set.
    HostConfig: { ...record.HostConfig, ...recordResources(record), NetworkMode: networkModeOf(record) },
    Config: { ...record.Config, Image: record.Image, SdNotifyMode: record.Config.SdNotifyMode ?? 'container' },
    Mounts: record.Mounts ?? [],
    NetworkSettings: networkSettings(record),
    OCIConfig: config,
  };
}
