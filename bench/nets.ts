import type { Rng } from '../src/data/random.ts';
import type { Workload } from './workloads.ts';

/** A trainable tensor of a benchmark network, with the fan-in that sets its PyTorch-default init bound. */
export interface ParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
}

/**
 * Parameters of each workload in NCHW / `[in, out]` layout (jax-js and ours; tfjs builds its own
 * layers). CNN: 28×28 → conv k5 s2 → 16×12×12 → conv k3 → 8×10×10 = 800 → 10.
 */
export function paramSpecs(workload: Workload): ParamSpec[] {
  if (workload === 'mlp') {
    return [
      { name: 'w1', shape: [784, 128], fanIn: 784 },
      { name: 'b1', shape: [128], fanIn: 784 },
      { name: 'w2', shape: [128, 64], fanIn: 128 },
      { name: 'b2', shape: [64], fanIn: 128 },
      { name: 'w3', shape: [64, 10], fanIn: 64 },
      { name: 'b3', shape: [10], fanIn: 64 },
    ];
  }
  return [
    { name: 'conv1', shape: [16, 1, 5, 5], fanIn: 25 },
    { name: 'conv1Bias', shape: [16], fanIn: 25 },
    { name: 'conv2', shape: [8, 16, 3, 3], fanIn: 144 },
    { name: 'conv2Bias', shape: [8], fanIn: 144 },
    { name: 'dense', shape: [800, 10], fanIn: 800 },
    { name: 'denseBias', shape: [10], fanIn: 800 },
  ];
}

/** PyTorch's default init for Linear and Conv2d: uniform in ±1/√fanIn, weights and biases alike. */
export function initialValues(spec: ParamSpec, rng: Rng): Float32Array<ArrayBuffer> {
  const bound = 1 / Math.sqrt(spec.fanIn);
  const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-bound, bound);
  return values;
}
