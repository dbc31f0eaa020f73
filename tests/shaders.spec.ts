// Hygiene of shaders/ in Node: a struct or helper function lives in one file, and any other shader that
// needs it includes that file (`#include <name>`) instead of pasting it. Declarations are compared by
// their text, comments and spacing aside, so same-named but different ones (each kernel's Dims) are fine.
import { test as node } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from './support/fixtures.ts';

/** Top-level `struct` and non-entry `fn` declarations of a WGSL file, each as its normalised text. */
function declarations(text: string): string[] {
  const code = text.replace(/\/\/.*$/gm, '');
  const found: string[] = [];
  const start = /^(?:@(?!compute)[^\n]*\n)*(fn|struct)\s+\w+/gm;
  for (const match of code.matchAll(start)) {
    if (/@compute[^\n]*\n$/.test(code.slice(0, match.index))) continue; // an entry point: rungs share their names
    let depth = 0;
    let end = code.indexOf('{', match.index);
    for (; end < code.length; end++) {
      if (code[end] === '{') depth++;
      else if (code[end] === '}' && --depth === 0) break;
    }
    found.push(code.slice(match.index, end + 1).replace(/\s+/g, ' '));
  }
  return found;
}

node('no shader file repeats a struct or helper function another file has', () => {
  const seen = new Map<string, string>();
  const repeats: string[] = [];
  for (const file of readdirSync('shaders').filter((f) => f.endsWith('.wgsl'))) {
    for (const declaration of declarations(readFileSync(`shaders/${file}`, 'utf8'))) {
      const first = seen.get(declaration);
      if (first && first !== file) repeats.push(`${file} repeats ${first}'s ${declaration.slice(0, 60)}…`);
      else seen.set(declaration, file);
    }
  }
  expect(seen.size).toBeGreaterThan(20); // the scan found the declarations
  expect(repeats).toEqual([]);
});
