// `skiff build`: a Dockerfile's stages, step by step, each step one image in
// the store (Docker's classic model), found again by its cache key:
//
//   key = sha256(parent image id, the instruction with its expanded
//         arguments, the build args in scope, for COPY/ADD a digest of what
//         it copies)
//
// A cached step reads one small file and the image's config: no container,
// no unpack. An uncached one runs under the step's lock, so parallel builds
// of one Dockerfile run it once and name one image. RUN runs in a container
// through the helper (workspace.ts); COPY and ADD write through the helper
// beneath the root (copy.ts); the step's upper directory becomes its layer
// (layer.ts), or none when it changed nothing (empty_layer in the history).
import { createHash } from 'node:crypto';
import { SkiffError } from '../errors.js';
import type { ImageConfig } from '../oci/image-spec.js';
import { processWord, type Variables } from '../oci/shell-words.js';
import { DEFAULT_PATH } from '../oci/spec/defaults.js';
import { storeImage } from '../store/image-write.js';
import { lookupBuildStep, recordBuildStep } from '../store/build-cache.js';
import { lockBuildStep } from '../store/lock.js';
import { storageDriver } from '../store/driver.js';
import { readBlob } from '../store/blobs.js';
import { readImageRecord, type ImageRecord } from '../store/images.js';
import type { Store } from '../store/store.js';
import type { BuildContext } from './context.js';
import type { Dockerfile, Instruction } from './dockerfile.js';
import { applyConfigInstruction, DEFAULT_SHELL, historyEntry, keyValues, nopCreatedBy, type BuildContainerConfig, type BuildImageConfig } from './image-config.js';
import { fromImage, globalArgValues, planStages, PROXY_ARGS, stageByRef, type Stage, type StagePlan } from './stages.js';
import type { Workspace } from './workspace.js';
import { executeCopy, type CopySource } from './copy.js';
import { executeRun } from './run-step.js';
import type { ProgressPrinter } from './progress.js';
import { lookupUser } from './users.js';

export type PullPolicy = 'always' | 'missing' | 'never';

/**
 * A cache-only build (no store lock, and rootless outside the user
 * namespace) met a step it must run, or garbage collection ran meanwhile:
 * the caller builds again the full way.
 */
export class NotFullyCached extends Error {
  constructor() {
    super('this build is not fully cached: build again under the store lock (rootless: in the user namespace)');
    this.name = 'NotFullyCached';
  }
}

export interface BuildRequest {
  store: Store;
  dockerfile: Dockerfile;
  context: BuildContext;
  target?: string;
  buildArgs: Map<string, string>;
  noCache: boolean;
  pull: PullPolicy;
  /** --label: added to the final image. */
  labels: Record<string, string>;
  /** The network RUN steps get unless they say --network. */
  network: 'default' | 'none' | 'host';
  /** --secret id=…,src=…: id -> host file. */
  secrets: Map<string, string>;
  /** --layers=false or --squash: the new steps become one layer, and nothing is cached. */
  squash: boolean;
  /** --timestamp / SOURCE_DATE_EPOCH: seconds since the epoch for created times (and file times). */
  timestamp?: number;
  progress: ProgressPrinter;
  /**
   * Use the cache only (no store lock; rootless, outside the user
   * namespace), and throw NotFullyCached at the first step that would run
   * or write an image.
   */
  cachedOnly?: boolean;
  /** Called before anything is written to the store (the caller takes the store lock then). */
  beforeWrite(): Promise<void>;
  /** Resolves an image name to a stored image (pulling per the policy); the caller knows how to pull. */
  resolveImage(name: string, policy: PullPolicy): Promise<ImageRecord>;
}

/** The image a stage has built so far. */
interface StageImage {
  /** The last image written (a step's); undefined for scratch before any step. */
  id: string | undefined;
  config: BuildImageConfig;
}

interface StageState {
  stage: Stage;
  image: StageImage;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string>;
  /** The build args a step's key and RUN environment see (declared ones, and the proxy ARGs). */
  usedArgs: Set<string>;
  /** --squash: the one working container of the stage, and the paths its steps mounted over. */
  squashWork?: Workspace;
  squashExclude: Set<string>;
  /** The instruction text the user sees for each step. */
  step: number;
  steps: number;
  /** The base image's id when this stage gave its config the PATH it lacked: an image of its own even with no step after. */
  pathAddedTo?: string;
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function nowIso(timestamp: number | undefined): string {
  return timestamp !== undefined ? new Date(timestamp * 1000).toISOString().replace('.000Z', 'Z') : new Date().toISOString();
}

function readConfig(store: Store, id: string): BuildImageConfig {
  const bytes = readBlob(store.paths, id);
  if (!bytes) throw new SkiffError(`image ${id} is damaged: its config is missing: remove it and build again`);
  return JSON.parse(bytes.toString('utf8')) as BuildImageConfig;
}

export class Builder {
  private readonly plan: StagePlan;
  private readonly globals: Map<string, string>;
  /** Each built stage's image id (by stage index). */
  private readonly built = new Map<number, string>();
  /** Build args a stage declared: those left over are warned about. */
  private readonly consumed = new Set<string>();

  constructor(private readonly req: BuildRequest) {
    this.plan = planStages(req.dockerfile, req.target);
    this.globals = globalArgValues(this.plan, req.buildArgs, req.dockerfile.escape);
    for (const i of this.plan.globalArgs) for (const [k] of keyValues(i, this.globals, req.dockerfile.escape, false)) this.consumed.add(k);
  }

  /** Stages the target needs, in Dockerfile order. */
  private neededStages(): Stage[] {
    const needed = new Set<number>();
    const visit = (s: Stage) => {
      if (needed.has(s.index)) return;
      needed.add(s.index);
      const base = stageByRef(this.plan, fromImage(s, this.globals, this.req.dockerfile.escape), s.index);
      if (base) visit(base);
      for (const i of s.instructions) {
        const refs = i.flags.filter((f) => f.name === 'from').map((f) => f.value ?? '');
        for (const f of i.flags.filter((f) => f.name === 'mount')) {
          const m = /(?:^|,)from=([^,]+)/.exec(f.value ?? '');
          if (m) refs.push(m[1]!);
        }
        for (const r of refs) {
          const dep = stageByRef(this.plan, processWord(r, this.globals, this.req.dockerfile.escape), s.index);
          if (dep) visit(dep);
        }
      }
    };
    visit(this.plan.target);
    return this.plan.stages.filter((s) => needed.has(s.index));
  }

  async build(): Promise<string> {
    const stages = this.neededStages();
    let last = '';
    for (const stage of stages) {
      this.req.progress.stage(stages.indexOf(stage) + 1, stages.length);
      last = await this.buildStage(stage);
      this.built.set(stage.index, last);
    }
    const unused = [...this.req.buildArgs.keys()].filter((k) => !this.consumed.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length > 0) this.req.progress.warn(`one or more build args were not consumed: [${unused.join(' ')}]`);
    return last;
  }

  /** The final image of the target stage: --label added, then written; resolves to its id. */
  private async finish(state: StageState): Promise<string> {
    let image = state.image;
    const labels = Object.entries(this.req.labels);
    if (labels.length > 0 && state.stage === this.plan.target) {
      const config = { ...image.config, config: { ...image.config.config, Labels: { ...(image.config.config?.Labels ?? {}), ...this.req.labels } } };
      image = await this.writeStep(state, config, undefined);
    }
    if (image.id === undefined || image.id === state.pathAddedTo) image = await this.writeStep(state, image.config, undefined);
    return image.id!;
  }

  private async resolveBase(stage: Stage): Promise<StageImage & { name: string }> {
    const name = fromImage(stage, this.globals, this.req.dockerfile.escape);
    const platform = stage.from.flags.find((f) => f.name === 'platform');
    if (platform?.value) checkPlatform(processWord(platform.value, this.globals, this.req.dockerfile.escape));
    if (name === 'scratch') {
      return { name, id: undefined, config: { architecture: hostArch(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] } };
    }
    const earlier = stageByRef(this.plan, name, stage.index);
    if (earlier) {
      const id = this.built.get(earlier.index);
      if (!id) throw new SkiffError(`internal: stage ${earlier.name ?? earlier.index} was not built before its use`);
      return { name, id, config: readConfig(this.req.store, id) };
    }
    const record = await this.req.resolveImage(name, this.req.pull);
    return { name, id: record.id, config: readConfig(this.req.store, record.id) };
  }

  private async buildStage(stage: Stage): Promise<string> {
    // FROM with its image name expanded (the ARGs before it are known), as Podman and BuildKit show it.
    const from = stage.from.original.replace(stage.from.text.trim().split(/\s+/)[0]!, fromImage(stage, this.globals, this.req.dockerfile.escape));
    this.req.progress.step(1, stage.instructions.length + 1, from);
    const base = await this.resolveBase(stage);
    const triggers = base.config.config?.OnBuild ?? [];
    const config: BuildImageConfig = {
      ...base.config,
      config: { ...base.config.config, OnBuild: null },
      history: [...(base.config.history ?? [])],
      rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids] },
    };
    if (config.config && (config.config.OnBuild === null || config.config.OnBuild === undefined)) delete config.config.OnBuild;
    // A stage's image always has a PATH (BuildKit's "make sure that PATH is always set", Buildah's the same):
    // FROM scratch, or a base without one, gets the default that run uses.
    const env = config.config?.Env ?? [];
    const pathAdded = !env.some((e) => e.startsWith('PATH='));
    if (pathAdded) config.config = { ...config.config, Env: [`PATH=${DEFAULT_PATH}`, ...env] };
    const state: StageState = {
      stage,
      image: { id: base.id, config },
      args: new Map(),
      usedArgs: new Set(),
      squashExclude: new Set(),
      step: 1,
      steps: stage.instructions.length + 1,
      ...(pathAdded && base.id !== undefined ? { pathAddedTo: base.id } : {}),
    };
    try {
      // ONBUILD triggers of the base run first, as Docker runs them, parsed like the Dockerfile's own lines.
      for (const t of triggers) {
        const { parseDockerfile } = await import('./dockerfile.js');
        const parsed = parseDockerfile(`FROM scratch\n${t}\n`, `${base.name} ONBUILD`);
        const trigger = parsed.instructions[1]!;
        this.req.progress.note(`ONBUILD ${t}`);
        await this.execute(state, trigger);
      }
      for (const i of stage.instructions) {
        state.step++;
        this.req.progress.step(state.step, state.steps, i.original);
        await this.execute(state, i);
      }
      if (state.squashWork) await this.commitSquashed(state);
      return await this.finish(state);
    } finally {
      state.squashWork?.remove();
    }
  }

  /** Variables for expansion: the stage's ARGs, then ENV over them (Docker's precedence). */
  private variables(state: StageState): Map<string, string> {
    const vars = new Map(state.args);
    for (const e of state.image.config.config?.Env ?? []) {
      const eq = e.indexOf('=');
      if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return vars;
  }

  /** The build args a RUN sees in its environment (not recorded in the image): declared ARGs not shadowed by ENV, and proxy ARGs. */
  private argEnvironment(state: StageState): string[] {
    const env = state.image.config.config?.Env ?? [];
    const out: string[] = [];
    for (const [k, v] of state.args) if (!env.some((e) => e.startsWith(`${k}=`))) out.push(`${k}=${v}`);
    for (const k of PROXY_ARGS) {
      const v = this.req.buildArgs.get(k);
      if (v !== undefined && !state.args.has(k)) out.push(`${k}=${v}`);
    }
    return out;
  }

  private async execute(state: StageState, i: Instruction): Promise<void> {
    const escape = this.req.dockerfile.escape;
    try {
      switch (i.keyword) {
        case 'ARG':
          this.declareArgs(state, i);
          return;
        case 'RUN':
          await executeRun(this.stepApi(state), i);
          return;
        case 'COPY':
        case 'ADD':
          await executeCopy(this.stepApi(state), i);
          return;
        default: {
          const change = applyConfigInstruction(i, state.image.config.config ?? {}, this.variables(state), escape);
          if (i.keyword === 'WORKDIR' && change.config.WorkingDir !== '/') await this.makeWorkdir(state, change.config, change.createdBy);
          else await this.commitConfigStep(state, i, change.config, change.createdBy);
        }
      }
    } catch (err) {
      if (err instanceof NotFullyCached) throw err;
      // A pull's failure (COPY --from=IMAGE, RUN --mount=from=IMAGE) was printed by the pull itself, in one line.
      if (err instanceof SkiffError && !err.reported && !err.message.startsWith(this.req.dockerfile.file)) {
        throw new SkiffError(`${this.req.dockerfile.file}:${i.line}: ${i.original.split('\n')[0]}: ${err.message}`, err.exitCode);
      }
      throw err;
    }
  }

  private declareArgs(state: StageState, i: Instruction): void {
    for (const [name, def] of keyValues(i, this.variables(state), this.req.dockerfile.escape, false)) {
      this.consumed.add(name);
      const given = this.req.buildArgs.get(name);
      const value = given ?? def ?? this.globals.get(name);
      if (value !== undefined) state.args.set(name, value);
      state.usedArgs.add(name);
    }
  }

  /** What RUN, COPY and ADD need from the builder. */
  private stepApi(state: StageState): StepApi {
    return {
      req: this.req,
      plan: this.plan,
      state,
      variables: () => this.variables(state),
      argEnvironment: () => this.argEnvironment(state),
      stageImage: (ref: string) => {
        const s = stageByRef(this.plan, ref, state.stage.index);
        if (!s) return undefined;
        const id = this.built.get(s.index);
        if (!id) throw new SkiffError(`internal: stage ${ref} was not built before its use`);
        return id;
      },
      filesystemStep: (key, createdBy, work) => this.filesystemStep(state, key, createdBy, work),
    };
  }

  /** A config step's cache key (see the top of this file): its expanded text holds the build args it uses. */
  private cacheKey(state: StageState, text: string, extra: string): string {
    return sha256(JSON.stringify([state.image.id ?? `scratch:${state.stage.index}:${JSON.stringify(state.image.config.config ?? {})}`, text, [], extra]));
  }

  private async commitConfigStep(state: StageState, i: Instruction, config: BuildContainerConfig, createdBy: string): Promise<void> {
    if (state.squashWork) {
      state.image.config = { ...state.image.config, config, history: [...(state.image.config.history ?? []), historyEntry(nowIso(this.req.timestamp), createdBy, true)] };
      return;
    }
    const key = this.cacheKey(state, createdBy, '');
    if (this.useCache(state, key)) return;
    await this.req.beforeWrite();
    // Under the step's lock, as a RUN: a parallel build of the same Dockerfile must find this image, not make one with another time.
    const lock = this.req.noCache ? undefined : await lockBuildStep(this.req.store.paths, key);
    try {
      if (lock && this.useCache(state, key)) return;
      const next: BuildImageConfig = {
        ...state.image.config,
        created: nowIso(this.req.timestamp),
        config,
        history: [...(state.image.config.history ?? []), historyEntry(nowIso(this.req.timestamp), createdBy, true)],
      };
      state.image = await this.writeStep(state, next, key);
    } finally {
      lock?.release();
    }
    void i;
  }

  /**
   * WORKDIR makes its directory in the image, as BuildKit does: 0755 and its
   * missing parents, owned by the USER in force (by name from the image's
   * /etc/passwd) or root; one that exists is left as it is, and the step
   * writes no layer then. The key holds the user: the owner depends on it.
   */
  private async makeWorkdir(state: StageState, config: BuildContainerConfig, createdBy: string): Promise<void> {
    const user = state.image.config.config?.User ?? '';
    const key = this.cacheKey(state, createdBy, `user:${user}`);
    const dir = config.WorkingDir!;
    state.image.config = { ...state.image.config, config };
    await this.filesystemStep(state, key, createdBy, async (ws) => {
      const owner = user === '' ? undefined : lookupUser(this.req.store, ws.lowerLayers, user, `USER ${user}`);
      for (const w of await ws.makeDirectory(dir, owner)) this.req.progress.warn(w);
    });
  }

  /** A cache hit: the step's image becomes the stage's. */
  private useCache(state: StageState, key: string): boolean {
    if (this.req.noCache || this.req.squash) return false;
    const hit = lookupBuildStep(this.req.store.paths, key);
    if (!hit) return false;
    state.image = { id: hit.id, config: readConfig(this.req.store, hit.id) };
    this.req.progress.cached(hit.id);
    return true;
  }

  private async writeStep(state: StageState, config: BuildImageConfig, key: string | undefined): Promise<StageImage> {
    await this.req.beforeWrite();
    const written = await storeImage(this.req.store, { config: config as ImageConfig, ...(state.image.id ? { parent: state.image.id } : {}) });
    if (key !== undefined && !this.req.noCache) recordBuildStep(this.req.store.paths, key, written.id);
    this.req.progress.committed(written.id);
    const image = { id: written.id, config };
    state.image = image;
    return image;
  }

  /**
   * A step that changes files: cached by `key`, or run under the step's lock
   * by `work` in a fresh workspace, whose upper directory then becomes the
   * layer. With --squash the stage's one workspace collects every step.
   */
  private async filesystemStep(state: StageState, key: string, createdBy: string, work: (ws: Workspace) => Promise<StepWork | void>): Promise<void> {
    const created = nowIso(this.req.timestamp);
    if (this.req.cachedOnly && (this.req.squash || this.req.noCache)) throw new NotFullyCached();
    if (this.req.squash) {
      await this.req.beforeWrite();
      state.squashWork ??= await newWorkspace(this.req.store, state.image.config.rootfs.diff_ids);
      const done = await work(state.squashWork);
      for (const e of done?.exclude ?? []) state.squashExclude.add(e);
      state.image.config = { ...state.image.config, history: [...(state.image.config.history ?? []), historyEntry(created, createdBy, true)] };
      return;
    }
    if (this.useCache(state, key)) return;
    if (this.req.cachedOnly) throw new NotFullyCached();
    await this.req.beforeWrite();
    const lock = this.req.noCache ? undefined : await lockBuildStep(this.req.store.paths, key);
    try {
      // Another build may have made it while this one waited.
      if (lock && this.useCache(state, key)) return;
      const ws = await newWorkspace(this.req.store, state.image.config.rootfs.diff_ids);
      try {
        const done = await work(ws);
        const layer = await this.commitLayer(ws, done?.exclude ?? []);
        const config: BuildImageConfig = {
          ...state.image.config,
          created,
          rootfs: { type: 'layers', diff_ids: [...state.image.config.rootfs.diff_ids, ...(layer.empty ? [] : [layer.diffID])] },
          history: [...(state.image.config.history ?? []), historyEntry(created, createdBy, layer.empty)],
        };
        await this.writeStep(state, config, key);
      } finally {
        ws.remove();
      }
    } finally {
      lock?.release();
    }
  }

  /** The workspace's upper directory as a layer (issue 13's writer): mount points of the step left out. */
  private async commitLayer(ws: Workspace, exclude: string[]) {
    // Loaded when a step runs: a cached build never pays for the layer writer and its compressors.
    const { storeUpperDirLayer } = await import('./layer.js');
    return storeUpperDirLayer({
      store: this.req.store,
      upperdir: ws.upper,
      lowerdirs: ws.lowerdirs(),
      exclude,
      ...(ws.driver === 'vfs' ? { full: true } : {}),
      ...(this.req.timestamp !== undefined ? { timestamp: this.req.timestamp } : {}),
    });
  }

  /** --squash: the stage's workspace becomes one layer, the last history entry its own. */
  private async commitSquashed(state: StageState): Promise<void> {
    const ws = state.squashWork!;
    const { stillMountPoints } = await import('./mounts.js');
    const layer = await this.commitLayer(ws, stillMountPoints(ws.upper, state.squashExclude));
    const history = [...(state.image.config.history ?? [])];
    const lastEntry = history[history.length - 1];
    if (lastEntry && !layer.empty) delete lastEntry.empty_layer;
    const config: BuildImageConfig = {
      ...state.image.config,
      created: nowIso(this.req.timestamp),
      rootfs: { type: 'layers', diff_ids: [...state.image.config.rootfs.diff_ids, ...(layer.empty ? [] : [layer.diffID])] },
      history,
    };
    await this.writeStep(state, config, undefined);
  }
}

export interface StepApi {
  req: BuildRequest;
  plan: StagePlan;
  state: StageState;
  variables(): Variables;
  argEnvironment(): string[];
  /** The image id of an earlier stage named by `ref`, or undefined when `ref` names an image. */
  stageImage(ref: string): string | undefined;
  filesystemStep(key: string, createdBy: string, work: (ws: Workspace) => Promise<StepWork | void>): Promise<void>;
}

export type { StageState, CopySource };

/**
 * A step's working container (workspace.ts, its own lazy bundle with the
 * helper's protocol and the runtime-spec builder): loaded when a step runs,
 * so a cached build never compiles them.
 */
export async function newWorkspace(store: Store, layers: string[]): Promise<Workspace> {
  const { Workspace } = await import('./workspace.js');
  const ws = new Workspace(store, layers, storageDriver(store.paths.root));
  try {
    await ws.prepare();
  } catch (err) {
    ws.remove();
    throw err;
  }
  return ws;
}

/** What a step's work reports: container paths its mounts covered, left out of the layer. */
export interface StepWork {
  exclude?: string[];
}

/**
 * The step's cache key from a StepApi (for run-step.ts and copy.ts). Build
 * args count for RUN (they are its environment); other steps hold the values
 * they use in their expanded text, so an ARG they do not use misses nothing.
 */
export function stepKey(api: StepApi, text: string, extra: string, withArgs = false): string {
  const state = api.state;
  const args = withArgs ? [...state.args].filter(([k]) => state.usedArgs.has(k)).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  return sha256(JSON.stringify([state.image.id ?? `scratch:${state.stage.index}:${JSON.stringify(state.image.config.config ?? {})}`, text, args, extra]));
}

export function shellOf(config: BuildContainerConfig | undefined): string[] {
  return config?.Shell ?? DEFAULT_SHELL;
}

export { nopCreatedBy };

function hostArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
}

/** --platform / FROM --platform: the host's platform only (skiff runs no emulator). */
export function checkPlatform(text: string): void {
  const want = text.split('/');
  if (want[0] === 'linux' && (want[1] === undefined || want[1] === hostArch())) return;
  throw new SkiffError(`platform "${text}" is not this host's (linux/${hostArch()}): skiff builds for the host's platform only`);
}

export { readImageRecord };
