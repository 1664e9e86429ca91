// RUN: the command in a container of the step's workspace, through the helper
// as `run` runs one: shell form through the stage's SHELL, exec form as
// written, heredocs as BuildKit runs them. Build args are in its environment
// but not in the image. A non-zero exit fails the build with exit 1 (as
// Docker), naming the step; no image is written and the workspace is removed.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { makeTmpDir } from '../store/atomic.js';
import type { NetworkMode } from '../oci/spec/options.js';
import type { Instruction } from './dockerfile.js';
import { PROXY_ARGS } from './stages.js';
import { newWorkspace, shellOf, stepKey, type StepApi } from './builder.js';
import { mountExclusions, mountKey, presentInUpper, withParents, parseRunMount, prepareMounts, RUNTIME_MOUNT_POINTS, type RunMount } from './mounts.js';
import { readImageRecord } from '../store/images.js';

/** Where a `#!` heredoc script is bound, read-only, for its step (left out of the layer). */
const SCRIPT_PATH = '/.skiff-heredoc/script';

function isScriptHeredoc(i: Instruction): boolean {
  return i.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z0-9_]+\1$/.test(i.text.trim());
}

/** The argv of a RUN (and what history shows for it). */
export function runArgv(i: Instruction, shell: string[]): string[] {
  if (i.json) return i.json;
  if (i.heredocs.length === 0) return [...shell, i.text];
  const first = i.text.trim();
  // `RUN <<EOF` alone: the heredoc is the script (one with "#!" is run as a file: see scriptFile).
  if (isScriptHeredoc(i)) return i.heredocs[0]!.content.startsWith('#!') ? [SCRIPT_PATH] : [...shell, i.heredocs[0]!.content];
  // `RUN cmd <<EOF …`: the shell reads its own heredocs.
  return [...shell, `${i.text}\n${i.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
}

function networkOf(api: StepApi, i: Instruction): NetworkMode {
  const flag = i.flags.find((f) => f.name === 'network')?.value ?? 'default';
  const mode = flag === 'default' ? api.req.network : flag;
  if (mode === 'none' || mode === 'host') return mode;
  // The default network of `run`: a private namespace with outbound access (pasta, else slirp4netns).
  if (mode === 'default') return 'private';
  throw new SkiffError(`RUN --network=${flag}: expected none, host or default`);
}

export async function executeRun(api: StepApi, i: Instruction): Promise<void> {
  const escape = api.req.dockerfile.escape;
  const mounts: RunMount[] = [];
  for (const f of i.flags) {
    if (f.name === 'mount') mounts.push(parseRunMount(f.value ?? '', api.variables(), escape));
    if (f.name === 'security' && f.value !== 'sandbox') throw new SkiffError(`RUN --security=${f.value}: only sandbox is supported (skiff never runs build steps with extra privileges)`);
  }
  const fromImage = async (ref: string) => api.stageImage(ref) ?? (await api.req.resolveImage(ref, api.req.pull)).id;
  const mountKeys: string[] = [];
  for (const m of mounts) mountKeys.push(mountKey(m, api.req.context, m.from !== undefined ? await fromImage(m.from) : undefined));
  const config = api.state.image.config.config ?? {};
  const argv = runArgv(i, shellOf(config));
  const network = networkOf(api, i);
  const argEnv = api.argEnvironment();
  // Docker's history line: the build args the command saw (never the proxy ones), then the command.
  const shownArgs = argEnv.filter((e) => !PROXY_ARGS.includes(e.slice(0, e.indexOf('='))));
  const createdBy = `${shownArgs.length > 0 ? `|${shownArgs.length} ${shownArgs.join(' ')} ` : ''}${argv.join(' ')}`;
  const key = stepKey(api, `RUN ${JSON.stringify(argv)} ${network}`, mountKeys.join('\n'), true);
  await api.filesystemStep(key, createdBy, async (ws) => {
    const env = [...(config.Env ?? []), ...argEnv];
    const prepared = await prepareMounts(mounts, {
      store: api.req.store,
      context: api.req.context,
      secrets: api.req.secrets,
      fromImage,
      copyOutRoot: async (image, src, dest) => {
        const record = readImageRecord(api.req.store.paths, image);
        if (!record) throw new SkiffError(`image ${image} is missing from the store`);
        const from = await newWorkspace(api.req.store, record.layers);
        try {
          await from.copyOut(src, dest);
        } finally {
          from.remove();
        }
      },
    });
    const binds = [...prepared.binds];
    // The mounts' targets, and the /etc files the step gets of its own (Workspace.etcFiles).
    const targets = [...mounts.map((m) => m.target), '/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];
    let script: string | undefined;
    if (argv[0] === SCRIPT_PATH && isScriptHeredoc(i)) {
      // BuildKit runs a heredoc with "#!" as an executable file, by its interpreter.
      script = makeTmpDir(api.req.store.paths, 'heredoc');
      writeFileSync(path.join(script, 'script'), i.heredocs[0]!.content, { mode: 0o755 });
      binds.push({ source: path.join(script, 'script'), destination: SCRIPT_PATH, readonly: true });
      targets.push(SCRIPT_PATH);
    }
    // What the upper directory held before (with --squash, earlier steps' files): not the step's mount points.
    const before = presentInUpper(ws.upper, [...new Set([...RUNTIME_MOUNT_POINTS, ...targets].flatMap(withParents))]);
    let result;
    try {
      const run = ws.config({ args: argv, env, workdir: config.WorkingDir || '/', user: config.User ?? '', network, binds, mounts: prepared.tmpfs, etcFiles: true });
      result = await ws.run(run, api.req.progress.output());
    } finally {
      prepared.release();
      if (script) rmSync(script, { recursive: true, force: true });
    }
    for (const w of result.warnings) api.req.progress.warn(w);
    if (result.error) throw new SkiffError(result.error.message, result.error.exitCode);
    if (result.exitCode !== 0) {
      // The build exits with the command's own status, as `podman build` does (Docker's exits 1; any non-zero is what scripts test).
      throw new SkiffError(`the command ${JSON.stringify(argv.join(' '))} exited with ${result.exitCode}`, result.exitCode);
    }
    // What the mounts covered (and the mount points made for them) stays out of the layer,
    // as do /proc, /sys and /dev, which the helper mounts (and makes, when the image has none).
    return { exclude: mountExclusions(api.req.store, ws.upper, ws.lowerLayers, [...RUNTIME_MOUNT_POINTS, ...targets], before) };
  });
}
