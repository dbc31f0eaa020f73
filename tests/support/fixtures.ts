import { test as base, expect, type Page } from '@playwright/test';

/**
 * `gpuPage`: one harness page per worker, so the WebGPU device and compiled pipelines are reused
 * across the tests of a file. Console errors from the page fail the test that caused them.
 */
export const test = base.extend<{ pageErrors: string[] }, { gpuPage: Page }>({
  gpuPage: [
    async ({ browser }, use) => {
      const page = await browser.newPage();
      await page.goto('/tests/harness.html');
      await use(page);
      await page.close();
    },
    { scope: 'worker' },
  ],
  pageErrors: [
    async ({ gpuPage }, use) => {
      const errors: string[] = [];
      const onConsole = (m: { type(): string; text(): string }) => {
        if (m.type() === 'error') errors.push(m.text());
      };
      const onError = (e: Error) => errors.push(e.message);
      gpuPage.on('console', onConsole);
      gpuPage.on('pageerror', onError);
      await use(errors);
      gpuPage.off('console', onConsole);
      gpuPage.off('pageerror', onError);
      expect(errors, 'errors printed by the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Calls `fn(...args)` exported by a browser-side module (path from the repo root) inside the harness page. */
export async function inPage<T>(page: Page, module: string, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    async ([path, name, params]) => {
      const mod = await import(/* @vite-ignore */ path as string);
      return mod[name as string](...(params as unknown[]));
    },
    [`/${module}`, fn, args] as const,
  ) as Promise<T>;
}

/** A closeness report produced by tests/browser/util.ts `compare`. */
export interface Closeness {
  ok: boolean;
  message: string;
  maxAbs: number;
}
