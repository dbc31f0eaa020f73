import * as ref from '../../src/reference/dense.ts';
import { probeQuads, type Gpu } from '../../src/gpu/gpu.ts';
import { denseBackwardData, denseBackwardWeights, denseBiasGrad, denseForward, matmul, sharesQuads } from '../../src/layers/dense.ts';
import { Rng } from '../../src/data/random.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, withKernels, type Closeness } from './util.ts';

/**
 * Forward and all three backward products of one dense layer against the float64 reference, with the
 * kernels of `variant`: 'wide', shaped for a CPU adapter (Gpu.cpuTuned: 16×16 blocks with subgroups where
 * the shape takes them, a one-slice bias gradient), as SwiftShader gets them; 'quads', shaped for a GPU
 * with subgroups (8×8 blocks, a 16-slice bias gradient); 'plain', a GPU without subgroups. The first two
 * need the device's `subgroups` feature, which SwiftShader has.
 */
export async function denseVsReference(rows: number, inF: number, outF: number, variant: 'wide' | 'quads' | 'plain'): Promise<DenseRun> {
  const gpu = await testGpu();
  return withKernels(gpu, { cpuTuned: variant === 'wide', subgroups: variant !== 'plain' }, () => denseChecks(gpu, rows, inF, outF));
}

/**
 * The comparisons, the entry points that ran (forward, backward_data, backward_weights, bias_grad), and whether
 * they were the kernels that share loads within quads (subgroups asked for, and Gpu.quadsAligned).
 */
export interface DenseRun { results: Closeness[]; entries: string[]; quads: boolean }

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
  return { results, entries: dispatches.map((d) => d.entry), quads: sharesQuads(gpu) };
}

/**
 * The forward and dW of a first layer reading x as bytes (X_BYTES: 4 per u32 word, each byte / 255, as a
 * model's input batch of images comes) against the float64 reference on byte / 255, with the kernels of
 * `variant` as in denseVsReference. Every byte value and lane of a word occurs.
 */
export async function denseBytesVsReference(rows: number, inF: number, outF: number, variant: 'wide' | 'quads' | 'plain'): Promise<DenseRun> {
  const gpu = await testGpu();
  return withKernels(gpu, { cpuTuned: variant === 'wide', subgroups: variant !== 'plain' }, async () => {
    const rng = new Rng(rows * 7 + inF);
    const bytes = Uint8Array.from({ length: rows * inF }, () => rng.int(256));
    const x = Float64Array.from(bytes, (v) => v / 255);
    const w = randomArray(outF * inF, 2);
    const b = randomArray(outF, 3);
    const dy = randomArray(rows * outF, 4);
    const sizes = { rows, inFeatures: inF, outFeatures: outF, xBytes: true };
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
    return { results, entries: dispatches.map((d) => d.entry), quads: sharesQuads(gpu) };
  });
}

/** The general tiled matmul (the fallback kernel) for all three products, on any shape. */
export async function tiledVsReference(rows: number, inF: number, outF: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const x = randomArray(rows * inF, 5);
  const w = randomArray(outF * inF, 6);
  const b = randomArray(outF, 7);
  const dy = randomArray(rows * outF, 8);
  const buf = {
    x: storage(gpu, 'x', x), w: storage(gpu, 'w', w), b: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy),
    y: empty(gpu, 'y', rows * outF), dx: empty(gpu, 'dx', rows * inF), dW: empty(gpu, 'dW', outF * inF),
  };
  await run(gpu, [
    matmul(gpu, { label: 'forward', a: buf.x, b: buf.w, c: buf.y, bias: buf.b, M: rows, N: outF, K: inF, aTransposed: false, bTransposed: true }),
    matmul(gpu, { label: 'backward_data', a: buf.dy, b: buf.w, c: buf.dx, M: rows, N: inF, K: outF, aTransposed: false, bTransposed: false }),
    matmul(gpu, { label: 'backward_weights', a: buf.dy, b: buf.x, c: buf.dW, M: outF, N: inF, K: rows, aTransposed: true, bTransposed: false }),
  ]);
  const expected = ref.denseBackward(dy, x, w, rows, inF, outF);
  const atol = 1e-5 * Math.sqrt(Math.max(inF, outF, rows));
  const results = [
    compare('y', await readF32(gpu, buf.y), ref.denseForward(x, w, b, rows, inF, outF), atol),
    compare('dx', await readF32(gpu, buf.dx), expected.dx, atol),
    compare('dW', await readF32(gpu, buf.dW), expected.dWeight, atol),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return results;
}

/** shaders/quad_probe.wgsl in workgroups of `sizes` invocations: whether every quad of lanes is aligned. */
export async function quadsAlignedIn(sizes: number[]): Promise<boolean> {
  const gpu = await testGpu();
  return probeQuads(gpu, sizes);
}
