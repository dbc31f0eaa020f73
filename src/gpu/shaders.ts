import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

/**
 * Every `.wgsl` file in `shaders/`, as text. Kernels stay plain WGSL files a reader can open; the only
 * specialisation is `${NAME}` placeholders filled from a defines object (see `specialise`).
 */
let cached: Record<string, string> | null = null;

/** Read lazily so that Node code (the CLI validating shapes) can import layer modules without Vite. */
function sources(): Record<string, string> {
  cached ??= import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  return cached;
}

export type Defines = Record<string, number | boolean | string>;

/** The raw text of `shaders/<name>.wgsl`. */
export function shaderSource(name: string): string {
  const text = sources()[`../../shaders/${name}.wgsl`];
  if (text === undefined) throw new Error(`no shader shaders/${name}.wgsl`);
  return text;
}

/** Names of every shader file, for the kernel view. */
export function shaderNames(): string[] {
  return Object.keys(sources()).map((path) => path.replace(/^.*\/(\w+)\.wgsl$/, '$1'));
}

/**
 * `shaders/<name>.wgsl` with each `#include <other>` line replaced by that file, itself expanded: each file
 * is pasted once, at its first include, so that included files may include what they need.
 */
export function expandIncludes(name: string, pasted = new Set<string>([name])): string {
  return shaderSource(name).replace(/^#include (\w+)$/gm, (_, included: string) => {
    if (pasted.has(included)) return '';
    pasted.add(included);
    return expandIncludes(included, pasted);
  });
}

/**
 * The one place WGSL is specialised: paste each `#include <name>` line's file (expandIncludes: shared
 * functions such as shaders/activate.wgsl), split the text at each `${NAME}` and hand the pieces to
 * wgsl-preprocessor's tag, which resolves `#if ${FLAG}` blocks and pastes the other values.
 * Numbers are pasted as written (`const TILE: u32 = ${TILE}u;`); a missing define is an error.
 */
export function specialise(name: string, defines: Defines): string {
  const text = expandIncludes(name);
  const pieces: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$\{(\w+)\}/g)) {
    const key = match[1]!;
    if (!(key in defines)) throw new Error(`shaders/${name}.wgsl needs define ${key}`);
    pieces.push(text.slice(last, match.index));
    values.push(defines[key]);
    last = match.index! + match[0].length;
  }
  pieces.push(text.slice(last));
  return wgsl(pieces, ...values);
}
