import * as ref from '../../src/reference/optimizer.ts';
import { writeAligned } from '../../src/gpu/buffers.ts';
import { momentBuffers, OPTIMIZER_DEFAULTS, optimizerStep, type OptimizerSpec } from '../../src/engine/optimizer.ts';
import { compare, empty, randomArray, readF32, run, stepUniform, storage, testGpu, writeStep, type Closeness } from './util.ts';

/**
 * Several optimizer steps (new gradients, t and lr each step) on the GPU and in the float64 reference,
 * from the same f32 start; params and every moment compared at the end.
 */
export async function optimizerVsReference(spec: OptimizerSpec, count: number, steps: Array<{ t: number; lr: number }>): Promise<Closeness[]> {
  const gpu = await testGpu();
  const start = randomArray(count, 41);
  const buf = {
    params: storage(gpu, 'params', start),
    grads: empty(gpu, 'grads', count),
    moments: Array.from({ length: momentBuffers(spec) }, (_, i) => empty(gpu, `moment${i}`, count)),
    step: stepUniform(gpu, { batchStart: 0, seed: 0, ...steps[0]! }),
  };
  const dispatch = optimizerStep(gpu, { spec, count, ...buf });

  const h = { ...OPTIMIZER_DEFAULTS, ...spec };
  const params = Float64Array.from(start);
  const moments = buf.moments.map(() => new Float64Array(count));
  for (const [k, { t, lr }] of steps.entries()) {
    const grads = randomArray(count, 100 + k);
    writeAligned(gpu.device, buf.grads, 0, grads);
    writeStep(gpu, buf.step, { batchStart: 0, seed: 0, t, lr });
    await run(gpu, [dispatch]);
    if (spec.kind === 'adam') ref.adamStep(params, grads, moments[0]!, moments[1]!, { ...h, t, lr });
    else ref.sgdStep(params, grads, moments[0] ?? null, { ...h, lr }, k === 0);
  }

  // Each step adds a few f32 roundings of |p| ≤ ~1.5 (ε ≈ 6e-8) and of an update ≤ lr; five steps stay
  // far inside atol 1e-6 / rtol 1e-5, tight enough that a wrong bias correction or order fails.
  const results = [compare('params', await readF32(gpu, buf.params), params, 1e-6, 1e-5)];
  // Moments are running sums whose terms can cancel, so atol follows the size of the terms, not of
  // the result: a few ulp of 4 for m and velocity (Σ 0.9ᵏ·|g| ≤ 4.1), scaled by (1 − β2) for v.
  const names = spec.kind === 'adam' ? ['m', 'v'] : ['velocity'];
  for (const [i, moment] of buf.moments.entries()) {
    const atol = names[i] === 'v' ? 2e-6 * (1 - h.beta2) : 2e-6;
    results.push(compare(names[i]!, await readF32(gpu, moment), moments[i]!, atol, 1e-5));
  }
  for (const buffer of [buf.params, buf.grads, buf.step, ...buf.moments]) gpu.buffers.release(buffer);
  return results;
}

/** Messages thrown for out-of-range specs and for a wrong number of moment buffers (all throw before any binding). */
export async function optimizerErrors(cases: Array<{ spec: OptimizerSpec; moments: number }>): Promise<string[]> {
  const gpu = await testGpu();
  const params = empty(gpu, 'params', 4);
  const step = stepUniform(gpu, { batchStart: 0, t: 1, seed: 0, lr: 0.1 });
  const messages = cases.map(({ spec, moments }) => {
    try {
      optimizerStep(gpu, { spec, params, grads: params, moments: new Array<GPUBuffer>(moments).fill(params), count: 4, step });
      return 'no error';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  });
  gpu.buffers.release(params);
  gpu.buffers.release(step);
  return messages;
}
