/**
 * Browser side of the peer benchmark: one call trains one peer on one workload and batch size in a
 * fresh page (so each page holds one backend) and returns the figures. Adding an engine is adding
 * an entry to `entries`.
 */
import { measure, type Measurement } from './measure.ts';
import { mnistBatches } from './mnist.ts';
import { benchOurs } from './ours.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import type { BenchResult, MeasureOptions, PeerName, Workload } from './workloads.ts';

/** Distinct real batches the timed loop cycles through (uploaded once, before timing). */
const RING = 8;

export interface PeerJob {
  peer: PeerName;
  workload: Workload;
  batch: number;
  options: MeasureOptions;
  /** tfjs only: time the `optimizer.minimize` loop or `model.fit`. */
  path?: 'minimize' | 'fit';
  /** ours only: the kernels to run (`--kernels`). */
  kernels?: KernelChoice;
}

type Entry = (job: PeerJob, notes: string[]) => Promise<Measurement>;

const tfjs = (backend: 'webgpu' | 'wasm'): Entry => async (job, notes) => {
  const { tfjsTrainer } = await import('./peer-tfjs.ts');
  const batches = await mnistBatches(job.batch, RING);
  const trainer = await tfjsTrainer(backend, job.path ?? 'minimize', job.workload, job.batch, batches, notes);
  try {
    return await measure(trainer, job.batch, job.options);
  } finally {
    trainer.dispose();
  }
};

const entries: Record<PeerName, Entry> = {
  ours: (job) => benchOurs(job.workload, job.batch, job.options, job.kernels),
  jax: async (job) => {
    const { jaxTrainer } = await import('./peer-jax.ts');
    const trainer = await jaxTrainer(job.workload, job.batch, await mnistBatches(job.batch, RING));
    try {
      return await measure(trainer, job.batch, job.options);
    } finally {
      trainer.dispose();
    }
  },
  'tfjs-webgpu': tfjs('webgpu'),
  'tfjs-wasm': tfjs('wasm'),
};

/** An op a peer lacks shows up as one of these messages (tfjs: "Kernel 'X' not registered for backend 'wasm'"). */
const UNSUPPORTED = /not registered|not (yet )?(implemented|supported)|unsupported/i;

export async function runPeer(job: PeerJob): Promise<BenchResult> {
  const base = { peer: job.peer, workload: job.workload, batch: job.batch };
  const notes: string[] = [];
  try {
    const measured = await entries[job.peer](job, notes);
    return { ...base, status: 'ok', ...measured, ...(job.path ? { path: job.path } : {}), notes };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const status = UNSUPPORTED.test(reason) ? 'unsupported' : 'error';
    return { ...base, status, reason: reason.split('\n')[0]!.slice(0, 300), notes };
  }
}
