import type { Gpu } from '../gpu/gpu.ts';
import { kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';

/**
 * Byte layout of the running totals buffer shaders/softmax_xent.wgsl adds each batch into:
 *
 *   offset 0  lossSum  f32  Σ per-row cross-entropy (a SUM: divide by the rows seen for the mean)
 *   offset 4  correct  u32  rows whose argmax equals the label
 *
 * Clear it (encoder.clearBuffer) at the start of an epoch and read it once at the end. An f32 sum
 * of ~500 batch sums keeps ~5 significant digits, plenty for a logged loss.
 */
export const TOTALS_BYTES = 8;

export interface Totals {
  lossSum: number;
  correct: number;
}

/** A zeroed totals buffer (zero-initialised at creation, as WebGPU guarantees). */
export function createTotals(gpu: Gpu, label = 'loss.totals'): GPUBuffer {
  return gpu.buffers.create(label, TOTALS_BYTES, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
}

export async function readTotals(gpu: Gpu, totals: GPUBuffer): Promise<Totals> {
  const view = new DataView(await gpu.read(totals, TOTALS_BYTES));
  return { lossSum: view.getFloat32(0, true), correct: view.getUint32(4, true) };
}

/**
 * Softmax cross-entropy of `rows` × `classes` logits against u32 labels, one workgroup, one dispatch.
 * Adds the batch's loss sum and correct count into `totals`. Train mode writes dLogits, the
 * gradient of the batch mean; eval mode writes softmax probabilities at row (step.batchStart + row)
 * of `probs` and counts [label][predicted] into the `classes`×`classes` `confusion` matrix.
 */
export function softmaxCrossEntropy(
  gpu: Gpu,
  a: { logits: Binding; labels: Binding; totals: Binding; rows: number; classes: number } & (
    | { mode: 'train'; dLogits: Binding }
    | { mode: 'eval'; probs: Binding; confusion: Binding; step: GPUBuffer }
  ),
): Dispatch {
  const dims = uniform(gpu, 'softmax_xent.dims', [['u32', a.rows], ['u32', a.classes]]);
  const common = { dims, logits: a.logits, labels: a.labels, totals: a.totals };
  const bind = a.mode === 'train' ? { ...common, dLogits: a.dLogits } : { ...common, step: a.step, probs: a.probs, confusion: a.confusion };
  return kernel(gpu, { shader: 'softmax_xent', defines: { EVAL: a.mode === 'eval', WG: gpu.target.shape === 'cpu' ? 64 : 256 }, bind, workgroups: [1] });
}
