// design.md decision 15: each lib/ folder imports only folders below it, in
// the order of the map in docs/how-it-works.md ("Where things live"), which
// this test reads: the map a reader sees is the rule that is checked. Every
// import counts: static, `import type`, `export … from` and dynamic import().
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const lib = path.join(root, 'lib');
const BASE = '(lib)';

/** The folders of the map, bottom first: lines of its code block that start with "(lib)" or "name/". */
function documentedOrder(): string[] {
  const doc = readFileSync(path.join(root, 'docs/how-it-works.md'), 'utf8');
  const section = /^## Where things live\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(doc)?.[1] ?? '';
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => /^(\(lib\)|[a-z][a-z0-9-]*\/)\s/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
    .map((name) => name.replace(/\/$/, ''));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [file] : [];
  });
}

/** lib/x/y.ts -> "x"; lib/y.ts -> "(lib)". */
function folderOf(file: string): string {
  const parts = path.relative(lib, file).split(path.sep);
  return parts.length > 1 ? parts[0]! : BASE;
}

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

/** Every import of one lib/ folder from another (a file's own folder does not count). */
function folderImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(lib)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(`${lib}${path.sep}`)) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ from, to, file: path.relative(root, file), specifier });
    }
  }
  return edges;
}

const order = documentedOrder();
const edges = folderImports();

describe('lib/ layering', () => {
  it('has a documented order: the map in docs/how-it-works.md, base first, each folder once', () => {
    expect(order[0]).toBe(BASE);
    expect(order.length).toBeGreaterThan(5);
    expect(new Set(order).size).toBe(order.length);
  });

  it('places every lib/ folder in the documented order', () => {
    const folders = readdirSync(lib).filter((name) => statSync(path.join(lib, name)).isDirectory());
    const unplaced = folders.filter((f) => !order.includes(f));
    expect(unplaced, 'lib/ folders missing from the map in docs/how-it-works.md ("Where things live")').toEqual([]);
  });

  it('imports only downward: no folder imports one above it', () => {
    const upward = edges
      .filter((e) => order.indexOf(e.to) > order.indexOf(e.from))
      .map((e) => `${e.file} imports ${e.specifier}: ${e.from}/ may not import ${e.to}/, which is above it (pass it in from the caller instead)`);
    expect(upward).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const next = new Map<string, Set<string>>();
    for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
      if (from === to) return true;
      if (seen.has(from)) return false;
      seen.add(from);
      return [...(next.get(from) ?? [])].some((n) => reaches(n, to, seen));
    };
    const cyclic = edges.filter((e) => reaches(e.to, e.from)).map((e) => `${e.file} (${e.from}/ -> ${e.to}/) closes a cycle`);
    expect([...new Set(cyclic)]).toEqual([]);
  });
});
