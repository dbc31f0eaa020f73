import * as ref from '../../src/reference/dropout.ts';
import { dropout } from '../../src/layers/dropout.ts';
import { uniform } from '../../src/gpu/kernel.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { NOTHING_FUSED, type LayerPlan } from '../../src/graph/layer.ts';
import { compare, empty, randomArray, readF32, run, testGpu, type Closeness } from './util.ts';

function stepUniform(gpu: Gpu, seed: number): GPUBuffer {
  return uniform(gpu, 'step', [['u32', 0], ['u32', 1], ['u32', seed], ['f32', 1e-3]]);
}

/** A dropout layer's plan over [rows × features] buffers x, y, dy, dx, as the model would build it. */
function build(gpu: Gpu, rate: number, rows: number, features: number, mode: 'train' | 'eval', seed: number, index: number) {
  const count = rows * features;
  const buf = { x: empty(gpu, 'x', count), y: empty(gpu, 'y', count), dy: empty(gpu, 'dy', count), dx: empty(gpu, 'dx', count) };
  const shape = [features];
  const t = (buffer: GPUBuffer) => ({ buffer, offset: 0, size: count, shape, format: 'f32' as const });
  const plan: LayerPlan = dropout(rate).build({
    gpu, rows, mode, inputShape: shape, outputShape: shape, input: t(buf.x), output: t(buf.y),
    dOutput: mode === 'train' ? t(buf.dy) : null, dInput: mode === 'train' ? t(buf.dx) : null,
    params: {}, grads: {}, state: {}, step: stepUniform(gpu, seed), index, fused: NOTHING_FUSED,
  });
  return { plan, buf, count, release: () => Object.values(buf).forEach((b) => gpu.buffers.release(b)) };
}

/** Fraction of values a train-mode forward keeps over `rows × features` ones, and whether every kept value is 1/(1 − rate). */
export async function dropoutKeptFraction(rate: number, rows: number, features: number, seed: number): Promise<{ kept: number; scaledExactly: boolean }> {
  const gpu = await testGpu();
  const layer = build(gpu, rate, rows, features, 'train', seed, 0);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, new Float32Array(layer.count).fill(1));
  await run(gpu, layer.plan.forward);
  const y = await readF32(gpu, layer.buf.y);
  const scale = Math.fround(1 / (1 - rate));
  let kept = 0;
  let scaledExactly = true;
  for (const v of y) {
    if (v !== 0) kept++;
    if (v !== 0 && v !== scale) scaledExactly = false;
  }
  layer.release();
  return { kept: kept / layer.count, scaledExactly };
}

/** The train-mode mask for (seed, layer index) as 0/1, read back from a forward over ones. */
async function mask(rate: number, count: number, seed: number, index: number): Promise<Uint8Array> {
  const gpu = await testGpu();
  const layer = build(gpu, rate, 1, count, 'train', seed, index);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, new Float32Array(count).fill(1));
  await run(gpu, layer.plan.forward);
  const y = await readF32(gpu, layer.buf.y);
  layer.release();
  return Uint8Array.from(y, (v) => (v !== 0 ? 1 : 0));
}

/**
 * How many of `count` mask bits agree between: the same seed twice, another step seed, another layer
 * index; and whether the GPU mask equals the reference's bit for bit.
 */
export async function dropoutMasks(rate: number, count: number): Promise<{ same: number; otherSeed: number; otherLayer: number; matchesReference: boolean }> {
  const first = await mask(rate, count, 1234, 3);
  const agree = (other: Uint8Array) => other.reduce((n, bit, i) => n + (bit === first[i] ? 1 : 0), 0) / count;
  const expected = ref.dropoutMask(count, rate, 1234, 3);
  return {
    same: agree(await mask(rate, count, 1234, 3)),
    otherSeed: agree(await mask(rate, count, 1235, 3)),
    otherLayer: agree(await mask(rate, count, 1234, 4)),
    matchesReference: expected.every((bit, i) => bit === first[i]),
  };
}

/** Train forward and backward against the reference mask: y = x·mask/(1 − p), dx = dy·(the same mask)/(1 − p). */
export async function dropoutVsReference(rate: number, rows: number, features: number, seed: number, index: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const layer = build(gpu, rate, rows, features, 'train', seed, index);
  const x = randomArray(layer.count, 1);
  const dy = randomArray(layer.count, 2);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, x);
  gpu.device.queue.writeBuffer(layer.buf.dy, 0, dy);
  await run(gpu, [...layer.plan.forward, ...layer.plan.backward]);
  const expectedMask = ref.dropoutMask(layer.count, rate, seed, index);
  const results = [
    compare('y', await readF32(gpu, layer.buf.y), ref.applyMask(x, expectedMask, rate)),
    compare('dx', await readF32(gpu, layer.buf.dx), ref.applyMask(dy, expectedMask, rate)),
  ];
  layer.release();
  return results;
}

/** Eval mode copies x to y unchanged, and records no backward. */
export async function dropoutEval(rate: number, rows: number, features: number): Promise<{ identical: boolean; backward: number }> {
  const gpu = await testGpu();
  const layer = build(gpu, rate, rows, features, 'eval', 99, 0);
  const x = randomArray(layer.count, 3);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, x);
  await run(gpu, layer.plan.forward);
  const y = await readF32(gpu, layer.buf.y);
  layer.release();
  return { identical: y.every((v, i) => v === x[i]), backward: layer.plan.backward.length };
}

