import * as ref from '../../src/reference/dense.ts';
import * as refActivation from '../../src/reference/activation.ts';
import type { ActivationKind } from '../../src/graph/spec.ts';
import { probeQuads, type Gpu } from '../../src/gpu/gpu.ts';
import type { Dispatch } from '../../src/gpu/kernel.ts';
import { denseBackwardData, denseBackwardWeights, denseBiasGrad, denseForward } from '../../src/layers/dense.ts';
import { Rng } from '../../src/data/random.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, type Closeness } from './util.ts';

/**
 * The kernels a dense test runs, as a view of the test device (gpu.withTarget): 'wide', shaped for a CPU
 * adapter (32×16 blocks with quad-shared loads where the shape takes them, a one-slice bias gradient), as
 * SwiftShader gets them; 'quads', shaped for a GPU (8×8 blocks sharing loads within quads, split sums, a
 * 16-slice bias gradient); 'blocks', a GPU's shapes without subgroups (the register-blocked rung);
 * 'tiles', the workgroup-tiled rung; 'textbook', rung 0 (`--kernels plain`). 'wide' and 'quads' need the
 * device's `subgroups` feature, which SwiftShader has.
 */
export type DenseVariant = 'wide' | 'quads' | 'blocks' | 'tiles' | 'textbook';

export function denseVariant(gpu: Gpu, variant: DenseVariant): Gpu {
  switch (variant) {
    case 'wide': return gpu.withTarget('cpu');
    case 'quads': return gpu.withTarget('gpu');
    case 'blocks': return gpu.withTarget('gpu', { dense: 2 });
    case 'tiles': return gpu.withTarget('gpu', { dense: 1 });
    case 'textbook': return gpu.withTarget('plain');
  }
}

/** Forward and all three backward products of one dense layer against the float64 reference, with the kernels of `variant`. */
export async function denseVsReference(rows: number, inF: number, outF: number, variant: DenseVariant): Promise<DenseRun> {
  return denseChecks(denseVariant(await testGpu(), variant), rows, inF, outF);
}

/**
 * The comparisons, the entry points that ran (forward, backward_data, backward_weights, bias_grad), their rungs,
 * and whether the products were the kernels that share loads within quads (rung 3 or above).
 */
export interface DenseRun { results: Closeness[]; entries: string[]; rungs: number[]; quads: boolean }

function ran(dispatches: Dispatch[]): Pick<DenseRun, 'entries' | 'rungs' | 'quads'> {
  const products = dispatches.filter((d) => d.entry !== 'bias_grad' && d.entry !== 'reduce_splits');
  return { entries: dispatches.map((d) => d.entry), rungs: dispatches.map((d) => d.rung?.index ?? -1), quads: products.every((d) => (d.rung?.index ?? 0) >= 3) };
}

async function denseChecks(gpu: Gpu, rows: number, inF: number, outF: number): Promise<DenseRun> {
  const x = randomArray(rows * inF, 1);
  const w = randomArray(outF * inF, 2);
  const b = randomArray(outF, 3);
  const dy = randomArray(rows * outF, 4);
  const sizes = { rows, inFeatures: inF, outFeatures: outF };
  const buf = {
    x: storage(gpu, 'x', x), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy),
    y: empty(gpu, 'y', rows * outF), dx: empty(gpu, 'dx', rows * inF), dWeight: empty(gpu, 'dW', outF * inF), dBias: empty(gpu, 'db', outF),
  };
  const dispatches = [
    ...denseForward(gpu, { ...sizes, ...buf }),
    denseBackwardData(gpu, { ...sizes, ...buf }),
    ...denseBackwardWeights(gpu, { ...sizes, ...buf }),
    denseBiasGrad(gpu, { ...sizes, ...buf }),
  ];
  await run(gpu, dispatches);
  const expectedY = ref.denseForward(x, w, b, rows, inF, outF);
  const expected = ref.denseBackward(dy, x, w, rows, inF, outF);
  // Sums of up to ~1000 products of values in [-1, 1]: f32 rounding grows like √K·ε·|terms|.
  const atol = 1e-5 * Math.sqrt(Math.max(inF, outF, rows));
  const results = [
    compare('y', await readF32(gpu, buf.y), expectedY, atol),
    compare('dx', await readF32(gpu, buf.dx), expected.dx, atol),
    compare('dW', await readF32(gpu, buf.dWeight), expected.dWeight, atol),
    compare('db', await readF32(gpu, buf.dBias), expected.dBias, atol),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return { results, ...ran(dispatches) };
}

/**
 * The forward and dW of a first layer reading x as bytes (X_BYTES: 4 per u32 word, each byte / 255, as a
 * model's input batch of images comes) against the float64 reference on byte / 255, with the kernels of
 * `variant` as in denseVsReference. Every byte value and lane of a word occurs.
 */
export async function denseBytesVsReference(rows: number, inF: number, outF: number, variant: DenseVariant): Promise<DenseRun> {
  const gpu = denseVariant(await testGpu(), variant);
  {
    const rng = new Rng(rows * 7 + inF);
    const bytes = Uint8Array.from({ length: rows * inF }, () => rng.int(256));
    const x = Float64Array.from(bytes, (v) => v / 255);
    const w = randomArray(outF * inF, 2);
    const b = randomArray(outF, 3);
    const dy = randomArray(rows * outF, 4);
    const sizes = { rows, inFeatures: inF, outFeatures: outF, xFormat: 'u8x4' as const };
    const buf = {
      x: storage(gpu, 'x.bytes', new Uint32Array(bytes.buffer)), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy),
      y: empty(gpu, 'y', rows * outF), dWeight: empty(gpu, 'dW', outF * inF),
    };
    const dispatches = [...denseForward(gpu, { ...sizes, ...buf }), ...denseBackwardWeights(gpu, { ...sizes, ...buf })];
    await run(gpu, dispatches);
    const atol = 1e-5 * Math.sqrt(Math.max(inF, outF, rows));
    const results = [
      compare('y', await readF32(gpu, buf.y), ref.denseForward(x, w, b, rows, inF, outF), atol),
      compare('dW', await readF32(gpu, buf.dWeight), ref.denseBackward(dy, x, w, rows, inF, outF).dWeight, atol),
    ];
    for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
    return { results, ...ran(dispatches) };
  }
}

/** shaders/quad_probe.wgsl in workgroups of `sizes` invocations: whether every quad of lanes is aligned. */
export async function quadsAlignedIn(sizes: number[]): Promise<boolean> {
  const gpu = await testGpu();
  return probeQuads(gpu, sizes);
}

/**
 * The forward with an activation fused into its store, under `variant`, against f(x·Wᵀ + b) in float64:
 * where the policy splits the sum (a GPU's shapes), reduce_splits applies the bias and f.
 */
export async function denseActivatedVsReference(rows: number, inF: number, outF: number, variant: DenseVariant, kind: ActivationKind): Promise<DenseRun> {
  const gpu = denseVariant(await testGpu(), variant);
  const activation = { kind, alpha: kind === 'leaky_relu' ? 0.1 : kind === 'elu' ? 0.7 : 0 };
  const x = randomArray(rows * inF, 11);
  const w = randomArray(outF * inF, 12);
  const b = randomArray(outF, 13);
  const buf = { x: storage(gpu, 'x', x), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), y: empty(gpu, 'y', rows * outF) };
  const dispatches = denseForward(gpu, { rows, inFeatures: inF, outFeatures: outF, ...buf, activation });
  await run(gpu, dispatches);
  const expected = refActivation.activationForward(kind, activation.alpha, ref.denseForward(x, w, b, rows, inF, outF));
  const results = [compare(`${kind}(y)`, await readF32(gpu, buf.y), expected, 1e-5 * Math.sqrt(Math.max(inF, outF, rows)))];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return { results, ...ran(dispatches) };
}

/**
 * dx, dW and db of one dense layer under `variant` against central differences of its GPU forward, with
 * sigmoid's f' fused into dx: x = σ(u) is the layer's input, the loss Σ g ⊙ (x·Wᵀ + b) for fixed random g
 * (so dy = g), and the differences are taken in u, W and b, x recomputed from u on the CPU.
 */
export async function denseFiniteDifferences(rows: number, inF: number, outF: number, variant: DenseVariant, h: number): Promise<DenseRun> {
  const gpu = denseVariant(await testGpu(), variant);
  const u = Float64Array.from(randomArray(rows * inF, 21));
  const w = Float64Array.from(randomArray(outF * inF, 22));
  const b = Float64Array.from(randomArray(outF, 23));
  const g = randomArray(rows * outF, 24);
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const sizes = { rows, inFeatures: inF, outFeatures: outF };
  const buf = {
    x: storage(gpu, 'x', Float32Array.from(u, sigmoid)), weight: storage(gpu, 'w', Float32Array.from(w)), bias: storage(gpu, 'b', Float32Array.from(b)),
    y: empty(gpu, 'y', rows * outF), dy: storage(gpu, 'dy', g), dx: empty(gpu, 'dx', rows * inF), dWeight: empty(gpu, 'dW', outF * inF), dBias: empty(gpu, 'db', outF),
  };
  const forward = denseForward(gpu, { ...sizes, ...buf });
  const backward = [
    denseBackwardData(gpu, { ...sizes, ...buf, inputActivation: { kind: 'sigmoid', alpha: 0 } }),
    ...denseBackwardWeights(gpu, { ...sizes, ...buf }),
    denseBiasGrad(gpu, { ...sizes, ...buf }),
  ];
  await run(gpu, backward);
  const analytic = { u: await readF32(gpu, buf.dx), w: await readF32(gpu, buf.dWeight), b: await readF32(gpu, buf.dBias) };
  const upload = () => {
    gpu.device.queue.writeBuffer(buf.x, 0, Float32Array.from(u, sigmoid));
    gpu.device.queue.writeBuffer(buf.weight, 0, Float32Array.from(w));
    gpu.device.queue.writeBuffer(buf.bias, 0, Float32Array.from(b));
  };
  const loss = async () => {
    upload();
    await run(gpu, forward);
    const y = await readF32(gpu, buf.y);
    return y.reduce((sum, v, i) => sum + v * g[i]!, 0);
  };
  const differences = async (values: Float64Array) => {
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      values[i] = v + h;
      const up = await loss();
      values[i] = v - h;
      const down = await loss();
      values[i] = v;
      out[i] = (up - down) / (2 * h);
    }
    return out;
  };
  // As tests/browser/gradcheck.ts: f32 forwards make the quotient noisy by about ε·|loss|/h.
  const results = [
    compare('dx (∂/∂u through σ)', analytic.u, await differences(u), 2e-4, 2e-2),
    compare('dW', analytic.w, await differences(w), 2e-4, 2e-2),
    compare('db', analytic.b, await differences(b), 2e-4, 2e-2),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return { results, ...ran([...forward, ...backward]) };
}
