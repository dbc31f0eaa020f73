/**
 * Our engine's entry in the peer table: the trainer's own training step (trainStepDispatches: gather
 * from the GPU-resident u8 dataset → forward → softmax cross-entropy → loss guard → backward → one
 * Adam dispatch), steps encoded back to back with the per-step uniform copied from a table, timed by
 * `measure` like every peer. `profileOurs` times each kernel of one step with timestamp queries.
 */
import { fetchFromServer, loadMnist, type Mnist } from '../src/data/mnist.ts';
import { Rng } from '../src/data/random.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import { encode, type Dispatch } from '../src/gpu/kernel.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import { buildLayers } from '../src/layers/build.ts';
import { Sequential } from '../src/graph/sequential.ts';
import { presetConfig } from '../src/presets/index.ts';
import { optimizerSpec, type TrainConfig } from '../src/train/config.ts';
import { uploadMnist, type DeviceSet } from '../src/engine/device-data.ts';
import { packSteps, stepSeed, STEP_BYTES, STEP_STRIDE } from '../src/engine/step.ts';
import { createTrainStepBuffers, trainStepDispatches } from '../src/engine/train-step.ts';
import { measure, type Measurement, type StepTrainer } from './measure.ts';
import { LEARNING_RATE, type MeasureOptions, type Workload } from './workloads.ts';

/** The benchmark networks as our configs: ReLU everywhere, logits into the loss (no output activation). */
export function workloadConfig(workload: Workload, batch: number): TrainConfig {
  const common = { batchSize: batch, lr: LEARNING_RATE, activation: 'relu', convActivation: 'relu', outputActivation: 'none' } as const;
  return workload === 'mlp' ? presetConfig('custom', { ...common, hidden: [128, 64] }) : presetConfig('cnn-arch1', { ...common, hidden: [], patience: 0 });
}

/**
 * A bench workload's model at batch `batch` and the dispatches of one training step on `set` in `order`,
 * as the trainer records them (bench/cpu-cases.ts replays them as well).
 */
export function workloadStep(gpu: Gpu, workload: Workload, batch: number, set: DeviceSet, pixels: number, order: GPUBuffer) {
  const config = workloadConfig(workload, batch);
  const model = new Sequential(gpu, config.inputShape, buildLayers(config.layers), batch, config.seed, { inputFormat: 'u8x4' });
  const optimizer = optimizerSpec(config);
  const buffers = createTrainStepBuffers(gpu, { model, optimizer, order, label: 'bench' });
  return { buffers, dispatches: trainStepDispatches(gpu, { model, rows: batch, set, pixels, buffers, optimizer }) };
}

interface OurStep {
  gpu: Gpu;
  /** The dispatches of one training step, in order. */
  dispatches: Dispatch[];
  /** Encodes `k` steps into one command buffer (each copying its Step entry first) and submits them. */
  issue(k: number): void;
  loss(): Promise<number>;
  release(): void;
}

let shared: Promise<{ gpu: Gpu; data: ReturnType<typeof uploadMnist> }> | null = null;
/** Where the steps get MNIST: from the page's server, or as bench/dawn.ts loaded it from disk in Node. */
let loadData: () => Promise<Mnist> = () => loadMnist(fetchFromServer('/mnist/'));

export function readMnistFrom(load: () => Promise<Mnist>): void {
  loadData = load;
}

/**
 * `kernels`: the kernels to build the step with (`--kernels`), through a view of the page's device.
 * `profiling`: the page's device, made by its first step, takes timestamps inside passes (the bench
 * profiles in a page of its own, since the feature slows the step it would time).
 */
async function buildStep(workload: Workload, batch: number, kernels: KernelChoice = 'auto', profiling = false): Promise<OurStep> {
  shared ??= (async () => {
    const gpu = await Gpu.create({ timestampsInPasses: profiling });
    return { gpu, data: uploadMnist(gpu, await loadData()) };
  })();
  const { gpu: device, data } = await shared;
  const gpu = device.withTarget(kernels);
  const stop = gpu.buffers.record();
  const order = gpu.buffers.upload('order', new Rng(1).shuffle(Uint32Array.from({ length: data.train.count }, (_, i) => i)));
  const { buffers, dispatches } = workloadStep(gpu, workload, batch, data.train, data.pixels, order);
  const { step: stepUniform, totals } = buffers;
  // A table of step parameters cycling through the shuffled training set, as the trainer writes per epoch.
  const tableSteps = Math.floor(data.train.count / batch);
  const table = gpu.buffers.create('step.table', tableSteps * STEP_STRIDE, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(table, 0, packSteps(Array.from({ length: tableSteps }, (_, s) => ({ batchStart: s * batch, t: s + 1, seed: stepSeed(1, s + 1), lr: LEARNING_RATE }))));
  const owned = stop();
  let issued = 0;
  return {
    gpu,
    dispatches,
    issue(k) {
      const encoder = gpu.device.createCommandEncoder();
      for (let i = 0; i < k; i++, issued++) {
        if (i === k - 1) encoder.clearBuffer(totals);
        encoder.copyBufferToBuffer(table, (issued % tableSteps) * STEP_STRIDE, stepUniform, 0, STEP_BYTES);
        const pass = encoder.beginComputePass();
        encode(pass, dispatches);
        pass.end();
      }
      gpu.device.queue.submit([encoder.finish()]);
    },
    async loss() {
      return new Float32Array(await gpu.read(totals, 4))[0]! / batch;
    },
    release() {
      for (const buffer of owned) gpu.buffers.release(buffer);
    },
  };
}

/** Times our training step; `options.steps` is the number of timed steps (after `options.warmup`). `kernels`: see buildStep. */
export async function benchOurs(workload: Workload, batch: number, options: MeasureOptions, kernels: KernelChoice = 'auto'): Promise<Measurement> {
  const step = await buildStep(workload, batch, kernels);
  const trainer: StepTrainer = {
    step: () => step.issue(1),
    steps: async (k) => step.issue(k),
    sync: () => step.gpu.device.queue.onSubmittedWorkDone(),
    loss: () => step.loss(),
    dispose: () => step.release(),
  };
  try {
    return await measure(trainer, batch, options);
  } finally {
    trainer.dispose();
  }
}

export interface KernelProfile {
  label: string;
  /** The rungs of its op's ladder this label ran (`dense 2, 4`), empty for kernels without a ladder. */
  rungs: string;
  dispatches: number;
  msPerStep: number;
  /** Useful FLOPs of this kernel per step (0 for data movement). */
  flops: number;
}

/** Per-kernel GPU time of one step (timestamp queries: GpuTimer), averaged over `repeats` steps (a few steps swing ±30% on a shared machine). */
export async function profileOurs([workload, batch, repeats = 10, kernels = 'auto']: [Workload, number, number?, KernelChoice?]): Promise<KernelProfile[]> {
  const step = await buildStep(workload, batch, kernels, true);
  const { gpu } = step;
  if (!gpu.hasTimestamps) throw new Error('this adapter has no timestamp-query: per-kernel timings are unavailable');
  step.issue(3); // warm-up, as measure() does: pipelines compiled, caches settled
  await gpu.device.queue.onSubmittedWorkDone();
  const timer = new GpuTimer(gpu, step.dispatches.length * repeats);
  const encoder = gpu.device.createCommandEncoder();
  for (let r = 0; r < repeats; r++) timer.encodeTimed(encoder, step.dispatches);
  gpu.device.queue.submit([encoder.finish()]);
  const times = await timer.read();
  timer.destroy();
  step.release();
  const flops = new Map<string, number>();
  const rungs = new Map<string, Set<number>>();
  for (const d of step.dispatches) {
    flops.set(d.label, (flops.get(d.label) ?? 0) + d.flops);
    if (d.rung) rungs.set(d.label, (rungs.get(d.label) ?? new Set()).add(d.rung.index));
  }
  const rungsOf = (label: string) => {
    const op = step.dispatches.find((d) => d.label === label)?.rung?.op;
    return op ? `${op} ${[...rungs.get(label)!].sort((a, b) => a - b).join(', ')}` : '';
  };
  return Object.entries(times)
    .map(([label, t]) => ({ label, rungs: rungsOf(label), dispatches: t.count / repeats, msPerStep: t.totalMs / repeats, flops: flops.get(label) ?? 0 }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
}
