import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumLaunchOptions, chromiumMissing } from './chromium.ts';
import { UsageError } from './args.ts';

/** A Vite dev server on loopback and headless Chromium with WebGPU, for the headless commands. */
export interface BrowserSession {
  page: Page;
  close(): Promise<void>;
}

/** Serves the project, opens `path` in headless Chromium, and checks that WebGPU is there. */
export async function openSession(path: string): Promise<BrowserSession> {
  const missing = chromiumMissing();
  if (missing) throw new UsageError(missing);
  process.env.WGSL_NN_HEADLESS = '1';
  const server: ViteDevServer = await createServer({
    configFile: new URL('../vite.config.ts', import.meta.url).pathname,
    server: { host: '127.0.0.1', port: 0, open: false },
    logLevel: 'error',
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let browser: Browser;
  try {
    browser = await chromium.launch({ ...chromiumLaunchOptions(), headless: true });
  } catch (error) {
    await server.close();
    throw new UsageError(`could not start Chromium: ${(error as Error).message.split('\n')[0]}`);
  }
  const page = await browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') process.stderr.write(`[page] ${message.text()}\n`);
  });
  page.on('pageerror', (error) => process.stderr.write(`[page] ${error.message}\n`));
  await page.goto(`http://127.0.0.1:${port}/${path}`);
  // A page that stopped answering may keep Chromium from closing politely: wait a while, then leave it
  // to Playwright, which kills the browser when Node exits.
  const close = () => Promise.race([
    browser.close().then(() => server.close()),
    new Promise<void>((resolve) => setTimeout(resolve, 15_000).unref()),
  ]);
  const hasGpu = await page.evaluate(() => 'gpu' in navigator);
  if (!hasGpu) {
    await close();
    throw new UsageError('Chromium started but has no WebGPU (navigator.gpu is missing): check the flags in cli/chromium.ts or CHROMIUM_PATH');
  }
  return { page, close };
}
