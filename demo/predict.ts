/**
 * Classifies one 28×28 image with a trained model: the model's eval plan for a batch of one row,
 * the pixels written straight into its input buffer (as bytes, rounded to 1/255 as MNIST's are, where
 * the model reads its input as bytes), one forward pass, ten outputs read back and put through a
 * softmax on the CPU (the same softmax the test probabilities came from).
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { encode } from '../src/gpu/kernel.ts';
import type { Sequential } from '../src/graph/sequential.ts';
import { STEP_BYTES } from '../src/engine/step.ts';

export class Predictor {
  /** Eval kernels read batchStart etc. from a Step uniform; a zeroed one of our own serves. */
  private readonly step: GPUBuffer;
  private busy: Promise<Float32Array> | null = null;
  private queued: Float32Array | null = null;

  constructor(
    private readonly gpu: Gpu,
    private readonly model: Sequential,
  ) {
    this.step = gpu.device.createBuffer({ label: 'predict.step', size: STEP_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** Probabilities of the ten digits for `pixels` (784 floats in [0, 1], white digit on black). */
  async predict(pixels: Float32Array): Promise<Float32Array> {
    const { gpu, model } = this;
    gpu.assertAlive();
    const plan = model.plan(1, 'eval', this.step);
    const input = model.input.format === 'u8x4' ? Uint8Array.from(pixels, (p) => Math.round(Math.min(1, Math.max(0, p)) * 255)) : pixels;
    gpu.device.queue.writeBuffer(model.input.buffer, model.input.offset, input as Uint8Array<ArrayBuffer> | Float32Array<ArrayBuffer>);
    const encoder = gpu.device.createCommandEncoder({ label: 'predict' });
    const pass = encoder.beginComputePass({ label: 'predict' });
    encode(pass, plan.forward);
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
    const outputs = new Float32Array(await gpu.read(model.output.buffer, 10 * 4, model.output.offset));
    return softmax(outputs);
  }

  /**
   * Like predict, but while one forward pass is in flight only the latest request waits: a drawing
   * that moves faster than the GPU answers skips the frames in between.
   */
  async latest(pixels: Float32Array): Promise<Float32Array | null> {
    this.queued = pixels;
    while (this.busy) {
      await this.busy.catch(() => null);
      if (this.queued !== pixels) return null;
    }
    this.queued = null;
    const mine = this.predict(pixels);
    this.busy = mine;
    try {
      return await mine;
    } finally {
      if (this.busy === mine) this.busy = null;
    }
  }

  destroy(): void {
    this.step.destroy();
  }
}

export function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}
