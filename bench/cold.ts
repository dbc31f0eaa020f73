/**
 * Cold start, browser side: the time from a fresh page (a new browser context, so no pipeline cache) to
 * the end of the first training step, for one peer. Everything a user waits for is inside: importing
 * the engine, the device, fetching and uploading MNIST, building the model, creating pipelines, and the
 * first step synced. Each peer imports its engine here, so module loading counts for all alike.
 * `coldKernels` splits our first step per kernel (bench/run.ts --only cold --verbose).
 */
import type { Workload } from './workloads.ts';

export type ColdPeer = 'ours' | 'jax' | 'tfjs-webgpu';
export const COLD_PEERS: readonly ColdPeer[] = ['ours', 'jax', 'tfjs-webgpu'];

export interface ColdResult {
  peer: ColdPeer;
  workload: Workload;
  batch: number;
  status: 'ok' | 'error';
  reason?: string;
  /** From the call in the fresh page to the end of the first training step (synced). */
  coldMs?: number;
  /** Of coldMs: fetching and parsing MNIST (the same IDX files for every peer). */
  dataMs?: number;
  /** Of coldMs: our set-up as the engine reports it (device, pipelines: throughput.setupMs's parts). */
  phases?: Record<string, number>;
  /** The second step, synced, for scale: what a step costs once compiled. */
  secondStepMs?: number;
  /** Performance.now() at the end of the first step: the page's load included. */
  sinceNavigationMs?: number;
  /** The machine's 1-minute load average (set by the runner). */
  load1?: number;
  /** Every round's coldMs with --rounds N (NaN where a round failed); the rest is the median round's. */
  roundsMs?: number[];
}

interface Timed {
  dataMs: number;
  phases?: Record<string, number>;
  step(): Promise<void>;
}

async function coldOurs(workload: Workload, batch: number): Promise<Timed> {
  const { coldStep } = await import('./ours.ts');
  return coldStep(workload, batch);
}

async function coldJax(workload: Workload, batch: number): Promise<Timed> {
  const [{ jaxTrainer }, { mnistBatches }] = await Promise.all([import('./peer-jax.ts'), import('./mnist.ts')]);
  const started = performance.now();
  const batches = await mnistBatches(batch, 2);
  const dataMs = performance.now() - started;
  const trainer = await jaxTrainer(workload, batch, batches);
  return { dataMs, step: async () => { trainer.step(); await trainer.sync(); } };
}

async function coldTfjs(workload: Workload, batch: number): Promise<Timed> {
  const [{ tfjsTrainer }, { mnistBatches }] = await Promise.all([import('./peer-tfjs.ts'), import('./mnist.ts')]);
  const started = performance.now();
  const batches = await mnistBatches(batch, 2);
  const dataMs = performance.now() - started;
  const trainer = await tfjsTrainer('webgpu', 'minimize', workload, batch, batches, []);
  return { dataMs, step: async () => { await trainer.step(); await trainer.sync(); } };
}

const COLD: Record<ColdPeer, (workload: Workload, batch: number) => Promise<Timed>> = { ours: coldOurs, jax: coldJax, 'tfjs-webgpu': coldTfjs };

export async function runCold([peer, workload, batch]: [ColdPeer, Workload, number]): Promise<ColdResult> {
  const base = { peer, workload, batch };
  try {
    const started = performance.now();
    const timed = await COLD[peer](workload, batch);
    await timed.step();
    const end = performance.now();
    await timed.step();
    const secondStepMs = performance.now() - end;
    return { ...base, status: 'ok', coldMs: end - started, dataMs: timed.dataMs, ...(timed.phases ? { phases: timed.phases } : {}), secondStepMs, sinceNavigationMs: end };
  } catch (error) {
    return { ...base, status: 'error', reason: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300) };
  }
}
