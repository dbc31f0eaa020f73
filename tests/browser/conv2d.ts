import * as ref from '../../src/reference/conv2d.ts';
import { activate, slope } from '../../src/reference/activation.ts';
import type { ActivationKind } from '../../src/graph/spec.ts';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dBiasGrad, conv2dForward, convOutputSize, type ConvSizes } from '../../src/layers/conv2d.ts';
import type { Dispatch } from '../../src/gpu/kernel.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { KernelChoice } from '../../src/gpu/target.ts';
import { CONV2D_RUNGS } from '../../src/layers/conv2d-policy.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, type Closeness, centralDifferences } from './util.ts';

function outputLength(g: ConvSizes): number {
  return g.rows * g.outChannels * convOutputSize(g.height, g.kernel, g.stride, g.padding) * convOutputSize(g.width, g.kernel, g.stride, g.padding);
}

/**
 * The kernels a test forces (gpu.withTarget): a `--kernels` choice and, optionally, the highest rung of
 * conv2d's ladder. 'cpu' is SwiftShader's own shapes (coarse splits of the batch), 'gpu' a discrete GPU's
 * (fine splits, sliced adding), 'plain' rung 0 everywhere.
 */
export interface ConvKernels {
  kernels: KernelChoice;
  ceiling?: number;
}

/** The rung of each dispatch, by label (`conv2d.forward` …): which kernels actually ran. */
export type RungsRan = Record<string, number>;

/** Runs forward, dx, dW and db once on seeded inputs with the kernels asked for; returns inputs, GPU results and the rungs that ran. */
async function runConv(g: ConvSizes, dy: Float32Array, k: ConvKernels) {
  const gpu = (await testGpu()).withTarget(k.kernels, k.ceiling === undefined ? {} : { conv2d: k.ceiling });
  return runConvOn(gpu, g, dy);
}

async function runConvOn(gpu: Gpu, g: ConvSizes, dy: Float32Array) {
  const x = randomArray(g.rows * g.inChannels * g.height * g.width, 1);
  const w = randomArray(g.outChannels * g.inChannels * g.kernel ** 2, 2);
  const b = randomArray(g.outChannels, 3);
  const buf = {
    x: storage(gpu, 'x', x), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy),
    y: empty(gpu, 'y', dy.length), dx: empty(gpu, 'dx', x.length), dWeight: empty(gpu, 'dW', w.length), dBias: empty(gpu, 'db', b.length),
  };
  const dispatches = [
    ...conv2dForward(gpu, { ...g, ...buf }),
    ...conv2dBackwardData(gpu, { ...g, ...buf }),
    ...conv2dBackwardFilter(gpu, { ...g, ...buf }),
    ...conv2dBiasGrad(gpu, { ...g, ...buf }),
  ];
  await run(gpu, dispatches);
  const out = { y: await readF32(gpu, buf.y), dx: await readF32(gpu, buf.dx), dWeight: await readF32(gpu, buf.dWeight), dBias: await readF32(gpu, buf.dBias) };
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  const rungs: RungsRan = Object.fromEntries(dispatches.map((d) => [d.label, d.rung?.index ?? -1]));
  return { x, w, b, ...out, rungs };
}

/** Forward and the three backward products of one conv2d against the float64 reference, and the rungs that ran. */
export async function conv2dVsReference(g: ConvSizes, k: ConvKernels): Promise<{ results: Closeness[]; rungs: RungsRan; subgroups: boolean }> {
  const dy = randomArray(outputLength(g), 4);
  const gpu = await runConv(g, dy, k);
  const y = ref.conv2dForward(gpu.x, gpu.w, gpu.b, g);
  const grads = ref.conv2dBackward(dy, gpu.x, gpu.w, g);
  // Each value sums `terms` products of numbers in [-1, 1]: f32 rounding grows like √terms (as in the dense
  // test; measured max errors sit 5–10× below this). dW and db sum over every output position of the batch.
  const atol = (terms: number) => 4e-6 * Math.sqrt(terms);
  const positions = dy.length / g.outChannels;
  const results = [
    compare('y', gpu.y, y, atol(g.inChannels * g.kernel ** 2)),
    compare('dx', gpu.dx, grads.dx, atol(g.outChannels * g.kernel ** 2)),
    compare('dW', gpu.dWeight, grads.dWeight, atol(positions)),
    compare('db', gpu.dBias, grads.dBias, atol(positions)),
  ];
  return { results, rungs: gpu.rungs, subgroups: (await testGpu()).facts.subgroups };
}

/**
 * The activations fused into the kernels (src/graph/sequential.ts "Fusion"): forward stores f(y) for the
 * activation `kind` that follows the layer, and backward-data stores dx · f'(v) for the one that produced x
 * = f(v), f' worked out from x alone. Against the float64 reference of the convolution and activation.
 */
export async function conv2dFusedVsReference(g: ConvSizes, k: ConvKernels, kind: ActivationKind): Promise<Closeness[]> {
  const gpu = (await testGpu()).withTarget(k.kernels, k.ceiling === undefined ? {} : { conv2d: k.ceiling });
  const activation = { kind, alpha: 1 };
  const preActivation = randomArray(g.rows * g.inChannels * g.height * g.width, 6, -2, 2);
  const x = Float32Array.from(preActivation, (v) => activate(kind, 1, v));
  const w = randomArray(g.outChannels * g.inChannels * g.kernel ** 2, 7);
  const b = randomArray(g.outChannels, 8);
  const dy = randomArray(outputLength(g), 9);
  const buf = { x: storage(gpu, 'x', x), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy), y: empty(gpu, 'y', dy.length), dx: empty(gpu, 'dx', x.length) };
  await run(gpu, [
    ...conv2dForward(gpu, { ...g, ...buf, activation }),
    ...conv2dBackwardData(gpu, { ...g, ...buf, inputActivation: { activation, x: buf.x } }),
  ]);
  const y = await readF32(gpu, buf.y);
  const dx = await readF32(gpu, buf.dx);
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  const yRef = ref.conv2dForward(x, w, b, g).map((v) => activate(kind, 1, v));
  const dxRef = ref.conv2dBackward(dy, x, w, g).dx.map((v, i) => v * slope(kind, 1, preActivation[i]!));
  const atol = (terms: number) => 4e-6 * Math.sqrt(terms);
  return [
    compare(`y = ${kind}(conv)`, y, yRef, atol(g.inChannels * g.kernel ** 2)),
    compare(`dx · ${kind}'`, dx, dxRef, atol(g.outChannels * g.kernel ** 2)),
  ];
}

/**
 * Central-difference check of the GPU backward: for L = Σ r·y(x, W, b) with random r (= dy), compares dx,
 * dW, db with (L(v + h) − L(v − h)) / 2h of the float64 reference forward, for every element.
 */
export async function conv2dGradCheck(g: ConvSizes, k: ConvKernels): Promise<Closeness[]> {
  const r = randomArray(outputLength(g), 5);
  const gpu = await runConv(g, r, k);
  const x = Float64Array.from(gpu.x);
  const w = Float64Array.from(gpu.w);
  const b = Float64Array.from(gpu.b);
  const loss = () => ref.conv2dForward(x, w, b, g).reduce((sum, y, i) => sum + r[i]! * y, 0);
  const numeric = (values: Float64Array) => centralDifferences(values, loss, 1e-3);
  // L is linear in each input, so the central difference is exact up to float64 rounding (~1e-12); what
  // remains is the GPU's f32 accumulation, within tinygrad's gradient tolerance atol 1e-4 / rtol 1e-3.
  return [
    compare('dx vs finite differences', gpu.dx, numeric(x), 1e-4),
    compare('dW vs finite differences', gpu.dWeight, numeric(w), 1e-4),
    compare('db vs finite differences', gpu.dBias, numeric(b), 1e-4),
  ];
}

/**
 * Times forward and backward of the two convolutions of the MNIST CNN at `rows` samples at every rung of
 * conv2d's ladder (a rung ceiling on the device's own target): not a test, numbers to watch and to put in
 * docs/perf/conv2d.md. Each product runs once to warm up, then `reps` times; the fastest run is kept, since
 * on a shared machine the slower ones measure the neighbours. The first layer's dx is left out: a plan
 * never computes it.
 */
export async function conv2dBenchmark(rows = 1000, reps = 3): Promise<Record<string, number>> {
  const device = await testGpu();
  const layers: Array<[string, ConvSizes, boolean]> = [
    ['conv1 1→16 k5 s2', { rows, inChannels: 1, height: 28, width: 28, outChannels: 16, kernel: 5, stride: 2, padding: 0 }, false],
    ['conv2 16→8 k3', { rows, inChannels: 16, height: 12, width: 12, outChannels: 8, kernel: 3, stride: 1, padding: 0 }, true],
  ];
  const times: Record<string, number> = {};
  for (const rung of CONV2D_RUNGS) {
    const gpu = device.withTarget(device.target.choice, { conv2d: rung.index });
    for (const [name, g, needsDx] of layers) {
      const xLength = rows * g.inChannels * g.height * g.width;
      const yLength = outputLength(g);
      const wLength = g.outChannels * g.inChannels * g.kernel ** 2;
      const buf = {
        x: storage(gpu, 'x', randomArray(xLength, 1)), weight: storage(gpu, 'w', randomArray(wLength, 2)), bias: storage(gpu, 'b', randomArray(g.outChannels, 3)),
        dy: storage(gpu, 'dy', randomArray(yLength, 4)), y: empty(gpu, 'y', yLength), dx: empty(gpu, 'dx', xLength),
        dWeight: empty(gpu, 'dW', wLength), dBias: empty(gpu, 'db', g.outChannels),
      };
      const products: Array<[string, Dispatch[]]> = [
        ['forward', conv2dForward(gpu, { ...g, ...buf })],
        ['dW', conv2dBackwardFilter(gpu, { ...g, ...buf })],
        ['db', conv2dBiasGrad(gpu, { ...g, ...buf })],
      ];
      if (needsDx) products.push(['dx', conv2dBackwardData(gpu, { ...g, ...buf })]);
      for (const [product, dispatches] of products) {
        await run(gpu, dispatches);
        let best = Infinity;
        for (let i = 0; i < reps; i++) {
          const start = performance.now();
          await run(gpu, dispatches);
          best = Math.min(best, performance.now() - start);
        }
        const ran = dispatches.map((d) => d.rung?.index).join('+');
        times[`≤${rung.index} ${name} ${product} (rung ${ran}) ms`] = best;
      }
      for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
    }
  }
  return times;
}
