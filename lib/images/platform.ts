// --platform os/arch[/variant], checked before any work (and before the
// re-exec into the user namespace), so a typo costs nothing.
import { SkiffError } from '../errors.js';
import type { Platform } from '../oci/image-spec.js';

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  const valid = parts.length >= 2 && parts.length <= 3 && parts.every((p) => /^[a-z0-9_.-]+$/.test(p));
  if (!valid) throw new SkiffError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7`);
  const platform: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2]) platform.variant = parts[2];
  return platform;
}
