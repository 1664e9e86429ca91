// Platforms (os/architecture/variant): the host's, --platform's, and the
// choice of one manifest from an index. Normalised as containerd does
// (aarch64 → arm64, x86_64 → amd64, armhf → arm/v7), with the default
// variants that make "linux/arm64" and "linux/arm64/v8" the same platform
// (arm64 → v8, arm → v7, amd64 → v1). A wanted variant also accepts older
// ones of the same architecture (arm/v7 runs arm/v6; amd64/v3 runs v2 and
// v1), the exact variant first.
import { endianness } from 'node:os';
import { SkiffError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/image-spec.js';

const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };
/** Variants each architecture's newer variants can also run, newest first. */
const VARIANT_ORDER: Record<string, string[]> = {
  arm: ['v8', 'v7', 'v6', 'v5'],
  amd64: ['v4', 'v3', 'v2', 'v1'],
};

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The platform this process runs on, as image indexes name it. */
export function hostPlatform(): Platform {
  const arch = process.arch;
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm': {
      const version = (process.config.variables as Record<string, unknown>)['arm_version'];
      return { os: 'linux', architecture: 'arm', variant: `v${typeof version === 'string' || typeof version === 'number' ? version : '7'}` };
    }
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'ppc64':
      return { os: 'linux', architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

/** "linux/arm64", "linux/arm/v7": os/architecture[/variant]. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new SkiffError(`invalid platform "${text}": expected os/architecture[/variant], e.g. linux/arm64 or linux/arm/v7`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
      architecture = 'amd64';
      break;
    case 'aarch64':
      architecture = 'arm64';
      break;
    case 'i386':
    case 'i686':
      architecture = '386';
      break;
    case 'armhf':
      architecture = 'arm';
      variant ||= 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant ||= 'v6';
      break;
  }
  if (/^\d/.test(variant)) variant = `v${variant}`;
  if (architecture === 'arm64' && (variant === 'v8.0' || variant === '')) variant = 'v8';
  if (variant === '') variant = DEFAULT_VARIANT[architecture] ?? '';
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** How well a candidate fits: 0 = exact, higher = an older compatible variant, undefined = no. */
function fit(want: Platform, have: Platform): number | undefined {
  if (want.os !== have.os || want.architecture !== have.architecture) return undefined;
  if ((want.variant ?? '') === (have.variant ?? '')) return 0;
  const order = VARIANT_ORDER[want.architecture];
  if (order === undefined) return undefined;
  const w = order.indexOf(want.variant ?? '');
  const h = order.indexOf(have.variant ?? '');
  return w !== -1 && h > w ? h - w : undefined;
}

/** The index entry to pull for `want`, or undefined. Entries without a platform never match. */
export function choosePlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const target = normalizePlatform(want);
  let best: { d: Descriptor; score: number } | undefined;
  for (const d of manifests) {
    if (d.platform === undefined) continue;
    const score = fit(target, normalizePlatform(d.platform));
    if (score !== undefined && (best === undefined || score < best.score)) best = { d, score };
  }
  return best?.d;
}

/** "linux/amd64, linux/arm64/v8" — the platforms an index offers, for messages. */
export function listPlatforms(manifests: Descriptor[]): string {
  const names = manifests
    .filter((d) => d.platform !== undefined && d.platform.os !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
  return names.length > 0 ? [...new Set(names)].join(', ') : 'none';
}
