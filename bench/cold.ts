/**
 * Cold start, browser side: from a call in a fresh page (in a browser launched for it, so no pipeline cache) to
 * the end of the first training step, for one peer. Inside: importing the engine, its device, building
 * the model, creating its pipelines, the first step synced. Loading MNIST is timed apart and left out
 * (each peer reads the same IDX files in its own form); ours counts the upload to the GPU, the peers
 * their per-step upload. Ours is the trainer itself (`train`, stopped after its second step), so the
 * figure is what a user of `npm run train` or the demo waits for.
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
  /** From the call to the end of the first training step (synced), less `dataMs`. */
  coldMs?: number;
  /** Loading MNIST (fetch and parse), not in coldMs. */
  dataMs?: number;
  /** Of coldMs, ours only: waiting for the first step's pipelines (throughput.compileMs) and the steps run on rung 0 before the switch. */
  compileMs?: number;
  quickSteps?: number;
  /** The second step, synced, for scale: what a step costs once compiled. */
  secondStepMs?: number;
  /** Set by the runner: which round and turn, and the machine's 1-minute load average. */
  round?: number;
  turn?: number;
  load1?: number;
}

/** A peer's run up to its second step: when data was loaded, when each of the two steps ended. */
interface Timeline {
  dataMs: number;
  firstDone: number;
  secondDone: number;
  compileMs?: number;
  quickSteps?: number;
}

async function coldOurs(workload: Workload, batch: number): Promise<Timeline> {
  const [{ Gpu }, { fetchFromServer, loadMnist }, { uploadMnist }, { train }, { workloadConfig }] = await Promise.all([
    import('../src/gpu/gpu.ts'), import('../src/data/mnist.ts'), import('../src/engine/device-data.ts'), import('../src/train/trainer.ts'), import('./ours.ts'),
  ]);
  const dataStarted = performance.now();
  const mnist = await loadMnist(fetchFromServer('/mnist/'));
  const dataMs = performance.now() - dataStarted;
  const gpu = await Gpu.create();
  const data = uploadMnist(gpu, mnist);
  const done: number[] = [];
  // A progress report per step; stop once two steps are done.
  const config = { ...workloadConfig(workload, batch), logEvery: 1, epochs: 1 };
  const outcome = await train(gpu, data, mnist, config, { onProgress: () => void done.push(performance.now()), shouldContinue: () => done.length < 2 });
  const { compileMs, quickSteps } = outcome.result.throughput;
  outcome.release();
  gpu.destroy();
  if (done.length < 2) throw new Error(`the run ended after ${done.length} steps: ${outcome.result.interrupted ?? 'no reason given'}`);
  return { dataMs, firstDone: done[0]!, secondDone: done[1]!, compileMs, quickSteps };
}

async function coldPeer(peer: 'jax' | 'tfjs-webgpu', workload: Workload, batch: number): Promise<Timeline> {
  const { BatchSource, loadEpochData } = await import('./mnist.ts');
  const dataStarted = performance.now();
  const source = new BatchSource(await loadEpochData(), batch);
  const dataMs = performance.now() - dataStarted;
  const trainer = peer === 'jax'
    ? await (await import('./peer-jax.ts')).jaxTrainer(workload, source)
    : await (await import('./peer-tfjs.ts')).tfjsTrainer('webgpu', 'minimize', workload, source, { notes: [] }, 1);
  const step = async () => {
    await trainer.step();
    await trainer.sync();
    return performance.now();
  };
  const firstDone = await step();
  const secondDone = await step();
  trainer.dispose();
  return { dataMs, firstDone, secondDone };
}

export async function runCold([peer, workload, batch]: [ColdPeer, Workload, number]): Promise<ColdResult> {
  const base = { peer, workload, batch };
  try {
    const started = performance.now();
    const t = peer === 'ours' ? await coldOurs(workload, batch) : await coldPeer(peer, workload, batch);
    const extra = t.compileMs !== undefined ? { compileMs: t.compileMs, quickSteps: t.quickSteps } : {};
    return { ...base, status: 'ok', coldMs: t.firstDone - started - t.dataMs, dataMs: t.dataMs, secondStepMs: t.secondDone - t.firstDone, ...extra };
  } catch (error) {
    return { ...base, status: 'error', reason: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300) };
  }
}
