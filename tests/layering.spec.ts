// The layering of src/, in Node without a browser: a file imports only from its own folder or from a folder
// below it, in the order the README's layout section lists them (lowest first, written only there), and
// never from outside src/ (cli/, demo/, bench/, tests/ sit above all of it).
import { test as node, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
/** Files directly in src/ (errors.ts, yield.ts) are the lowest layer, below every folder. */
const TOP_LEVEL = '*.ts';

/** The layers, lowest first: each `src/<folder>/` (and `src/*.ts`) line of the README's layout block, in order. */
function readmeOrder(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const layout = /^## Layout\n[\s\S]*?^```\n([\s\S]*?)^```/m.exec(readme);
  if (!layout) throw new Error("README.md has no '## Layout' section with a code block");
  return [...layout[1]!.matchAll(/^src\/(\*\.ts|[a-z-]+\/)\s/gm)].map((m) => m[1]!.replace(/\/$/, ''));
}

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return codeFiles(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The layer of a path under src/: its first folder, or TOP_LEVEL for a file directly in src/. */
function layerOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  return parts.length === 1 ? TOP_LEVEL : parts[0]!;
}

/** Every module a file names in `import … from`, `export … from`, `import '…'` or `import('…')`. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'([^']+)'/g)].map((m) => m[1]!);
}

/** One line per import that goes up the order or out of src/. */
function layeringViolations(order: readonly string[]): string[] {
  const rank = new Map(order.map((layer, i) => [layer, i]));
  const problems: string[] = [];
  for (const file of codeFiles(SRC)) {
    const name = relative(ROOT, file);
    const from = layerOf(file);
    if (!rank.has(from)) {
      problems.push(`${name}: src/${from}/ is not in the README's layout order (${order.join(' < ')})`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue; // a package
      const target = resolve(dirname(file), spec);
      if (relative(SRC, target).startsWith('..')) {
        problems.push(`${name} imports ${spec}: src/ never imports from outside it (${relative(ROOT, target)})`);
        continue;
      }
      const to = layerOf(target);
      if (!rank.has(to) || rank.get(to)! > rank.get(from)!) problems.push(`${name} imports ${spec}: ${to} is above ${from} (order: ${order.join(' < ')})`);
    }
  }
  return problems;
}

node('the README lists every folder under src/ in its layering order', () => {
  const order = readmeOrder();
  expect(order[0]).toBe(TOP_LEVEL);
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  expect([...folders].sort()).toEqual(order.slice(1).sort());
});

node('no file under src/ imports from a folder above its own, or from outside src/', () => {
  expect(layeringViolations(readmeOrder())).toEqual([]);
});
