// --label-file (Docker's and Podman's): KEY=VALUE lines, blank lines and
// lines starting with # skipped; its labels come before --label's, so a
// --label of the same key wins.
import { SkiffError, readUserFile } from '../../errors.js';

export function readLabelFile(file: string): string[] {
  const text = readUserFile(file, 'label file');
  if (text.includes('\0')) throw new SkiffError(`label file ${file} contains a NUL byte`);
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

export function readLabelFiles(files: string[]): string[] {
  return files.flatMap((f) => readLabelFile(f));
}
