import * as ref from '../../src/reference/dense.ts';
import { denseBackwardData, denseBackwardWeights, denseBiasGrad, denseForward } from '../../src/layers/dense.ts';
import { compare, empty, randomArray, readF32, run, storage, testGpu, type Closeness } from './util.ts';

/** Forward and all three backward products of one dense layer against the float64 reference. */
export async function denseVsReference(rows: number, inF: number, outF: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const x = randomArray(rows * inF, 1);
  const w = randomArray(outF * inF, 2);
  const b = randomArray(outF, 3);
  const dy = randomArray(rows * outF, 4);
  const sizes = { rows, inFeatures: inF, outFeatures: outF };
  const buf = {
    x: storage(gpu, 'x', x), weight: storage(gpu, 'w', w), bias: storage(gpu, 'b', b), dy: storage(gpu, 'dy', dy),
    y: empty(gpu, 'y', rows * outF), dx: empty(gpu, 'dx', rows * inF), dWeight: empty(gpu, 'dW', outF * inF), dBias: empty(gpu, 'db', outF),
  };
  await run(gpu, [
    denseForward(gpu, { ...sizes, ...buf }),
    denseBackwardData(gpu, { ...sizes, ...buf }),
    denseBackwardWeights(gpu, { ...sizes, ...buf }),
    denseBiasGrad(gpu, { ...sizes, ...buf }),
  ]);
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
  return results;
}
