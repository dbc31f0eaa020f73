import * as ref from '../../src/reference/activation.ts';
import { activation, activationBackward, activationForward, DEFAULT_ALPHA } from '../../src/layers/activation.ts';
import { NOTHING_FUSED, type BuildArgs } from '../../src/graph/layer.ts';
import type { Tensor } from '../../src/graph/tensor.ts';
import type { ActivationKind } from '../../src/graph/spec.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, type Closeness } from './util.ts';

/** Forward and backward of one kind against the float64 reference, on [-6, 6) with exact zeros (the kink). */
export async function activationVsReference(kind: ActivationKind, alpha: number, count: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const x = randomArray(count, 11, -6, 6);
  for (let i = 0; i < count; i += 17) x[i] = 0;
  const dy = randomArray(count, 12);
  const buf = { x: storage(gpu, 'x', x), dy: storage(gpu, 'dy', dy), y: empty(gpu, 'y', count), dx: empty(gpu, 'dx', count) };
  await run(gpu, [activationForward(gpu, { kind, alpha, count, ...buf }), activationBackward(gpu, { kind, alpha, count, ...buf })]);
  // Elementwise, no sums: only exp's few-ulp error on values ≤ 6, well inside atol 1e-6 / rtol 1e-3.
  const results = [
    compare('y', await readF32(gpu, buf.y), ref.activationForward(kind, alpha, x)),
    compare('dx', await readF32(gpu, buf.dx), ref.activationBackward(kind, alpha, x, dy)),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return results;
}

/**
 * The GPU backward against central differences of the GPU forward. Elementwise, so perturbing every
 * element at once gives every derivative from two forward dispatches. Inputs keep |x| ≥ 0.05 > h, off
 * the kink. With h = 1e-2: f32 rounding of y (|y| ≤ 6) costs ≤ 6·2⁻²⁴/h ≈ 4e-5 and truncation h²/6·|f‴|
 * ≤ 2e-5, so atol 1e-4 plus ConvNetJS's relative 1e-2.
 */
export async function activationFiniteDifference(kind: ActivationKind, alpha: number, count: number): Promise<Closeness> {
  const gpu = await testGpu();
  const h = 1e-2;
  const x = randomArray(count, 21, -6, 6).map((v) => Math.sign(v) * (0.05 + Math.abs(v)));
  const dy = randomArray(count, 22);
  const xPlus = x.map((v) => v + h);
  const xMinus = x.map((v) => v - h);
  const buf = {
    x: storage(gpu, 'x', x), y: empty(gpu, 'y', count), dy: storage(gpu, 'dy', dy), dx: empty(gpu, 'dx', count),
    xPlus: storage(gpu, 'x+h', xPlus), yPlus: empty(gpu, 'y(x+h)', count),
    xMinus: storage(gpu, 'x-h', xMinus), yMinus: empty(gpu, 'y(x-h)', count),
  };
  await run(gpu, [
    activationForward(gpu, { kind, alpha, count, x: buf.x, y: buf.y }),
    activationBackward(gpu, { kind, alpha, count, ...buf }),
    activationForward(gpu, { kind, alpha, count, x: buf.xPlus, y: buf.yPlus }),
    activationForward(gpu, { kind, alpha, count, x: buf.xMinus, y: buf.yMinus }),
  ]);
  const yPlus = await readF32(gpu, buf.yPlus);
  const yMinus = await readF32(gpu, buf.yMinus);
  // Divided by the f32 inputs' actual distance, not 2h: x ± h rounds.
  const numeric = Float64Array.from(dy, (g, i) => (g * (yPlus[i]! - yMinus[i]!)) / (xPlus[i]! - xMinus[i]!));
  const result = compare(`${kind} dx vs central differences`, await readF32(gpu, buf.dx), numeric, 1e-4, 1e-2);
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return result;
}

/** A 16.8M-element tensor through a bounded grid-stride dispatch: every element must still be written once. */
export async function activationFoldedGrid(): Promise<Closeness> {
  const gpu = await testGpu();
  const count = 65535 * 256 + 300;
  const x = Float32Array.from({ length: count }, (_, i) => (i % 7) - 3);
  const buf = { x: storage(gpu, 'x', x), y: empty(gpu, 'y', count) };
  const dispatch = activationForward(gpu, { kind: 'relu', count, ...buf });
  await run(gpu, [dispatch]);
  const result = compare(`relu over ${count} (grid ${dispatch.workgroups.join('×')})`, await readF32(gpu, buf.y), x.map((v) => Math.max(v, 0)), 0, 0);
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return result;
}

function tensor(buffer: GPUBuffer, shape: number[], size: number): Tensor {
  return { buffer, offset: 0, size, shape, format: 'f32' };
}

/** The layer's plan: forward over rows × shape, backward only in train mode with somewhere to write dx. */
export async function activationLayerPlan(kind: ActivationKind): Promise<{ results: Closeness[]; backward: Record<string, number>; describe: string }> {
  const gpu = await testGpu();
  const rows = 3;
  const shape = [2, 3, 5];
  const count = rows * 30;
  const x = randomArray(count, 31, -3, 3);
  const dy = randomArray(count, 32);
  const buf = { x: storage(gpu, 'x', x), y: empty(gpu, 'y', count), dy: storage(gpu, 'dy', dy), dx: empty(gpu, 'dx', count) };
  const layer = activation(kind);
  const args = (mode: 'train' | 'eval', withDInput: boolean): BuildArgs => ({
    gpu, index: 0, rows, mode, inputShape: shape, outputShape: layer.outputShape(shape, 0),
    input: tensor(buf.x, shape, count), output: tensor(buf.y, shape, count),
    dOutput: tensor(buf.dy, shape, count), dInput: withDInput ? tensor(buf.dx, shape, count) : null,
    params: {}, grads: {}, state: {}, step: buf.x, fused: NOTHING_FUSED, // activations never read the Step uniform
  });
  const plan = layer.build(args('train', true));
  await run(gpu, [...plan.forward, ...plan.backward]);
  const alpha = DEFAULT_ALPHA[kind];
  const results = [
    compare('y', await readF32(gpu, buf.y), ref.activationForward(kind, alpha, x)),
    compare('dx', await readF32(gpu, buf.dx), ref.activationBackward(kind, alpha, x, dy)),
  ];
  const backward = {
    train: plan.backward.length,
    eval: layer.build(args('eval', true)).backward.length,
    firstLayer: layer.build(args('train', false)).backward.length,
  };
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return { results, backward, describe: layer.describe() };
}

/** Messages of the ConfigErrors thrown for out-of-range alphas (the empty string where none was thrown). */
export function activationConfigErrors(cases: Array<[ActivationKind, number]>): string[] {
  return cases.map(([kind, alpha]) => {
    try {
      activation(kind, { alpha });
      return '';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  });
}
