/** Float64 reference of batch normalisation, the oracle for shaders/batchnorm.wgsl. x is [rows, C, S]. */
import type { NormSizes } from '../layers/batchnorm.ts';

export const EPS = 1e-5;
export const MOMENTUM = 0.1;

function index(g: NormSizes, c: number, i: number): number {
  return (Math.floor(i / g.spatial) * g.channels + c) * g.spatial + (i % g.spatial);
}

/** Batch mean and biased variance per channel. */
export function batchStats(x: ArrayLike<number>, g: NormSizes): { mean: Float64Array; variance: Float64Array } {
  const count = g.rows * g.spatial;
  const mean = new Float64Array(g.channels);
  const variance = new Float64Array(g.channels);
  for (let c = 0; c < g.channels; c++) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += x[index(g, c, i)]!;
    mean[c] = sum / count;
    let squares = 0;
    for (let i = 0; i < count; i++) squares += (x[index(g, c, i)]! - mean[c]!) ** 2;
    variance[c] = squares / count;
  }
  return { mean, variance };
}

/** y = γ·(x − mean)/√(variance + ε) + β with the given per-channel statistics. */
export function normalize(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, g: NormSizes): Float64Array {
  const y = new Float64Array(x.length);
  for (let c = 0; c < g.channels; c++) {
    const scale = weight[c]! / Math.sqrt(variance[c]! + EPS);
    for (let i = 0; i < g.rows * g.spatial; i++) {
      const k = index(g, c, i);
      y[k] = (x[k]! - mean[c]!) * scale + bias[c]!;
    }
  }
  return y;
}

/** Train-mode forward: y from batch statistics, and the running statistics after this step (PyTorch's update). */
export function batchnormForwardTrain(
  x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, g: NormSizes,
) {
  const { mean, variance } = batchStats(x, g);
  const count = g.rows * g.spatial;
  const newMean = Float64Array.from(mean, (m, c) => (1 - MOMENTUM) * runningMean[c]! + MOMENTUM * m);
  const newVar = Float64Array.from(variance, (v, c) => (1 - MOMENTUM) * runningVar[c]! + (MOMENTUM * v * count) / Math.max(count - 1, 1));
  return { y: normalize(x, weight, bias, mean, variance, g), mean, invStd: variance.map((v) => 1 / Math.sqrt(v + EPS)), runningMean: newMean, runningVar: newVar };
}

/** Gradients of the train-mode forward: dx through the batch statistics, dγ = Σ dy·x̂, dβ = Σ dy. */
export function batchnormBackward(dy: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, g: NormSizes) {
  const { mean, variance } = batchStats(x, g);
  const count = g.rows * g.spatial;
  const dx = new Float64Array(x.length);
  const dWeight = new Float64Array(g.channels);
  const dBias = new Float64Array(g.channels);
  for (let c = 0; c < g.channels; c++) {
    const inv = 1 / Math.sqrt(variance[c]! + EPS);
    for (let i = 0; i < count; i++) {
      const k = index(g, c, i);
      dBias[c]! += dy[k]!;
      dWeight[c]! += dy[k]! * (x[k]! - mean[c]!) * inv;
    }
    for (let i = 0; i < count; i++) {
      const k = index(g, c, i);
      const xhat = (x[k]! - mean[c]!) * inv;
      dx[k] = weight[c]! * inv * (dy[k]! - dBias[c]! / count - (xhat * dWeight[c]!) / count);
    }
  }
  return { dx, dWeight, dBias };
}
