// `exec`: a new process in a running container, with the container's own
// process spec (config.json) as the base and the exec flags on top.
import { SkiffError } from '../errors.js';
import { containerEvent } from './events.js';
import { execBackground, runForeground } from '../namespaces/helper.js';
import { resolveEnvironment } from '../oci/spec/env.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { containerState } from './state.js';
import { readConfig, readPidFile, type ContainerRecord } from './store.js';
import { cgroupDirs, liveCgroup } from './resources.js';
import { refuseOtherRuntime } from './oci-runtime.js';
import { ALL_CAPABILITIES } from '../oci/spec/security.js';

export interface ExecRequest {
  command: string[];
  env: string[];
  envFiles: string[];
  user?: string;
  workdir?: string;
  tty: boolean;
  interactive: boolean;
  /** --privileged: every capability for this process, as Docker and Podman give it (seccomp and the rest stay the container's). */
  privileged?: boolean;
}

export function execConfig(base: OciRuntimeConfig, req: ExecRequest): OciRuntimeConfig {
  const env = new Map(base.process.env.map((e) => [e.slice(0, e.indexOf('=')), e]));
  for (const e of resolveEnvironment(req.env, req.envFiles, process.env)) env.set(e.slice(0, e.indexOf('=')), e);
  if (req.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm');
  const user = req.user ?? base.process.user.username ?? '';
  if (req.workdir !== undefined && !req.workdir.startsWith('/')) throw new SkiffError(`the working directory "${req.workdir}" is invalid: it needs to be an absolute path`);
  return {
    ...base,
    process: {
      ...base.process,
      args: req.command,
      env: [...env.values()],
      cwd: req.workdir ?? base.process.cwd,
      terminal: req.tty,
      user: user === '' ? { uid: 0, gid: 0 } : { uid: 0, gid: 0, username: user },
      ...(req.privileged
        ? { capabilities: { ...base.process.capabilities, bounding: [...ALL_CAPABILITIES], effective: [...ALL_CAPABILITIES], permitted: [...ALL_CAPABILITIES] } }
        : {}),
    },
    annotations: { ...base.annotations, 'io.skiff.init': 'false', 'io.skiff.stdin': String(req.interactive) },
  };
}

export async function execInContainer(record: ContainerRecord, req: ExecRequest & { detach?: boolean; preserveFds?: number }): Promise<number> {
  refuseOtherRuntime('exec');
  const state = containerState(record);
  if (!state.Running) throw new SkiffError(`container ${record.Id} is not running`);
  // A process that joins a frozen cgroup freezes too: refuse, as Docker does.
  if (state.Paused) throw new SkiffError(`container ${record.Id} is paused, unpause the container before exec`);
  const base = readConfig(record.Id);
  if (!base) throw new SkiffError(`container ${record.Id} has no config.json`);
  // The exec'd process joins the container's cgroup, so its limits hold it too.
  const dirs = cgroupDirs(liveCgroup(record, readPidFile(record.Id)));
  if (req.detach) {
    if (req.tty || req.interactive) throw new SkiffError('exec -d cannot be combined with -i or -t');
    if (req.preserveFds) throw new SkiffError('exec -d cannot be combined with --preserve-fds: the background helper keeps no descriptor of yours');
    await execBackground(execConfig(base, req), state.Pid, dirs);
    containerEvent(record, 'exec');
    return 0;
  }
  containerEvent(record, 'exec');
  const { exitCode, report } = await runForeground(execConfig(base, req), {
    interactive: req.interactive,
    joinPid: state.Pid,
    cgroup: { launch: { join: dirs } },
    ...(req.preserveFds ? { preserveFds: req.preserveFds } : {}),
  });
  const failure = report.errors[0];
  containerEvent(record, 'exec_died', failure ? failure.exitCode : exitCode);
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  return exitCode;
}
