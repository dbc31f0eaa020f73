/**
 * Our engine's entry in the peer table: the trainer's own training step (trainStepDispatches: gather
 * from the GPU-resident u8 dataset by the epoch's shuffled order → forward → softmax cross-entropy →
 * loss guard → backward → one Adam dispatch), steps encoded back to back with the per-step uniform
 * copied from a table, and the trainer's validation step (gather → forward in eval mode → loss and
 * correct count), timed by `measure` and `measureEpoch` like every peer. `profileOurs` times each
 * kernel of one step with timestamp queries.
 */
import { buildSplits, epochOrder } from '../src/data/split.ts';
import { fetchFromServer, loadMnist, type Mnist } from '../src/data/mnist.ts';
import { writeAligned } from '../src/gpu/buffers.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import { encode, type Dispatch } from '../src/gpu/kernel.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import { buildLayers } from '../src/layers/build.ts';
import { Sequential } from '../src/graph/sequential.ts';
import { binding } from '../src/graph/tensor.ts';
import { presetConfig } from '../src/presets/index.ts';
import { CLASSES } from '../src/data/mnist.ts';
import { optimizerSpec, type TrainConfig } from '../src/train/config.ts';
import { uploadMnist, type DeviceSet } from '../src/engine/device-data.ts';
import { createTotals, readTotals, softmaxCrossEntropy } from '../src/engine/loss.ts';
import { packSteps, stepSeed, STEP_BYTES, STEP_STRIDE, type StepParams } from '../src/engine/step.ts';
import { createTrainStepBuffers, gatherModelBatch, trainStepDispatches } from '../src/engine/train-step.ts';
import { measure, type Measurement, type StepOptions, type StepTrainer } from './measure.ts';
import { passBatches, type ValidationPass } from './mnist.ts';
import { EPOCH, LEARNING_RATE, type Workload } from './workloads.ts';

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
  return configStep(gpu, workloadConfig(workload, batch), batch, set, pixels, order);
}

/** `config`'s model at batch `batch` and the dispatches of one training step on `set` in `order`, as the trainer records them. */
export function configStep(gpu: Gpu, config: TrainConfig, batch: number, set: DeviceSet, pixels: number, order: GPUBuffer) {
  const model = new Sequential(gpu, config.inputShape, buildLayers(config.layers), batch, config.seed, { inputFormat: 'u8x4' });
  const optimizer = optimizerSpec(config);
  const buffers = createTrainStepBuffers(gpu, { model, optimizer, order, label: 'bench' });
  return { model, buffers, dispatches: trainStepDispatches(gpu, { model, rows: batch, set, pixels, buffers, optimizer }) };
}

interface OurStep extends Pick<StepTrainer, 'stepsPerEpoch' | 'validationBatchCount' | 'validationImages' | 'startEpoch' | 'validate'> {
  gpu: Gpu;
  /** The dispatches of one training step, in order. */
  dispatches: Dispatch[];
  /** Encodes `k` steps into one command buffer (each copying its Step entry first) and submits them. */
  issue(k: number): void;
  loss(): Promise<number>;
  release(): void;
}

let shared: Promise<{ gpu: Gpu; mnist: Mnist; data: ReturnType<typeof uploadMnist> }> | null = null;
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
    const mnist = await loadData();
    return { gpu, mnist, data: uploadMnist(gpu, mnist) };
  })();
  const { gpu: device, mnist, data } = await shared;
  const gpu = device.withTarget(kernels);
  const split = buildSplits(mnist.train.labels, { keep: new Array<number>(CLASSES).fill(1), valFraction: EPOCH.valFraction, trainLimit: null, seed: EPOCH.seed });
  const stepsPerEpoch = Math.floor(split.train.length / batch);
  const validationSizes = Array.from({ length: Math.ceil(split.val.length / batch) }, (_, i) => Math.min(batch, split.val.length - i * batch));
  const stop = gpu.buffers.record();
  let epoch = 1;
  const order = gpu.buffers.upload('order', epochOrder(split.train, EPOCH.seed, epoch));
  const { model, buffers, dispatches } = workloadStep(gpu, workload, batch, data.train, data.pixels, order);
  const { step: stepUniform, totals, batchLabels } = buffers;
  // A table of step parameters: the epoch's training steps through its shuffled order, as the trainer writes per epoch, then the validation batches.
  const table = gpu.buffers.create('step.table', (stepsPerEpoch + validationSizes.length) * STEP_STRIDE, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  const entries: StepParams[] = [
    ...Array.from({ length: stepsPerEpoch }, (_, s) => ({ batchStart: s * batch, t: s + 1, seed: stepSeed(1, s + 1), lr: LEARNING_RATE })),
    ...validationSizes.map((_, s) => ({ batchStart: s * batch, t: 0, seed: 0, lr: 0 })),
  ];
  gpu.device.queue.writeBuffer(table, 0, packSteps(entries));
  const owned = stop();
  /** One command buffer of steps, each copying its table entry into the step uniform, then its dispatches in one pass; `clears` are zeroed before step `clearAt`. */
  const submit = (steps: { entry: number; dispatches: Dispatch[] }[], clearAt: number, clears: GPUBuffer[]) => {
    const encoder = gpu.device.createCommandEncoder();
    steps.forEach(({ entry, dispatches }, i) => {
      if (i === clearAt) for (const buffer of clears) encoder.clearBuffer(buffer);
      encoder.copyBufferToBuffer(table, entry * STEP_STRIDE, stepUniform, 0, STEP_BYTES);
      const pass = encoder.beginComputePass();
      encode(pass, dispatches);
      pass.end();
    });
    gpu.device.queue.submit([encoder.finish()]);
  };
  /** The validation pass's buffers and steps, made on its first use: the profile page and bench:dawn never validate. */
  const validationSteps = () => {
    const stopValidation = gpu.buffers.record();
    const validation = {
      order: gpu.buffers.upload('val.order', split.val),
      totals: createTotals(gpu, 'val.totals'),
      probs: gpu.buffers.create('val.probs', split.val.length * CLASSES * 4, GPUBufferUsage.STORAGE),
      confusion: gpu.buffers.create('val.confusion', CLASSES * CLASSES * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
    };
    const steps = new Map(validationSizes.map((rows) => [rows, [
      gatherModelBatch(gpu, { model, set: data.train, order: validation.order, batchLabels, rows, pixels: data.pixels, step: stepUniform }),
      ...model.plan(rows, 'eval', stepUniform).forward,
      softmaxCrossEntropy(gpu, { mode: 'eval', logits: binding(model.output), labels: batchLabels, totals: validation.totals, probs: validation.probs, confusion: validation.confusion, step: stepUniform, rows, classes: CLASSES }),
    ]]));
    owned.push(...stopValidation());
    return { ...validation, steps };
  };
  let validation: ReturnType<typeof validationSteps> | null = null;
  let issued = 0;
  return {
    gpu,
    dispatches,
    stepsPerEpoch,
    validationBatchCount: validationSizes.length,
    validationImages: split.val.length,
    startEpoch() {
      writeAligned(gpu.device, order, 0, epochOrder(split.train, EPOCH.seed, ++epoch));
      issued = 0;
    },
    issue(k) {
      // The last step's totals alone, so loss() reads that step's loss.
      submit(Array.from({ length: k }, () => ({ entry: issued++ % stepsPerEpoch, dispatches })), k - 1, [totals]);
    },
    async loss() {
      return new Float32Array(await gpu.read(totals, 4))[0]! / batch;
    },
    async validate(pass: ValidationPass) {
      validation ??= validationSteps();
      const { steps, totals: validationTotals, confusion } = validation;
      const batches = passBatches(validationSizes.length, pass);
      submit(batches.map((i) => ({ entry: stepsPerEpoch + i, dispatches: steps.get(validationSizes[i]!)! })), 0, [validationTotals, confusion]);
      const count = batches.reduce((sum, i) => sum + validationSizes[i]!, 0);
      const { lossSum, correct } = await readTotals(gpu, validationTotals);
      return { loss: lossSum / count, accuracy: correct / count, images: count };
    },
    release() {
      for (const buffer of owned) gpu.buffers.release(buffer);
    },
  };
}

/** Our step as `measure` and `measureEpoch` drive every peer. `kernels`: see buildStep. */
export async function oursTrainer(workload: Workload, batch: number, kernels: KernelChoice = 'auto'): Promise<StepTrainer> {
  const step = await buildStep(workload, batch, kernels);
  return {
    stepsPerEpoch: step.stepsPerEpoch,
    validationBatchCount: step.validationBatchCount,
    validationImages: step.validationImages,
    startEpoch: () => step.startEpoch(),
    step: () => step.issue(1),
    steps: async (k) => step.issue(k),
    sync: () => step.gpu.device.queue.onSubmittedWorkDone(),
    loss: () => step.loss(),
    validate: (pass) => step.validate(pass),
    dispose: () => step.release(),
  };
}

/** Times our training step; `options.steps` is the number of timed steps (after `options.warmup`). `kernels`: see buildStep. */
export async function benchOurs(workload: Workload, batch: number, options: StepOptions, kernels: KernelChoice = 'auto'): Promise<Measurement> {
  const trainer = await oursTrainer(workload, batch, kernels);
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
