import type { Gpu } from '../gpu/gpu.ts';
import type { Mnist, MnistSet } from '../data/mnist.ts';

export interface DeviceSet {
  /** count × pixels bytes, packed 4 per u32 (what shaders/data.wgsl unpacks). */
  images: GPUBuffer;
  /** count bytes, packed 4 per u32. */
  labels: GPUBuffer;
  count: number;
}

/**
 * MNIST on the GPU, uploaded once per device and shared by every run on it: 47 MB of training
 * pixels stay u8 (a quarter of f32) and a batch is gathered from them by index each step.
 */
export interface DeviceData {
  train: DeviceSet;
  test: DeviceSet;
  /** 0, 1, …, test.count − 1: the test set's order buffer. */
  testOrder: GPUBuffer;
  pixels: number;
}

export function uploadMnist(gpu: Gpu, mnist: Mnist): DeviceData {
  const upload = (name: string, set: MnistSet): DeviceSet => ({
    images: gpu.buffers.upload(`${name}.images`, set.images),
    labels: gpu.buffers.upload(`${name}.labels`, set.labels),
    count: set.count,
  });
  const order = new Uint32Array(mnist.test.count).map((_, i) => i);
  return {
    train: upload('train', mnist.train),
    test: upload('test', mnist.test),
    testOrder: gpu.buffers.upload('test.order', order),
    pixels: mnist.rows * mnist.cols,
  };
}
