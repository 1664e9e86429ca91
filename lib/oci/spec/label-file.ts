// --label-file (Docker's and Podman's): KEY=VALUE lines, blank lines and
// lines starting with # skipped; its labels come before --label's, so a
// --label of the same key wins.
import { readFileSync } from 'node:fs';
import { SkiffError, errnoCode } from '../../errors.js';

export function readLabelFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    throw new SkiffError(`cannot read label file ${file}: ${why}`);
  }
  if (text.includes('\0')) throw new SkiffError(`label file ${file} contains a NUL byte`);
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

export function readLabelFiles(files: string[]): string[] {
  return files.flatMap((f) => readLabelFile(f));
}
