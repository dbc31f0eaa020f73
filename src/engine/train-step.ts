/**
 * One training step, as the dispatches it runs in order: gather the batch → model forward → softmax
 * cross-entropy → loss guard → model backward → optimizer. The trainer records it, `npm run bench`
 * times it and the demo's kernel view profiles it, so all three measure the same kernels.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, type Dispatch } from '../gpu/kernel.ts';
import type { Sequential } from '../graph/sequential.ts';
import { binding } from '../graph/tensor.ts';
import { CLASSES } from '../data/mnist.ts';
import type { DeviceSet } from './device-data.ts';
import { gatherBatch } from './gather.ts';
import { createTotals, softmaxCrossEntropy } from './loss.ts';
import { momentBuffers, optimizerStep, type OptimizerSpec } from './optimizer.ts';
import { STEP_BYTES } from './step.ts';

/** What a training step reads and writes besides the model's own buffers. */
export interface TrainStepBuffers {
  /** The Step uniform (src/engine/step.ts): batch offset, optimizer step, dropout seed, lr. */
  step: GPUBuffer;
  /** u32 sample indices into the training set; a batch is order[batchStart, batchStart + rows). */
  order: GPUBuffer;
  batchLabels: GPUBuffer;
  /** The running loss sum and correct count (src/engine/loss.ts). */
  totals: GPUBuffer;
  /** The first optimizer step whose running loss was not finite, NO_BAD_STEP until then (shaders/loss_guard.wgsl). */
  firstBad: GPUBuffer;
  /** momentBuffers(optimizer) arenas the size of the parameter arena. */
  moments: GPUBuffer[];
}

export const NO_BAD_STEP = 0xffffffff;

/**
 * The step's buffers for `model` (batch labels for its capacity), labelled `<label>.step` and so on.
 * Labels start with `label`, so a buffer listing tells the trainer's, the bench's and the kernel view's apart.
 */
export function createTrainStepBuffers(gpu: Gpu, a: { model: Sequential; optimizer: OptimizerSpec; order: GPUBuffer; label: string }): TrainStepBuffers {
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  return {
    step: gpu.buffers.create(`${a.label}.step`, STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
    order: a.order,
    batchLabels: gpu.buffers.create(`${a.label}.labels`, a.model.capacity * 4, storage),
    totals: createTotals(gpu, `${a.label}.totals`),
    firstBad: gpu.buffers.upload(`${a.label}.firstBad`, new Uint32Array([NO_BAD_STEP])),
    moments: Array.from({ length: momentBuffers(a.optimizer) }, (_, i) => gpu.buffers.create(`${a.label}.moment${i}`, a.model.paramFloats * 4, storage)),
  };
}

/** The gather of a batch of `rows` from `set` into `model`'s input, in the input tensor's format. */
export function gatherModelBatch(
  gpu: Gpu,
  a: { model: Sequential; set: DeviceSet; order: GPUBuffer; batchLabels: GPUBuffer; rows: number; pixels: number; step: GPUBuffer },
): Dispatch {
  const { model, set } = a;
  return gatherBatch(gpu, { ...a, images: set.images, labels: set.labels, x: binding(model.input), xFormat: model.input.format });
}

/**
 * The dispatches of one training step on a batch of `rows` gathered from `set`. The optimizer
 * updates `params` (the model's arena unless given: the kernel view passes a scratch arena so
 * profiling leaves the trained weights alone).
 */
export function trainStepDispatches(
  gpu: Gpu,
  a: { model: Sequential; rows: number; set: DeviceSet; pixels: number; buffers: TrainStepBuffers; optimizer: OptimizerSpec; params?: GPUBuffer },
): Dispatch[] {
  const { model, rows, buffers } = a;
  const { step, batchLabels, totals } = buffers;
  const plan = model.plan(rows, 'train', step);
  return [
    gatherModelBatch(gpu, { model, set: a.set, order: buffers.order, batchLabels, rows, pixels: a.pixels, step }),
    ...plan.forward,
    softmaxCrossEntropy(gpu, { mode: 'train', logits: binding(model.output), labels: batchLabels, totals, dLogits: binding(model.dOutput), rows, classes: CLASSES }),
    kernel(gpu, { shader: 'loss_guard', bind: { totals, step, firstBad: buffers.firstBad }, workgroups: [1] }),
    ...plan.backward,
    optimizerStep(gpu, { spec: a.optimizer, params: a.params ?? model.params, grads: model.grads, moments: buffers.moments, count: model.paramFloats, step }),
  ];
}
