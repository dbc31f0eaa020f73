import * as ref from '../../src/reference/batchnorm.ts';
import { batchnorm } from '../../src/layers/batchnorm.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { NOTHING_FUSED } from '../../src/graph/layer.ts';
import type { Tensor } from '../../src/graph/tensor.ts';
import { product } from '../../src/graph/tensor.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, type Closeness, centralDifferences } from './util.ts';

function tensor(buffer: GPUBuffer, shape: number[]): Tensor {
  return { buffer, offset: 0, size: buffer.size / 4, shape, format: 'f32' };
}

/** A batchnorm layer's train and eval plans for `rows` samples of `shape` over one set of buffers, with random γ, β and running statistics. */
function buildLayer(gpu: Gpu, shape: number[], rows: number, withDx = true) {
  const c = shape[0]!;
  const n = rows * product(shape);
  const host = {
    weight: randomArray(c, 11, 0.5, 1.5), bias: randomArray(c, 12),
    runningMean: randomArray(c, 13), runningVar: randomArray(c, 14, 0.5, 2),
  };
  const buf = {
    x: empty(gpu, 'x', n), y: empty(gpu, 'y', n), dy: empty(gpu, 'dy', n), dx: empty(gpu, 'dx', n),
    weight: storage(gpu, 'weight', host.weight), bias: storage(gpu, 'bias', host.bias),
    runningMean: storage(gpu, 'running_mean', host.runningMean), runningVar: storage(gpu, 'running_var', host.runningVar),
    dWeight: empty(gpu, 'dWeight', c), dBias: empty(gpu, 'dBias', c),
  };
  const layer = batchnorm();
  const build = (mode: 'train' | 'eval') =>
    layer.build({
      gpu, index: 0, rows, mode, inputShape: shape, outputShape: layer.outputShape(shape, 0),
      input: tensor(buf.x, shape), output: tensor(buf.y, shape),
      dOutput: mode === 'train' ? tensor(buf.dy, shape) : null, dInput: mode === 'train' && withDx ? tensor(buf.dx, shape) : null,
      params: { weight: tensor(buf.weight, [c]), bias: tensor(buf.bias, [c]) },
      grads: { weight: tensor(buf.dWeight, [c]), bias: tensor(buf.dBias, [c]) },
      state: { running_mean: tensor(buf.runningMean, [c]), running_var: tensor(buf.runningVar, [c]) },
      step: buf.dBias,  // unused by batchnorm
      fused: NOTHING_FUSED,
    });
  const sizes = { rows, channels: c, spatial: shape.length === 3 ? shape[1]! * shape[2]! : 1 };
  return { train: build('train'), eval: build('eval'), buf, host, sizes, n, release: () => Object.values(buf).forEach((b) => gpu.buffers.release(b)) };
}

/**
 * Train mode, through the layer's own plan: forward, then backward (with or without dx, as for a first
 * layer), against the float64 reference. Inputs are offset from 0 so the mean matters.
 */
export async function batchnormTrainVsReference(shape: number[], rows: number, withDx: boolean): Promise<Closeness[]> {
  const gpu = await testGpu();
  const layer = buildLayer(gpu, shape, rows, withDx);
  const x = randomArray(layer.n, 1, 2, 5);
  const dy = randomArray(layer.n, 2);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, x);
  gpu.device.queue.writeBuffer(layer.buf.dy, 0, dy);
  await run(gpu, [...layer.train.forward, ...layer.train.backward]);
  const { weight, bias, runningMean, runningVar } = layer.host;
  const expected = ref.batchnormForwardTrain(x, weight, bias, runningMean, runningVar, layer.sizes);
  const grads = ref.batchnormBackward(dy, x, weight, layer.sizes);
  // Sums over rows·S values per channel: f32 rounding grows like √count; x̂ is O(1).
  const atol = 1e-5 * Math.sqrt(rows * layer.sizes.spatial);
  const results = [
    compare('y', await readF32(gpu, layer.buf.y), expected.y, atol),
    compare('running_mean', await readF32(gpu, layer.buf.runningMean), expected.runningMean, 1e-6),
    compare('running_var', await readF32(gpu, layer.buf.runningVar), expected.runningVar, 1e-6),
    compare('dWeight', await readF32(gpu, layer.buf.dWeight), grads.dWeight, atol),
    compare('dBias', await readF32(gpu, layer.buf.dBias), grads.dBias, atol),
  ];
  if (withDx) results.push(compare('dx', await readF32(gpu, layer.buf.dx), grads.dx, atol));
  layer.release();
  return results;
}

/**
 * `steps` train-mode forwards on different batches move the running statistics exactly as PyTorch's
 * update does; an eval-mode plan over the same buffers then normalises with them.
 */
export async function batchnormRunningStats(shape: number[], rows: number, steps: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const layer = buildLayer(gpu, shape, rows);
  let { runningMean, runningVar } = layer.host as { runningMean: ArrayLike<number>; runningVar: ArrayLike<number> };
  for (let s = 0; s < steps; s++) {
    const x = randomArray(layer.n, 100 + s, -1 + s, 2 + 2 * s);
    gpu.device.queue.writeBuffer(layer.buf.x, 0, x);
    await run(gpu, layer.train.forward);
    ({ runningMean, runningVar } = ref.batchnormForwardTrain(x, layer.host.weight, layer.host.bias, runningMean, runningVar, layer.sizes));
  }
  const results = [
    compare(`running_mean after ${steps} steps`, await readF32(gpu, layer.buf.runningMean), runningMean, 1e-5),
    compare(`running_var after ${steps} steps`, await readF32(gpu, layer.buf.runningVar), runningVar, 1e-5),
  ];
  const x = randomArray(layer.n, 7, -3, 3);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, x);
  await run(gpu, layer.eval.forward);
  const expected = ref.normalize(x, layer.host.weight, layer.host.bias, runningMean, runningVar, layer.sizes);
  results.push(compare('eval y (running statistics)', await readF32(gpu, layer.buf.y), expected, 1e-5));
  layer.release();
  return results;
}

/**
 * Central-difference check of the GPU backward: for L = Σ r·y(x, γ, β) with random r, compares dx, dγ, dβ
 * with (L(v + h) − L(v − h)) / 2h of the float64 reference forward.
 */
export async function batchnormGradCheck(shape: number[], rows: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const layer = buildLayer(gpu, shape, rows);
  const x = Float64Array.from(randomArray(layer.n, 3, -2, 2));
  const r = randomArray(layer.n, 4);
  gpu.device.queue.writeBuffer(layer.buf.x, 0, Float32Array.from(x));
  gpu.device.queue.writeBuffer(layer.buf.dy, 0, r);
  await run(gpu, [...layer.train.forward, ...layer.train.backward]);
  const weight = Float64Array.from(layer.host.weight);
  const bias = Float64Array.from(layer.host.bias);
  const loss = () => {
    const { mean, variance } = ref.batchStats(x, layer.sizes);
    return ref.normalize(x, weight, bias, mean, variance, layer.sizes).reduce((sum, y, i) => sum + r[i]! * y, 0);
  };
  const numeric = (values: Float64Array) => centralDifferences(values, loss, 1e-4);
  // L is smooth: the central difference is off by O(h²)·|L'''| ≈ 1e-8 here, and float64 rounding of
  // L/h ≈ 1e-12·|L|/h; the GPU gradients carry f32 error ~1e-6·√count — tinygrad's gradient tolerances
  // (atol 1e-4, rtol 1e-3) cover both with room.
  const results = [
    compare('dx vs finite differences', await readF32(gpu, layer.buf.dx), numeric(x), 1e-4),
    compare('dγ vs finite differences', await readF32(gpu, layer.buf.dWeight), numeric(weight), 1e-4),
    compare('dβ vs finite differences', await readF32(gpu, layer.buf.dBias), numeric(bias), 1e-4),
  ];
  layer.release();
  return results;
}
