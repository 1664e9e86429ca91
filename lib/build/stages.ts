// A Dockerfile's stages and build arguments: which stages the target needs
// (BuildKit builds only those), the ARGs before the first FROM, and the
// values --build-arg gives them.
import { SkiffError } from '../errors.js';
import { goArch } from '../host/system.js';
import { processWord } from '../oci/shell-words.js';
import type { Dockerfile, Instruction } from './dockerfile.js';
import { keyValues } from './image-config.js';

export interface Stage {
  index: number;
  /** `AS name`, lower case (stage names are case-insensitive). */
  name?: string;
  from: Instruction;
  /** What follows FROM, up to the next FROM. */
  instructions: Instruction[];
}

export interface StagePlan {
  globalArgs: Instruction[];
  stages: Stage[];
  /** The stage the build ends with (--target, or the last). */
  target: Stage;
}

/** ARGs that need no declaration to be passed with --build-arg, and stay out of the history (Docker's). */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** BuildKit's automatic platform ARGs (the host's platform: skiff builds for it only). */
export function platformArgs(): Map<string, string> {
  const arch = goArch();
  const platform = `linux/${arch}`;
  return new Map([
    ['TARGETPLATFORM', platform], ['TARGETOS', 'linux'], ['TARGETARCH', arch], ['TARGETVARIANT', ''],
    ['BUILDPLATFORM', platform], ['BUILDOS', 'linux'], ['BUILDARCH', arch], ['BUILDVARIANT', ''],
  ]);
}

export function planStages(df: Dockerfile, target: string | undefined): StagePlan {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const i of df.instructions) {
    if (i.keyword === 'FROM') {
      const words = i.text.trim().split(/\s+/);
      const name = words.length === 3 ? words[2]!.toLowerCase() : undefined;
      if (name !== undefined && stages.some((s) => s.name === name)) {
        throw new SkiffError(`${df.file}:${i.line}:${i.column}: duplicate stage name "${name}"`);
      }
      stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: i, instructions: [] });
    } else if (stages.length === 0) globalArgs.push(i);
    else stages[stages.length - 1]!.instructions.push(i);
  }
  let chosen = stages[stages.length - 1]!;
  if (target !== undefined) {
    const found = stages.find((s) => s.name === target.toLowerCase());
    if (!found) throw new SkiffError(`target stage "${target}" could not be found in ${df.file}`);
    chosen = found;
  }
  return { globalArgs, stages, target: chosen };
}

/** A stage named by FROM, COPY --from or a mount's from=: by name or by index; undefined when it is an image. */
export function stageByRef(plan: StagePlan, ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = plan.stages.find((s) => s.name === lower && s.index < before);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n >= before) throw new SkiffError(`stage ${n} is not an earlier stage: a stage can only use the ones before it`);
    return plan.stages[n];
  }
  return undefined;
}

/** The global ARGs' values: defaults, overridden by --build-arg; usable in FROM lines. */
export function globalArgValues(plan: StagePlan, buildArgs: ReadonlyMap<string, string>, escape: string): Map<string, string> {
  const values = new Map<string, string>(platformArgs());
  for (const i of plan.globalArgs) {
    if (i.keyword !== 'ARG') continue;
    for (const [name, def] of keyValues(i, values, escape, false)) {
      const given = buildArgs.get(name);
      if (given !== undefined) values.set(name, given);
      else if (def !== undefined) values.set(name, def);
    }
  }
  return values;
}

/** FROM's image text, expanded with the global ARGs (the only ones in scope there). */
export function fromImage(stage: Stage, globals: ReadonlyMap<string, string>, escape: string): string {
  const word = stage.from.text.trim().split(/\s+/)[0]!;
  const image = processWord(word, globals, escape);
  if (image === '') throw new SkiffError(`FROM ${word}: the image name is empty after expanding its variables (give a --build-arg or a default)`);
  return image;
}
