/** Browser side of tests/cold-start.spec.ts: how a run creates its pipelines, and its quick start. */
import { fetchFromServer, loadMnist } from '../../src/data/mnist.ts';
import { Gpu } from '../../src/gpu/gpu.ts';
import { presetConfig } from '../../src/presets/index.ts';
import { uploadMnist } from '../../src/engine/device-data.ts';
import type { RunResult } from '../../src/train/result.ts';
import { train } from '../../src/train/trainer.ts';

export interface QuickStartRun {
  /** createComputePipeline calls during train(): pipelines made synchronously. */
  syncPipelines: number;
  /** createComputePipelineAsync calls before the first submit, and during the whole run. */
  asyncBeforeFirstSubmit: number;
  /** createComputePipelineAsync calls made right after the first submit, while its step runs. */
  asyncBesideFirstStep: number;
  asyncTotal: number;
  throughput: RunResult['throughput'];
  steps: number;
  history: unknown[];
  weights: number[][];
}

/** A small MLP trained on a fresh device (no pipeline cached), counting how its pipelines are made. */
export async function quickStartRun(): Promise<QuickStartRun> {
  const mnist = await loadMnist(fetchFromServer('/mnist/'));
  const gpu = await Gpu.create();
  try {
    const data = uploadMnist(gpu, mnist);
    const device = gpu.device;
    const counts = { sync: 0, async: 0, atFirstSubmit: -1, besideFirstStep: -1 };
    const { createComputePipeline, createComputePipelineAsync } = device;
    const submit = device.queue.submit;
    device.createComputePipeline = (d) => (counts.sync++, createComputePipeline.call(device, d));
    device.createComputePipelineAsync = (d) => (counts.async++, createComputePipelineAsync.call(device, d));
    device.queue.submit = (buffers) => {
      if (counts.atFirstSubmit < 0 && counts.async + counts.sync > 0) {
        counts.atFirstSubmit = counts.async;
        // A microtask runs before the step can be done (that takes a task): any compile asked for by then runs beside the first step.
        queueMicrotask(() => (counts.besideFirstStep = counts.async - counts.atFirstSubmit));
      }
      return submit.call(device.queue, buffers);
    };
    const config = presetConfig('custom', { hidden: [32], batchSize: 100, trainLimit: 3000, valFraction: 0.2, epochs: 2, lr: 0.003 });
    const outcome = await train(gpu, data, mnist, config);
    const { result } = outcome;
    const weights = [...(await outcome.model.exportTensors()).values()].map((t) => Array.from(t.data));
    outcome.release();
    return {
      syncPipelines: counts.sync,
      asyncBeforeFirstSubmit: counts.atFirstSubmit,
      asyncBesideFirstStep: counts.besideFirstStep,
      asyncTotal: counts.async,
      throughput: result.throughput,
      steps: result.epochs.length * Math.ceil(result.data.train / config.batchSize),
      history: result.epochs.map(({ ms: _, ...rest }) => rest),
      weights,
    };
  } finally {
    gpu.destroy();
  }
}
