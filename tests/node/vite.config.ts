import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * Bundles the two Node entry points that run on Dawn into .dawn/: run.js (tests/node/run.ts with the kernel
 * specs) and dawn.js (bench/dawn.ts). The shaders are pasted in by import.meta.glob, `webgpu` (Dawn's
 * native module) stays an import, and the specs get the Node versions of Playwright's test and of the
 * page fixture. Self-contained apart from `webgpu`: .dawn/ and that package run on a machine without
 * the rest of node_modules.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: '@playwright/test', replacement: here('./playwright.ts') },
      { find: /^\.\/support\/fixtures\.ts$/, replacement: here('./fixtures.ts') },
    ],
  },
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    rollupOptions: { input: { run: here('./run.ts'), dawn: here('../../bench/dawn.ts') } },
    outDir: here('../../.dawn'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
  },
  logLevel: 'warn',
});
