/**
 * tests/support/fixtures.ts for Node (tests/node/run.ts): the same `test`, `expect` and `inPage`, but
 * `inPage` calls the browser-side module's function in this process, on the device Dawn gives it,
 * instead of inside a Chromium page.
 */
export { expect, test } from './playwright.ts';
export type { Closeness } from '../support/fixtures.ts';

const modules = import.meta.glob<Record<string, (...args: unknown[]) => unknown>>('../browser/*.ts');

/** Like the page version: `module` from the repo root, arguments copied as page.evaluate would. */
export async function inPage<T>(_page: null, module: string, fn: string, ...args: unknown[]): Promise<T> {
  const load = modules[module.replace(/^tests\//, '../')];
  if (!load) throw new Error(`no module ${module}`);
  return (await load())[fn]!(...structuredClone(args)) as Promise<T>;
}
