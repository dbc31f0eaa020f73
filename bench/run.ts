/**
 * `npm run bench`: our training step against jax-js and TensorFlow.js on the same MNIST workloads,
 * plus the device's roof, in headless Chromium (WebGPU through SwiftShader where there is no GPU).
 *
 * Options: `npm run bench -- --help` (USAGE below).
 *
 * --budget caps the seconds of timed steps per measurement (a slower peer gets fewer steps, flagged
 * "capped"); tfjs's model.fit path is timed too when the minimize loop took under --fit-budget.
 *
 * Each peer × workload × batch runs in a fresh browser context, so every page holds one backend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { createServer } from 'vite';
import { chromiumLaunchOptions, chromiumMissing } from '../cli/chromium.ts';
import type { PeerJob } from './peers.ts';
import { kernelTable, roofTable, workloadTable } from './report.ts';
import type { KernelProfile } from './ours.ts';
import { BATCHES, PEER_NAMES, type BenchResult, type PeerName, type RoofResult, type Workload } from './workloads.ts';

const USAGE = `npm run bench -- [--only mlp|cnn] [--peers ${PEER_NAMES.join(',')}] [--batches ${BATCHES.join(',')}]
                 [--steps 20] [--warmup 3] [--budget 240] [--fit-budget 60] [--no-fit] [--no-roof]
                 [--json results/bench.json] [--verbose]`;

/** Bad options end the command with exit 2 and one line naming the option and what it takes. */
function usageError(message: string): never {
  console.error(message);
  process.exit(2);
}

function parseBenchArgs() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        only: { type: 'string' },
        peers: { type: 'string', default: PEER_NAMES.join(',') },
        batches: { type: 'string', default: BATCHES.join(',') },
        steps: { type: 'string', default: '20' },
        warmup: { type: 'string', default: '3' },
        budget: { type: 'string', default: '240' },
        'fit-budget': { type: 'string', default: '60' },
        'no-fit': { type: 'boolean', default: false },
        'no-roof': { type: 'boolean', default: false },
        json: { type: 'string' },
        verbose: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return usageError(`${(error as Error).message.split('\n')[0]}\nusage: ${USAGE}`);
  }
}

/** A whole number ≥ `min` from option `name`. */
function count(name: string, min: number): number {
  const value = Number(args[name as keyof typeof args]);
  if (!Number.isInteger(value) || value < min) usageError(`--${name} ${JSON.stringify(args[name as keyof typeof args])} is not allowed: a whole number ≥ ${min}`);
  return value;
}

const args = parseBenchArgs();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const workloads: Workload[] = args.only ? [args.only as Workload] : ['mlp', 'cnn'];
if (!workloads.every((w) => w === 'mlp' || w === 'cnn')) usageError(`--only ${JSON.stringify(args.only)} is not allowed: mlp or cnn`);
const peers = args.peers.split(',').map((p) => p.trim()).filter(Boolean) as PeerName[]; // '' for the roof alone
for (const p of peers) if (!PEER_NAMES.includes(p)) usageError(`--peers: ${JSON.stringify(p)} is not a peer: one of ${PEER_NAMES.join(', ')}`);
const batches = args.batches.split(',').map(Number);
for (const b of batches) if (!Number.isInteger(b) || b < 1) usageError(`--batches: ${JSON.stringify(args.batches)} is not allowed: whole numbers ≥ 1, comma-separated`);
const options = { warmup: count('warmup', 0), steps: count('steps', 1), budgetS: count('budget', 1) };
const fitBudgetS = count('fit-budget', 0);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Opens `page` (under bench/) in a fresh context and calls `fn(arg)` exported by `module` there. */
async function inFreshPage<T>(browser: Browser, base: string, page: string, module: string, fn: string, arg: unknown, timeoutS: number): Promise<T> {
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.on('console', (m) => (args.verbose || m.type() === 'error') && log(`  [page ${m.type()}] ${m.text()}`));
  tab.on('pageerror', (e) => log(`  [page error] ${e.message}`));
  let timer: NodeJS.Timeout | undefined;
  try {
    await tab.goto(`${base}bench/${page}`);
    const call = tab.evaluate(
      async ([path, name, param]) => (await import(/* @vite-ignore */ path as string))[name as string](param),
      [`/bench/${module}`, fn, arg] as const,
    ) as Promise<T>;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutS} s`)), timeoutS * 1000)));
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
    await context.close();
  }
}

async function runJob(browser: Browser, base: string, job: PeerJob): Promise<BenchResult> {
  const label = `${job.peer}${job.path ? ` (${job.path})` : ''} ${job.workload} b${job.batch}`;
  log(`… ${label}`);
  const started = Date.now();
  // Warm-up and timed steps are capped by the budget, but a first step can be slow: allow for it.
  const timeoutS = options.budgetS * 3 + 600;
  const result = await inFreshPage<BenchResult>(browser, base, 'peers.html', 'peers.ts', 'runPeer', job, timeoutS).catch(
    (error: Error): BenchResult => ({ peer: job.peer, workload: job.workload, batch: job.batch, status: 'error', reason: error.message }),
  );
  // The machine is shared: keep its load beside each figure.
  result.load1 = loadavg()[0];
  const figure = result.msPerStep !== undefined ? `${result.msPerStep.toFixed(1)} ms/step` : `${result.status}: ${result.reason}`;
  log(`  ${label}: ${figure} (${((Date.now() - started) / 1000).toFixed(0)} s, load ${result.load1!.toFixed(1)})`);
  return result;
}

/** tfjs: the minimize loop always, model.fit too when that is cheap; the faster is the headline, the other a note. */
async function runTfjs(browser: Browser, base: string, job: PeerJob): Promise<BenchResult> {
  const loop = await runJob(browser, base, { ...job, path: 'minimize' });
  const cheap = loop.status === 'ok' && loop.msPerStep! * (options.warmup + options.steps) < fitBudgetS * 1000;
  if (args['no-fit'] || !cheap) {
    if (loop.status === 'ok' && !args['no-fit']) loop.notes = [...(loop.notes ?? []), 'model.fit not timed (too slow to time twice)'];
    return loop;
  }
  const fit = await runJob(browser, base, { ...job, path: 'fit' });
  if (fit.status !== 'ok') return { ...loop, notes: [...(loop.notes ?? []), `model.fit: ${fit.status} ${fit.reason ?? ''}`.trim()] };
  const [best, other] = fit.msPerStep! < loop.msPerStep! ? [fit, loop] : [loop, fit];
  return { ...best, notes: [...(best.notes ?? []), `${other.path}: ${other.msPerStep!.toFixed(1)} ms/step`] };
}

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const server = await createServer({
    logLevel: 'warn',
    // No file watching or HMR: others editing the tree must not reload a page mid-measurement.
    // Cross-origin isolation lets tfjs-wasm use its threaded build (SharedArrayBuffer).
    server: {
      host: '127.0.0.1', port: 0, strictPort: false, open: false, hmr: false, watch: null,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
    // Pre-bundle exactly the peers, up front: a dependency discovered mid-run makes Vite re-optimize
    // and fail the page's next dynamic import ("Outdated Optimize Dep").
    optimizeDeps: {
      noDiscovery: true,
      include: ['@jax-js/jax', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'],
    },
  });
  await server.listen();
  const base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('vite did not report a local URL');
  const browser = await chromium.launch({ ...chromiumLaunchOptions(), headless: true });
  log(`vite at ${base}, Chromium ${browser.version()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const results: BenchResult[] = [];
  let roof: RoofResult | null = null;
  const profiles: { workload: Workload; batch: number; kernels: KernelProfile[] }[] = [];
  try {
    if (!args['no-roof']) {
      roof = await inFreshPage<RoofResult>(browser, base, 'roof.html', 'roof.ts', 'runRoof', null, 600);
      console.log(`${roofTable(roof)}\n`);
    }
    for (const workload of workloads) {
      for (const batch of batches) {
        const group: BenchResult[] = [];
        for (const peer of peers) {
          const job: PeerJob = { peer, workload, batch, options };
          group.push(peer.startsWith('tfjs') ? await runTfjs(browser, base, job) : await runJob(browser, base, job));
        }
        results.push(...group);
        console.log(`${workloadTable(group)}\n`);
        if (peers.includes('ours')) {
          const kernels = await inFreshPage<KernelProfile[]>(browser, base, 'peers.html', 'ours.ts', 'profileOurs', [workload, batch], 600);
          profiles.push({ workload, batch, kernels });
          console.log(`${kernelTable(kernels, roof)}\n`);
        }
      }
    }
  } finally {
    if (args.json) {
      const report = { date: new Date().toISOString(), chromium: browser.version(), options, roof, results, profiles };
      mkdirSync(dirname(args.json), { recursive: true });
      writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${args.json}`);
    }
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
