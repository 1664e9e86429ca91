// Parts of skiff's code that only some runs of a command take, named for
// V8's code cache (lib/code-cache.ts). A bundle's cache holds the functions
// that the run which wrote it had compiled, so a later run that takes a part
// the writer did not (the default network after a first `--network none`
// run) compiled that part's functions again at every start. A run marks each
// such part as it enters it; at its exit the caches of its bundles that were
// written without that part are written again, with it: once per bundle and
// part. The mark is a bit on a registered symbol of the process, because
// the loader (dist/code-cache.cjs) and the command's bundle are separate
// files, each with its own copy of this module.

/** The parts, as the bits of the mask a cache file records. */
export const CODE_PARTS = {
  /** A private network's planning: containers.conf's default, pasta's and slirp4netns's plan, the published ports. */
  privateNetwork: 1,
  /** -p/-P: the published ports' parsing, their check and pick, skiff-forward's plan and its report. */
  publishedPorts: 2,
  /** A container started under skiff's monitor (run -d, start): its start, events and wait for the monitor's report. */
  monitor: 4,
  /** User-defined networks (--network NAME): the networks' records, the addresses, the holder and the bridges. */
  userNetworks: 8,
  /** Bind mounts (-v HOST-PATH:…, --mount type=bind): their parsing, the sources' checks, the mounts' options. */
  bindMounts: 16,
  /** Volumes (-v NAME:…, --mount type=volume, an image's VOLUMEs): their records and mounts. */
  volumes: 32,
} as const;

export type CodePart = keyof typeof CODE_PARTS;

const USED = Symbol.for('skiff.codeParts');

type Marked = { [USED]?: number };

/** This run takes `part`. */
export function useCodePart(part: CodePart): void {
  const g = globalThis as Marked;
  g[USED] = (g[USED] ?? 0) | CODE_PARTS[part];
}

/** The parts this process has taken so far, as a mask. */
export function usedCodeParts(): number {
  return (globalThis as Marked)[USED] ?? 0;
}
