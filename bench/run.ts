/**
 * `npm run bench`: our training step and epoch against jax-js and TensorFlow.js on the same MNIST
 * workloads, plus the roof of WGSL kernels on the adapter, in headless Chromium (WebGPU through
 * SwiftShader where there is no GPU).
 *
 * Options: `npm run bench -- --help` (USAGE below).
 *
 * --budget caps the seconds of timed steps per measurement (a slower peer gets fewer steps, flagged
 * "capped"); tfjs's model.fit path is timed too when the minimize loop took under --fit-budget.
 *
 * Each peer × workload × batch runs in a fresh browser context, so every page holds one backend. The
 * server sends COOP/COEP headers, so the pages are cross-origin isolated and tfjs-wasm can use threads.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import { kernelsOption, parseKernels, parseNumber, readOptions, runMain, UsageError, type OptionKind } from '../cli/args.ts';
import { chromiumLaunchOptions, chromiumMissing } from '../cli/chromium.ts';
import { prepareOutputFile, writeOrKeep } from '../cli/output.ts';
import { runColdSection, type ColdSummary } from './cold-run.ts';
import type { PeerJob } from './peers.ts';
import { kernelTable, roofTable, workloadTable } from './report.ts';
import { rotation, summarize } from './rounds.ts';
import type { KernelProfile } from './ours.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import { BATCHES, PEER_NAMES, type BenchResult, type MeasureOptions, type PeerName, type PeerSummary, type RoofResult, type Workload } from './workloads.ts';

const USAGE = `npm run bench -- [--only mlp|cnn|cold] [--no-cold] [--peers ${PEER_NAMES.join(',')}] [--batches ${BATCHES.join(',')}]
                 [--steps 20] [--warmup 3] [--budget 60] [--validation-budget 20] [--epoch-budget 60]
                 [--fit-budget 60] [--no-fit]
                 [--no-roof] [--no-profile] [--rounds 1] [--json results/bench.json] [--verbose] [--kernels auto]

--kernels X ${kernelsOption().help.replace(/\n\s+/g, '\n  ')}
  (ours only: the peers run their own kernels)

Every peer is timed per step and per epoch (48,000 shuffled training images, then a validation pass
over 12,000): the epoch is projected from the timed steps and a timed validation pass (its first
batches, scaled up by images, where the whole pass would take over --validation-budget seconds), and
where that projection is at most --epoch-budget seconds a whole epoch is run and timed as well. tfjs-wasm is
timed on a thread per core and on one thread, the faster shown, the other in its note.

--rounds N measures every peer N times, round r starting at peer r mod count (so the order rotates),
and shows each figure as its median with its min–max over the rounds; a ratio to ours is claimed
only where the ranges do not overlap. On a shared machine one measurement can be 1.5× off another.

The cold-start section (alone with --only cold, left out with --no-cold) times ours, jax-js and
tfjs-webgpu from a fresh page, each in a browser of its own, to their first trained step, MLP and CNN at
batch 64, in the same rounds.`;

const OPTIONS = {
  help: { kind: 'flag' }, only: { kind: 'string' }, peers: { kind: 'string' }, batches: { kind: 'string' },
  steps: { kind: 'int' }, warmup: { kind: 'int' }, budget: { kind: 'int' }, 'validation-budget': { kind: 'int' }, 'epoch-budget': { kind: 'int' }, 'fit-budget': { kind: 'int' }, rounds: { kind: 'int' },
  'no-fit': { kind: 'flag' }, 'no-cold': { kind: 'flag' }, 'no-roof': { kind: 'flag' }, 'no-profile': { kind: 'flag' }, json: { kind: 'string' }, verbose: { kind: 'flag' }, kernels: { kind: 'string' },
} satisfies Record<string, { kind: OptionKind }>;

interface Settings {
  help: boolean;
  workloads: Workload[];
  /** Run the cold-start section (bench/cold-run.ts). */
  cold: boolean;
  /** Empty for the roof alone. */
  peers: PeerName[];
  batches: number[];
  options: MeasureOptions;
  fitBudgetS: number;
  rounds: number;
  noFit: boolean;
  noRoof: boolean;
  /** No per-kernel profile of our step (a page of its own, compiling every pipeline again). */
  noProfile: boolean;
  json: string | null;
  verbose: boolean;
  kernels: KernelChoice;
}

/** The bench's options, refused with a UsageError (exit 2, one line) naming the option and what it takes. */
function parseBenchArgs(argv: readonly string[]): Settings {
  const o = readOptions(argv, OPTIONS);
  const count = (name: keyof typeof OPTIONS, fallback: number, min: number) => {
    const value = o.has(name) ? parseNumber(name, o.get(name)!, 'int') : fallback;
    if (value < min) throw new UsageError(`--${name} ${JSON.stringify(o.get(name))} is not allowed: a whole number ≥ ${min}`);
    return value;
  };
  const only = o.get('only');
  if (only !== undefined && only !== 'mlp' && only !== 'cnn' && only !== 'cold') throw new UsageError(`--only ${JSON.stringify(only)} is not allowed: mlp, cnn or cold`);
  const peers = (o.get('peers') ?? PEER_NAMES.join(',')).split(',').map((p) => p.trim()).filter(Boolean) as PeerName[];
  for (const p of peers) if (!PEER_NAMES.includes(p)) throw new UsageError(`--peers: ${JSON.stringify(p)} is not a peer: one of ${PEER_NAMES.join(', ')}`);
  const batchList = o.get('batches') ?? BATCHES.join(',');
  const batches = batchList.split(',').map(Number);
  if (!batches.every((b) => Number.isInteger(b) && b >= 1)) throw new UsageError(`--batches: ${JSON.stringify(batchList)} is not allowed: whole numbers ≥ 1, comma-separated`);
  return {
    help: o.has('help'),
    workloads: only === 'cold' ? [] : only ? [only] : ['mlp', 'cnn'],
    cold: (only === undefined || only === 'cold') && !o.has('no-cold'),
    peers,
    batches,
    options: { warmup: count('warmup', 3, 0), steps: count('steps', 20, 1), budgetS: count('budget', 60, 1), validationBudgetS: count('validation-budget', 20, 0), epochBudgetS: count('epoch-budget', 60, 0) },
    fitBudgetS: count('fit-budget', 60, 0),
    rounds: count('rounds', 1, 1),
    noFit: o.has('no-fit'),
    noRoof: o.has('no-roof') || only === 'cold',
    noProfile: o.has('no-profile'),
    json: o.get('json') ?? null,
    verbose: o.has('verbose'),
    kernels: parseKernels(o.get('kernels')),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Opens `page` (under bench/) in a fresh context and calls `fn(arg)` exported by `module` there. */
async function inFreshPage<T>(browser: Browser, base: string, page: string, module: string, fn: string, arg: unknown, timeoutS: number, verbose: boolean): Promise<T> {
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.on('console', (m) => (verbose || m.type() === 'error') && log(`  [page ${m.type()}] ${m.text()}`));
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

/**
 * inFreshPage in a browser of its own, launched for the call and closed after it: a fresh context shares
 * its browser's GPU process, which may keep shaders another page compiled, so a cold start gets its own.
 */
async function inFreshBrowser<T>(base: string, page: string, module: string, fn: string, arg: unknown, timeoutS: number, verbose: boolean): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ ...chromiumLaunchOptions(), headless: true });
  try {
    return await inFreshPage<T>(browser, base, page, module, fn, arg, timeoutS, verbose);
  } finally {
    await browser.close();
  }
}

async function runJob(browser: Browser, base: string, job: PeerJob, settings: Settings): Promise<BenchResult> {
  const label = `${job.peer}${job.path ? ` (${job.path}${job.wasmThreads ? `, ${job.wasmThreads} thread(s)` : ''})` : ''} ${job.workload} b${job.batch}`;
  log(`… ${label}`);
  const started = Date.now();
  // Warm-up and timed steps are capped by the budgets, but a first step and a validation pass can be slow: allow for them.
  const timeoutS = job.options.budgetS * 3 + job.options.validationBudgetS * 2 + job.options.epochBudgetS * 2 + 900;
  const result = await inFreshPage<BenchResult>(browser, base, 'peers.html', 'peers.ts', 'runPeer', job, timeoutS, settings.verbose).catch(
    (error: Error): BenchResult => ({ peer: job.peer, workload: job.workload, batch: job.batch, status: 'error', reason: error.message }),
  );
  // The machine is shared: keep its load beside each figure.
  result.load1 = loadavg()[0];
  const epoch = result.epoch ? `, ${result.epoch.projectedS.toFixed(1)} s/epoch projected${result.epoch.measuredS !== undefined ? `, ${result.epoch.measuredS.toFixed(1)} run` : ''}` : '';
  const figure = result.msPerStep !== undefined ? `${result.msPerStep.toFixed(1)} ms/step${epoch}` : `${result.status}: ${result.reason}`;
  if (result.wasm) log(`  tfjs-wasm: ${result.wasm.binary} binary, ${result.wasm.threads} thread(s) of ${result.wasm.requested} asked for${result.wasm.whyNotThreaded ? `; not threaded: ${result.wasm.whyNotThreaded}` : ''}`);
  log(`  ${label}: ${figure} (${((Date.now() - started) / 1000).toFixed(0)} s, load ${result.load1!.toFixed(1)})`);
  return result;
}

/**
 * The faster of two timings of one peer as the headline, the other's ms/step (or failure) a note named
 * by `describe` and the other kept whole in `alternatives`.
 */
function faster(a: BenchResult, b: BenchResult, describe: (r: BenchResult) => string): BenchResult {
  const [best, other] = b.status === 'ok' && (a.status !== 'ok' || b.msPerStep! < a.msPerStep!) ? [b, a] : [a, b];
  const figure = other.status === 'ok' ? `${other.msPerStep!.toFixed(1)} ms/step` : `${other.status} ${other.reason ?? ''}`.trim();
  const { alternatives: otherAlternatives = [], ...otherAlone } = other;
  return { ...best, notes: [...(best.notes ?? []), `${describe(other)}: ${figure}`], alternatives: [...(best.alternatives ?? []), otherAlone, ...otherAlternatives] };
}

/**
 * tfjs-wasm on a thread per core and, where that is more than one, on one thread: the faster is the
 * headline. XNNPACK's threads wait for each other at every op, which a busy shared machine can make
 * slower than one thread, so a skeptic would ask for both.
 */
async function runWasmThreads(browser: Browser, base: string, job: PeerJob, settings: Settings): Promise<BenchResult> {
  const cores = availableParallelism();
  const perCore = await runJob(browser, base, { ...job, wasmThreads: cores }, settings);
  if (perCore.status !== 'ok' || cores === 1) return perCore;
  const one = await runJob(browser, base, { ...job, wasmThreads: 1 }, settings);
  return faster(perCore, one, (r) => `on ${r.wasm?.threads ?? '?'} thread(s)`);
}

/** tfjs: the minimize loop always, model.fit too when that is cheap; the faster is the headline, the other a note. */
async function runTfjs(browser: Browser, base: string, job: PeerJob, settings: Settings): Promise<BenchResult> {
  const minimize = { ...job, path: 'minimize' as const };
  const loop = job.peer === 'tfjs-wasm' ? await runWasmThreads(browser, base, minimize, settings) : await runJob(browser, base, minimize, settings);
  const cheap = loop.status === 'ok' && loop.msPerStep! * (job.options.warmup + job.options.steps) < settings.fitBudgetS * 1000;
  if (settings.noFit || !cheap) {
    if (loop.status === 'ok' && !settings.noFit) loop.notes = [...(loop.notes ?? []), 'model.fit not timed (too slow to time twice)'];
    return loop;
  }
  const fit = await runJob(browser, base, { ...job, path: 'fit', ...(loop.wasm ? { wasmThreads: loop.wasm.requested } : {}) }, settings);
  return faster(loop, fit, (r) => (r.path === 'fit' ? 'model.fit' : 'minimize'));
}

/** What `--json FILE` writes: the run's settings, then every figure with every round kept. */
export interface BenchReport {
  /** When the run ended (ISO 8601). */
  date: string;
  chromium: string;
  kernels: KernelChoice;
  options: MeasureOptions;
  rounds: number;
  /** Each round's rotated order of the peers. */
  peerOrder: PeerName[][];
  roof: RoofResult | null;
  cold: ColdSummary[] | null;
  results: PeerSummary[];
  profiles: { workload: Workload; batch: number; kernels: KernelProfile[] }[];
}

async function main(): Promise<number> {
  const settings = parseBenchArgs(process.argv.slice(2));
  if (settings.help) {
    console.log(USAGE);
    return 0;
  }
  const { options, peers } = settings;
  if (settings.json) prepareOutputFile('json', settings.json);
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  // Playwright and Vite load only now: a refused option exits without waiting for them.
  const [{ chromium }, { createServer }] = await Promise.all([import('playwright-core'), import('vite')]);
  const server = await createServer({
    logLevel: 'warn',
    // Its own dependency cache: a dev server or test run in this checkout re-optimizing the shared one
    // mid-run makes the next page's import fail ("Outdated Optimize Dep").
    cacheDir: 'node_modules/.vite-bench',
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
  log(`vite at ${base}, Chromium ${browser.version()}, our kernels ${settings.kernels}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const results: PeerSummary[] = [];
  let roof: RoofResult | null = null;
  const profiles: BenchReport['profiles'] = [];
  let cold: ColdSummary[] | null = null;
  let writeFailed = false;
  try {
    if (!settings.noRoof) {
      roof = await inFreshPage<RoofResult>(browser, base, 'roof.html', 'roof.ts', 'runRoof', null, 600, settings.verbose);
      console.log(`${roofTable(roof)}\n`);
    }
    if (settings.cold) cold = await runColdSection(base, { peers, rounds: settings.rounds, verbose: settings.verbose, open: inFreshBrowser, log });
    for (const workload of settings.workloads) {
      for (const batch of settings.batches) {
        const rounds = new Map<PeerName, BenchResult[]>(peers.map((peer) => [peer, []]));
        for (let round = 0; round < settings.rounds; round++) {
          for (const [turn, peer] of rotation(peers, round).entries()) {
            const job: PeerJob = { peer, workload, batch, options, ...(peer === 'ours' ? { kernels: settings.kernels } : {}) };
            const result = peer.startsWith('tfjs') ? await runTfjs(browser, base, job, settings) : await runJob(browser, base, job, settings);
            rounds.get(peer)!.push({ ...result, round, turn });
          }
        }
        const group = peers.map((peer) => summarize(rounds.get(peer)!));
        results.push(...group);
        console.log(`${workloadTable(group, settings.rounds)}\n`);
        if (peers.includes('ours') && !settings.noProfile) {
          const kernels = await inFreshPage<KernelProfile[]>(browser, base, 'peers.html', 'ours.ts', 'profileOurs', [workload, batch, 10, settings.kernels], 600, settings.verbose);
          profiles.push({ workload, batch, kernels });
          console.log(`${kernelTable(kernels, roof, group.find((r) => r.peer === 'ours')?.msPerStep?.median)}\n`);
        }
      }
    }
  } finally {
    if (settings.json) {
      const peerOrder = Array.from({ length: settings.rounds }, (_, round) => rotation(peers, round));
      const report: BenchReport = { date: new Date().toISOString(), chromium: browser.version(), kernels: settings.kernels, options, rounds: settings.rounds, peerOrder, roof, cold, results, profiles };
      const written = writeOrKeep(settings.json, `${JSON.stringify(report, null, 2)}\n`);
      if (written.failure) console.error(`${written.failure}: the report is in ${written.written}`);
      else log(`wrote ${settings.json}`);
      writeFailed = written.failure !== undefined;
    }
    await browser.close();
    await server.close();
  }
  return writeFailed ? 1 : 0;
}

runMain(main);
