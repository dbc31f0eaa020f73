/**
 * A/B of kernel variants by the CPU time SwiftShader spends on them, which a loaded machine disturbs far
 * less than wall-clock or timestamp times (see docs/perf/README.md).
 *
 *   npx tsx bench/cpu-ab.ts [--trees .,/tmp/variant] [--cases gather,conv1.forward] [--batches 64,1000]
 *                           [--rounds 11] [--cpu-ms 250]
 *
 * Each tree is a copy of the repository (the first is the baseline), served by its own Vite server into
 * one page of one headless Chromium, so a variant may change shaders and host code alike. A case
 * (bench/cpu-cases.ts) is replayed n times per submit, n chosen once so that a run costs about --cpu-ms;
 * the CPU time of Chromium's GPU process (where SwiftShader's threads run; the sum of its threads'
 * /proc schedstat, in ns rather than utime's 10 ms ticks) is read before and after each run. Trees take
 * turns within every round. Other jobs only ever add CPU time (cache and core contention), so the least
 * time over the rounds is the steadiest figure; the table also gives the median, and the rounds' ratios
 * to the baseline with their spread (an A/A run, the same tree twice, shows the noise). Cases whose
 * kernels count FLOPs also get GFLOP per CPU-second and per wall-clock second, as a % of the `fma` case
 * (bench/roof.wgsl's loop) where the run includes it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumLaunchOptions } from '../cli/chromium.ts';

const { values: args } = parseArgs({
  options: {
    trees: { type: 'string', default: '.' },
    cases: { type: 'string', default: 'gather,conv1.forward,conv1.filter,conv2.forward,conv2.data,conv2.filter' },
    batches: { type: 'string', default: '64,1000' },
    rounds: { type: 'string', default: '11' },
    'cpu-ms': { type: 'string', default: '250' },
  },
});
const trees = args.trees.split(',').map((t) => resolve(t));
const cases = args.cases.split(',').flatMap((name) => args.batches.split(',').map((b) => [name, Number(b)] as [string, number]));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU time of every thread of a process so far, in ms: the first field of each thread's schedstat is ns on the CPU. */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return ns / 1e6;
}

/** The GPU process below the browser launched with `marker` in its command line (not always its child). */
function gpuProcess(marker: string): number {
  const processes = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      return [{ pid: Number(pid), parent, cmdline }];
    } catch {
      return []; // exited meanwhile
    }
  });
  const browser = processes.find((p) => p.cmdline.includes(marker));
  const parents = new Map(processes.map((p) => [p.pid, p.parent]));
  const below = (pid: number): boolean => pid > 1 && (parents.get(pid) === browser?.pid || below(parents.get(pid) ?? 0));
  const gpu = processes.find((p) => p.cmdline.includes('--type=gpu-process') && below(p.pid));
  if (!gpu) throw new Error('found no GPU process of our Chromium');
  return gpu.pid;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(): Promise<void> {
  process.env.WGSL_NN_HEADLESS = '1'; // no watcher or HMR in the trees' vite.config.ts
  const servers: ViteDevServer[] = [];
  const marker = `--cpu-ab=${process.pid}`; // an unknown switch, ignored by Chromium, that names our browser
  const browser = await chromium.launch({ ...chromiumLaunchOptions(), args: [...chromiumLaunchOptions().args, marker], headless: true });
  try {
    const pages: Page[] = [];
    for (const root of trees) {
      // Each tree its own dependency cache: trees made by copying share node_modules through a link.
      const server = await createServer({ root, configFile: `${root}/vite.config.ts`, cacheDir: `${root}/node_modules/.vite-cpu-ab-${servers.length}`, logLevel: 'error', server: { port: 0 } });
      servers.push(await server.listen());
      const page = await browser.newPage();
      page.on('console', (m) => m.type() === 'error' && log(`  [${root}] ${m.text()}`));
      await page.goto(`${server.resolvedUrls!.local[0]}tests/harness.html`);
      pages.push(page);
    }
    const call = (page: Page, fn: string, arg: unknown) =>
      page.evaluate(async ([path, name, param]) => (await import(/* @vite-ignore */ path))[name](param), ['/bench/cpu-cases.ts', fn, arg] as const);
    const gpuPid = gpuProcess(marker);
    /** CPU and wall-clock ms per replay. */
    const timed = async (page: Page, c: [string, number], n: number) => {
      const [cpu, wall] = [cpuMs(gpuPid), performance.now()];
      await call(page, 'runCase', [...c, n]);
      return { cpu: (cpuMs(gpuPid) - cpu) / n, wall: (performance.now() - wall) / n };
    };

    const reps = new Map<string, number>();
    const flops = new Map<string, number>();
    for (const c of cases) {
      for (const page of pages) flops.set(c.join(' b'), await call(page, 'prepareCase', c));
      const once = (await timed(pages[0]!, c, 1)).cpu;
      reps.set(c.join(' b'), Math.max(1, Math.min(1000, Math.round(Number(args['cpu-ms']) / once))));
    }
    const samples = new Map<string, { cpu: number; wall: number }[][]>(cases.map((c) => [c.join(' b'), trees.map(() => [])]));
    const loads: number[] = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      loads.push(loadavg()[0]!);
      for (const c of cases) {
        const key = c.join(' b');
        // Rotate which tree goes first, so that none always follows another.
        const order = pages.map((_, i) => (i + round) % pages.length);
        for (const i of order) samples.get(key)![i]!.push(await timed(pages[i]!, c, reps.get(key)!));
      }
      log(`round ${round + 1} done, load ${loads.at(-1)!.toFixed(1)}`);
    }

    console.log(`load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; CPU ms per replay (and wall-clock ms on the next line), least and median of ${args.rounds} rounds;`);
    console.log(`ratio to ${trees[0]}: of the least, and the median (min–max) of the rounds' ratios`);
    console.log('GFLOP per CPU-second and per wall-clock second at the least time, for cases whose kernels count FLOPs, and as % of the fma case where it ran');
    const roof = (measure: 'cpu' | 'wall') => {
      const fma = [...samples].find(([key]) => key.startsWith('fma b'));
      return fma ? flops.get(fma[0])! / (Math.min(...fma[1][0]!.map((run) => run[measure])) * 1e6) : null;
    };
    for (const [key, perTree] of samples) {
      for (const measure of ['cpu', 'wall'] as const) {
        const cells = perTree.map((runs, i) => {
          const ms = runs.map((run) => run[measure]);
          const gflops = flops.get(key)! / (Math.min(...ms) * 1e6);
          const rate = gflops > 0 ? `, ${gflops.toFixed(2)} GFLOP/s${roof(measure) ? ` = ${((100 * gflops) / roof(measure)!).toFixed(0)}%` : ''}` : '';
          const figures = `${Math.min(...ms).toFixed(2)} / ${median(ms).toFixed(2)} ms${rate}`;
          if (i === 0) return figures;
          const base = perTree[0]!.map((run) => run[measure]);
          const ratios = ms.map((m, r) => m / base[r]!);
          const least = Math.min(...ms) / Math.min(...base);
          return `${figures} ×${least.toFixed(2)}, ×${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
        });
        const name = measure === 'cpu' ? `${key.padEnd(20)} ×${String(reps.get(key)).padEnd(4)}` : `${'  wall'.padEnd(26)}`;
        console.log(`${name} ${cells.join(' | ')}`);
      }
    }
  } finally {
    await browser.close();
    for (const server of servers) await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
