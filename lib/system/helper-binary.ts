// Whether the C helper is built, without speaking to it (only
// lib/namespaces/helper does that).
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expectedHelperPath } from '../namespaces/helper.js';
import { installRoot } from '../paths.js';

export interface HelperBinary {
  path: string;
  /** Set by $SKIFF_HELPER rather than the install. */
  fromEnv: boolean;
  exists: boolean;
  executable: boolean;
  /** A source file in helpers-c/src is newer than the binary (a checkout that was not rebuilt). */
  stale: boolean;
  /** The package root, where the build runs. */
  installRoot: string;
}

export function helperBinary(): HelperBinary {
  const root = installRoot();
  const { path: file, fromEnv } = expectedHelperPath();
  let mtime: number | undefined;
  try {
    const st = statSync(file);
    mtime = st.isFile() ? st.mtimeMs : undefined;
  } catch {
    // not built
  }
  let executable = false;
  try {
    accessSync(file, constants.X_OK);
    executable = mtime !== undefined;
  } catch {
    // not executable
  }
  let stale = false;
  if (mtime !== undefined && !fromEnv) {
    const src = path.join(root, 'helpers-c', 'src');
    try {
      stale = readdirSync(src).some((name) => statSync(path.join(src, name)).mtimeMs > mtime!);
    } catch {
      // an installed package may ship no sources
    }
  }
  return { path: file, fromEnv, exists: mtime !== undefined, executable, stale, installRoot: root };
}
