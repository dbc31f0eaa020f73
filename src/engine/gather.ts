import type { Gpu } from '../gpu/gpu.ts';
import { kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { TensorFormat } from '../graph/tensor.ts';

/**
 * x[rows × pixels] = images[order[step.batchStart + r]] / 255 and batchLabels[rows] = their labels, from a
 * data set kept on the GPU as packed u8 (4 per u32, little-endian; see shaders/data.wgsl). Recorded
 * once; the Step uniform's batchStart picks the batch each step. `xFormat` u8x4: x gets the rows' bytes
 * as they are, 4 per u32 (for a model whose input tensor is u8x4; rows of whole words only).
 */
export function gatherBatch(
  gpu: Gpu,
  a: { images: Binding; labels: Binding; order: Binding; x: Binding; batchLabels: Binding; rows: number; pixels: number; step: GPUBuffer; xFormat?: TensorFormat },
): Dispatch {
  const dims = uniform(gpu, 'data.dims', [['u32', a.rows], ['u32', a.pixels]]);
  const format = a.xFormat ?? 'f32';
  // Rows of whole u32 words (MNIST's 784 pixels) take the simpler kernel that writes vec4f (or the words).
  const words = a.pixels % 4 === 0;
  if (format === 'u8x4' && !words) throw new Error(`gather: bytes need rows of whole words, not ${a.pixels} pixels`);
  const [entry, x] = format === 'u8x4' ? ['gather_bytes', 'xBytes'] : words ? ['gather_words', 'xWords'] : ['gather', 'x'];
  return kernel(gpu, {
    shader: 'data',
    entry,
    bind: { dims, step: a.step, images: a.images, labels: a.labels, order: a.order, [x]: a.x, batchLabels: a.batchLabels },
    workgroups: [a.rows], // one workgroup per row (batches stay under the 65,535 limit: validated ≤ 60,000)
  });
}
