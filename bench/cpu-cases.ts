/**
 * Browser side of `bench/cpu-ab.ts`: kernels at the shapes of the MNIST workloads, on buffers of seeded
 * random values, each replayed `n` times per submit while the Node side reads the GPU process's CPU time.
 */
import { gatherBatch } from '../src/engine/gather.ts';
import { Rng, uniformInit } from '../src/data/random.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import { encode, type Dispatch } from '../src/gpu/kernel.ts';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dBiasGrad, conv2dForward, convOutputSize, type ConvGeometry } from '../src/layers/conv2d.ts';
import { denseBackwardData, denseBackwardWeights, denseBiasGrad, denseForward } from '../src/layers/dense.ts';
import { createTotals, softmaxCrossEntropy } from '../src/engine/loss.ts';
import { optimizerStep } from '../src/engine/optimizer.ts';
import { packSteps } from '../src/engine/step.ts';
import { fmaDispatch } from './roof.ts';
import { configStep, workloadConfig } from './ours.ts';
import { presetConfig } from '../src/presets/index.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { Workload } from './workloads.ts';

/** cnn-arch1's two convolutions. */
const CONV1: ConvGeometry = { inChannels: 1, height: 28, width: 28, outChannels: 16, kernel: 5, stride: 2, padding: 0 };
const CONV2: ConvGeometry = { inChannels: 16, height: 12, width: 12, outChannels: 8, kernel: 3, stride: 1, padding: 0 };
const ARCH2_CONV1: ConvGeometry = { inChannels: 1, height: 28, width: 28, outChannels: 32, kernel: 5, stride: 2, padding: 0 };
const ARCH2_CONV2: ConvGeometry = { inChannels: 32, height: 12, width: 12, outChannels: 16, kernel: 3, stride: 1, padding: 0 };
const ARCH2_CONV3: ConvGeometry = { inChannels: 16, height: 10, width: 10, outChannels: 8, kernel: 3, stride: 1, padding: 0 };
const ODD: ConvGeometry = { inChannels: 5, height: 11, width: 9, outChannels: 7, kernel: 3, stride: 1, padding: 1 };
const ODD_VALID: ConvGeometry = { ...ODD, padding: 0 };
const TAPS9: ConvGeometry = { ...CONV1, kernel: 3, stride: 1 };

/** Case names, each built for a batch size. */
export const CASES: Record<string, (gpu: Gpu, rows: number) => Dispatch[]> = {
  // The roof: bench/roof.wgsl's fma() loop (the batch does not matter), so a run's rates can be put against it.
  fma: (gpu) => [fmaDispatch(gpu)],
  gather: (gpu, rows) => [gather(gpu, rows, false)],
  // The batch as bytes, for a first layer that reads them (a model whose input tensor is u8x4).
  'gather.bytes': (gpu, rows) => [gather(gpu, rows, true)],
  'conv1.forward': convCase(conv2dForward, CONV1),
  'conv1.filter': convCase(conv2dBackwardFilter, CONV1),
  'conv2.forward': convCase(conv2dForward, CONV2),
  'conv2.data': convCase(conv2dBackwardData, CONV2),
  // cnn-arch2's convolutions, and a padded one with odd channel counts no preset has (oddvalid: unpadded).
  'arch2conv2.data': convCase(conv2dBackwardData, ARCH2_CONV2),
  'arch2conv3.data': convCase(conv2dBackwardData, ARCH2_CONV3),
  'odd.data': convCase(conv2dBackwardData, ODD),
  'arch2conv1.forward': convCase(conv2dForward, ARCH2_CONV1),
  'arch2conv2.forward': convCase(conv2dForward, ARCH2_CONV2),
  'arch2conv3.forward': convCase(conv2dForward, ARCH2_CONV3),
  'oddvalid.forward': convCase(conv2dForward, ODD_VALID),
  // 1→16 k3 on 28×28: 9 taps, which rung 4's forward would pad to 12.
  'taps9.forward': convCase(conv2dForward, TAPS9),
  'conv2.filter': convCase(conv2dBackwardFilter, CONV2),
  'conv1.bias': convCase(conv2dBiasGrad, CONV1),
  'conv2.bias': convCase(conv2dBiasGrad, CONV2),
  // The same multiply-adds as dense products on operands already laid out as an im2col would (rows: the
  // batch's output positions; backward-data sums into the im2col's columns, without the scatter back to dx):
  // what the convolutions would cost at our dense kernels' rates (docs/perf/conv2d.md, issue 19 §1).
  'conv1.forward.asgemm': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows * 144, CONV1_GEMM), ...CONV1_GEMM, rows: rows * 144 }),
  'conv1.filter.asgemm': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows * 144, CONV1_GEMM), ...CONV1_GEMM, rows: rows * 144 }),
  'conv2.forward.asgemm': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows * 100, CONV2_GEMM), ...CONV2_GEMM, rows: rows * 100 }),
  'conv2.filter.asgemm': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows * 100, CONV2_GEMM), ...CONV2_GEMM, rows: rows * 100 }),
  'conv2.data.asgemm': (gpu, rows) => [denseBackwardData(gpu, { ...denseBuffers(gpu, rows * 100, CONV2_GEMM), ...CONV2_GEMM, rows: rows * 100 })],
  // The MLP's 784→128 layer (issue 7: its forward and dW are most of a batch-1000 step).
  'dense1.forward': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows), ...DENSE1, rows }),
  'dense1.data': (gpu, rows) => [denseBackwardData(gpu, { ...denseBuffers(gpu, rows), ...DENSE1, rows })],
  'dense1.weights': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows), ...DENSE1, rows }),
  'dense1.bias': (gpu, rows) => [denseBiasGrad(gpu, { ...denseBuffers(gpu, rows), ...DENSE1, rows })],
  // The same layer reading its x as bytes, as the MLP's first layer does in training.
  'dense1.forward.bytes': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows), x: random(gpu, rows * 196), xFormat: 'u8x4', ...DENSE1, rows }),
  'dense1.weights.bytes': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows), x: random(gpu, rows * 196), xFormat: 'u8x4', ...DENSE1, rows }),
  // The MLP's 128→64 and 64→10 layers, small products at batch 64; dx applies ReLU's backward as in training.
  'dense2.forward': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows, DENSE2), ...DENSE2, rows, activation: RELU }),
  'dense2.data': (gpu, rows) => [denseBackwardData(gpu, { ...reluInput(denseBuffers(gpu, rows, DENSE2)), ...DENSE2, rows })],
  'dense2.weights': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows, DENSE2), ...DENSE2, rows }),
  'dense3.forward': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows, DENSE3), ...DENSE3, rows }),
  'dense3.data': (gpu, rows) => [denseBackwardData(gpu, { ...reluInput(denseBuffers(gpu, rows, DENSE3)), ...DENSE3, rows })],
  'dense3.weights': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows, DENSE3), ...DENSE3, rows }),
  // cnn-arch1's 800→10 layer: a product 10 outputs wide (forward) or tall (dW).
  'dense10.forward': (gpu, rows) => denseForward(gpu, { ...denseBuffers(gpu, rows, DENSE10), ...DENSE10, rows }),
  'dense10.weights': (gpu, rows) => denseBackwardWeights(gpu, { ...denseBuffers(gpu, rows, DENSE10), ...DENSE10, rows }),
  // The MLP's Adam step (its 109,386 parameters; the batch does not matter) and its loss over the batch.
  adam: (gpu) => {
    const count = 109_440;
    const step = gpu.buffers.create('step', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    gpu.device.queue.writeBuffer(step, 0, packSteps([{ batchStart: 0, t: 1, seed: 0, lr: 1e-3 }]), 0, 16);
    const spec = { kind: 'adam' } as const;
    return [optimizerStep(gpu, { spec, params: random(gpu, count), grads: random(gpu, count), moments: [random(gpu, count), random(gpu, count)], count, step })];
  },
  // Whole training steps of the bench workloads (lr 0, so that replays repeat the same step), on synthetic images.
  'mlp.step': (gpu, rows) => trainStep(gpu, 'mlp', rows),
  'cnn.step': (gpu, rows) => trainStep(gpu, 'cnn', rows),
  // Presets no bench workload is (issue 19 §1): cnn-arch2's three convolutions, and task2-best's ELU and
  // batchnorm after each of arch 1's convolutions, as the study trained them (its activations, Adam).
  'arch2.step': (gpu, rows) => trainStep(gpu, presetConfig('cnn-arch2', { batchSize: rows }), rows),
  'task2best.step': (gpu, rows) => trainStep(gpu, presetConfig('task2-best', { batchSize: rows }), rows),
  softmax: (gpu, rows) => [softmaxCrossEntropy(gpu, {
    mode: 'train', logits: random(gpu, rows * 10), labels: gpu.buffers.upload('labels', Uint32Array.from({ length: rows }, (_, i) => i % 10)),
    totals: createTotals(gpu), dLogits: random(gpu, rows * 10), rows, classes: 10,
  })],
};

/** A batch of `rows` MNIST images gathered from 10,000 by a shuffled order, as f32 or as bytes. */
function gather(gpu: Gpu, rows: number, bytes: boolean): Dispatch {
  const pixels = 784;
  const samples = 10_000;
  const images = new Uint8Array(samples * pixels).map((_, i) => (i * 31) % 256);
  const order = new Rng(1).shuffle(Uint32Array.from({ length: samples }, (_, i) => i));
  const step = gpu.buffers.create('step', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(step, 0, packSteps([{ batchStart: 0, t: 1, seed: 0, lr: 0 }]), 0, 16);
  return gatherBatch(gpu, {
    images: gpu.buffers.upload('images', images), labels: gpu.buffers.upload('labels', new Uint8Array(samples)),
    order: gpu.buffers.upload('order', order), x: random(gpu, rows * (bytes ? pixels / 4 : pixels)), batchLabels: random(gpu, rows), rows, pixels, step, xFormat: bytes ? 'u8x4' : 'f32',
  });
}

/** One training step of a bench workload or a config at batch `rows`, as the bench encodes it, on 10,000 synthetic images (lr 0). */
function trainStep(gpu: Gpu, network: Workload | TrainConfig, rows: number): Dispatch[] {
  const samples = 10_000;
  const set = {
    images: gpu.buffers.upload('images', new Uint8Array(samples * 784).map((_, i) => (i * 31) % 256)),
    labels: gpu.buffers.upload('labels', new Uint8Array(samples).map((_, i) => i % 10)),
    count: samples,
  };
  const order = gpu.buffers.upload('order', new Rng(1).shuffle(Uint32Array.from({ length: samples }, (_, i) => i)));
  const config = typeof network === 'string' ? workloadConfig(network, rows) : network;
  const { buffers, dispatches } = configStep(gpu, config, rows, set, 784, order);
  gpu.device.queue.writeBuffer(buffers.step, 0, packSteps([{ batchStart: 0, t: 1, seed: 1, lr: 0 }]), 0, 16);
  return dispatches;
}

/** cnn-arch1's convolutions as GEMMs: taps (Cin · k²) × output channels. */
const CONV1_GEMM = { inFeatures: 28, outFeatures: 16 }; // 25 taps padded to whole vec4s, as dense's blocked rungs need
const CONV2_GEMM = { inFeatures: 144, outFeatures: 8 };
const DENSE1 = { inFeatures: 784, outFeatures: 128 };
const DENSE10 = { inFeatures: 800, outFeatures: 10 };
const DENSE2 = { inFeatures: 128, outFeatures: 64 };
const DENSE3 = { inFeatures: 64, outFeatures: 10 };
const RELU = { kind: 'relu', alpha: 0 } as const;

/** A layer's buffers with its dx fused with the backward of the ReLU that produced x. */
function reluInput<T extends { x: GPUBuffer }>(buffers: T) {
  return { ...buffers, inputActivation: RELU };
}

function denseBuffers(gpu: Gpu, rows: number, { inFeatures, outFeatures } = DENSE1) {
  return {
    x: random(gpu, rows * inFeatures), dx: random(gpu, rows * inFeatures), y: random(gpu, rows * outFeatures), dy: random(gpu, rows * outFeatures),
    weight: random(gpu, outFeatures * inFeatures), dWeight: random(gpu, outFeatures * inFeatures), bias: random(gpu, outFeatures), dBias: random(gpu, outFeatures),
  };
}

function random(gpu: Gpu, count: number): GPUBuffer {
  return gpu.buffers.upload('random', uniformInit(new Rng(count), count, 1));
}

type ConvOp = (gpu: Gpu, args: ReturnType<typeof convBuffers> & ConvGeometry & { rows: number }) => Dispatch[];

/** A case running `op` at geometry `g` on fresh random buffers. */
function convCase(op: ConvOp, g: ConvGeometry): (gpu: Gpu, rows: number) => Dispatch[] {
  return (gpu, rows) => op(gpu, { ...convBuffers(gpu, g, rows), ...g, rows });
}

function convBuffers(gpu: Gpu, g: ConvGeometry, rows: number) {
  const out = (size: number) => convOutputSize(size, g.kernel, g.stride, g.padding);
  const inputs = rows * g.inChannels * g.height * g.width;
  const outputs = rows * g.outChannels * out(g.height) * out(g.width);
  const weights = g.outChannels * g.inChannels * g.kernel ** 2;
  return {
    x: random(gpu, inputs), dx: random(gpu, inputs), y: random(gpu, outputs), dy: random(gpu, outputs),
    weight: random(gpu, weights), dWeight: random(gpu, weights), bias: random(gpu, g.outChannels), dBias: random(gpu, g.outChannels),
  };
}

let gpu: Gpu | null = null;
const prepared = new Map<string, Dispatch[]>();

/**
 * Builds `name` at batch `rows` and runs it once (pipeline compilation stays out of the timed runs).
 * Returns the FLOPs its dispatches count (0 where a kernel counts none, as copies and packs do).
 */
export async function prepareCase([name, rows]: [string, number]): Promise<number> {
  const build = CASES[name];
  if (!build) throw new Error(`unknown case ${name}; known: ${Object.keys(CASES).join(', ')}`);
  gpu ??= await Gpu.create();
  const dispatches = build(gpu, rows);
  prepared.set(`${name} b${rows}`, dispatches);
  await runCase([name, rows, 1]);
  return dispatches.reduce((sum, d) => sum + d.flops, 0);
}

/** Submits a prepared case's dispatches `n` times in one compute pass and waits for the device. */
export async function runCase([name, rows, n]: [string, number, number]): Promise<void> {
  const dispatches = prepared.get(`${name} b${rows}`);
  if (!gpu || !dispatches) throw new Error(`prepareCase ${name} b${rows} first`);
  const encoder = gpu.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (let i = 0; i < n; i++) encode(pass, dispatches);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}
