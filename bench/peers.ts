/**
 * Browser side of the peer benchmark: one call trains one peer on one workload and batch size in a
 * fresh page (so each page holds one backend) and returns the figures: ms per step, then seconds per
 * epoch. Adding an engine is adding an entry to `entries`.
 */
import { measure, measureEpoch, type StepTrainer } from './measure.ts';
import { BatchSource, loadEpochData } from './mnist.ts';
import { oursTrainer } from './ours.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import type { BenchResult, MeasureOptions, PeerName, WasmThreads, Workload } from './workloads.ts';

export interface PeerJob {
  peer: PeerName;
  workload: Workload;
  batch: number;
  options: MeasureOptions;
  /** tfjs only: time the `optimizer.minimize` loop or `model.fit`. */
  path?: 'minimize' | 'fit';
  /** ours only: the kernels to run (`--kernels`). */
  kernels?: KernelChoice;
  /** tfjs-wasm only: the threads to ask for (setThreadsCount); one per logical core unless given. */
  wasmThreads?: number;
}

/** What a page learns about a peer besides its times. */
export interface Findings {
  notes: string[];
  wasm?: WasmThreads;
}

type Entry = (job: PeerJob, findings: Findings) => Promise<StepTrainer>;

const source = async (batch: number) => new BatchSource(await loadEpochData(), batch);

const tfjs = (backend: 'webgpu' | 'wasm'): Entry => async (job, findings) => {
  const { tfjsTrainer } = await import('./peer-tfjs.ts');
  return tfjsTrainer(backend, job.path ?? 'minimize', job.workload, await source(job.batch), findings, job.wasmThreads ?? navigator.hardwareConcurrency);
};

const entries: Record<PeerName, Entry> = {
  ours: (job) => oursTrainer(job.workload, job.batch, job.kernels),
  jax: async (job) => {
    const { jaxTrainer } = await import('./peer-jax.ts');
    return jaxTrainer(job.workload, await source(job.batch));
  },
  'tfjs-webgpu': tfjs('webgpu'),
  'tfjs-wasm': tfjs('wasm'),
};

/** An op a peer lacks shows up as one of these messages (tfjs: "Kernel 'X' not registered for backend 'wasm'"). */
const UNSUPPORTED = /not registered|not (yet )?(implemented|supported)|unsupported/i;

export async function runPeer(job: PeerJob): Promise<BenchResult> {
  const base = { peer: job.peer, workload: job.workload, batch: job.batch };
  const findings: Findings = { notes: [] };
  let trainer: StepTrainer | null = null;
  try {
    trainer = await entries[job.peer](job, findings);
    const measured = await measure(trainer, job.batch, job.options);
    const epoch = await measureEpoch(trainer, measured.msPerStep!, job.options);
    return { ...base, status: 'ok', ...measured, epoch, ...(job.path ? { path: job.path } : {}), ...findings };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const status = UNSUPPORTED.test(reason) ? 'unsupported' : 'error';
    return { ...base, status, reason: reason.split('\n')[0]!.slice(0, 300), ...findings };
  } finally {
    trainer?.dispose();
  }
}
