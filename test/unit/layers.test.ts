import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * The layers of ARCHITECTURE.md, lowest first. A folder may import only folders of a lower layer (and
 * itself): the ground imports nothing above it, stages never import the assembly, and two stages of one
 * layer never import each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['model'],
  ['component'],
  ['auth'],
  ['otlp', 'normalize'],
  ['exporters', 'receivers'],
  ['assessments'],
  ['query'],
  ['evaluate', 'api'],
  ['bus'],
  ['config'],
  ['service'],
  ['cli'],
];
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const topFolder = (file: string): string => relative(SRC, file).split('/')[0] ?? '';

/** Every relative import of src/, as [importing file, imported file], both relative to src/. */
function imports(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      out.push([relative(SRC, file), relative(SRC, resolve(dirname(file), m[1] as string))]);
    }
  }
  return out;
}

describe('layering of src/', () => {
  it('names every top-level folder in one layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !rank.has(f))).toEqual([]);
  });

  it('has no import from a folder to one of its own layer or above', () => {
    const all = imports();
    expect(all.length).toBeGreaterThan(100);
    const against = all
      .filter(([from, to]) => {
        const a = topFolder(join(SRC, from));
        const b = topFolder(join(SRC, to));
        return a !== b && (rank.get(b) ?? Number.POSITIVE_INFINITY) >= (rank.get(a) ?? Number.NEGATIVE_INFINITY);
      })
      .map(([from, to]) => `${from} -> ${to}`);
    expect(against).toEqual([]);
  });
});
