import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './cli/chromium.ts';

const port = Number(process.env.TEST_PORT ?? 5183);

/**
 * One runner for everything: pure-TypeScript tests run in Node; GPU tests drive headless Chromium
 * with WebGPU (SwiftShader on machines without a GPU) against the Vite dev server.
 */
export default defineConfig({
  testDir: 'tests',
  testMatch: '**/*.spec.ts',
  timeout: 180_000,
  // SwiftShader is the GPU here and it uses every core: more workers only make each test slower.
  workers: 1,
  fullyParallel: false,
  reporter: [['list'], ['./tests/support/summary-reporter.ts']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: chromiumLaunchOptions(),
  },
  webServer: {
    command: `npx vite --port ${port} --strictPort --host 127.0.0.1 --open false`,
    url: `http://127.0.0.1:${port}/tests/harness.html`,
    env: { WGSL_NN_HEADLESS: '1' },
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
