// Where skiff is installed. Set once by the entry point (dist/main.js sits one
// level below the package root; bundled chunks sit deeper, so they cannot use
// their own import.meta.url).
let root: string | undefined;

export function setInstallRoot(dir: string): void {
  root = dir;
}

export function installRoot(): string {
  if (root === undefined) throw new Error('install root not set');
  return root;
}
