import * as ref from '../../src/reference/dense.ts';
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
    return { results, ...ran(dispatches) };
  }
}

/** shaders/quad_probe.wgsl in workgroups of `sizes` invocations: whether every quad of lanes is aligned. */
export async function quadsAlignedIn(sizes: number[]): Promise<boolean> {
  const gpu = await testGpu();
  return probeQuads(gpu, sizes);
}
