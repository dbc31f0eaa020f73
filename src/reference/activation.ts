/** Float64 reference of the activations, the oracle for shaders/activation.wgsl. PyTorch's conventions at x = 0. */
import type { ActivationKind } from '../graph/spec.ts';

/** f(v) */
export function activate(kind: ActivationKind, alpha: number, v: number): number {
  switch (kind) {
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'relu':
      return Math.max(v, 0);
    case 'leaky_relu':
      return v > 0 ? v : alpha * v;
    case 'elu':
      return v > 0 ? v : alpha * Math.expm1(v);
  }
}

/** f'(v); at the kink v = 0 the v ≤ 0 side, as PyTorch's backward does. */
export function slope(kind: ActivationKind, alpha: number, v: number): number {
  switch (kind) {
    case 'sigmoid': {
      const s = activate(kind, alpha, v);
      return s * (1 - s);
    }
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'leaky_relu':
      return v > 0 ? 1 : alpha;
    case 'elu':
      return v > 0 ? 1 : alpha * Math.exp(v);
  }
}

/** y = f(x) */
export function activationForward(kind: ActivationKind, alpha: number, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => activate(kind, alpha, v));
}

/** dx = dy · f'(x) */
export function activationBackward(kind: ActivationKind, alpha: number, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => dy[i]! * slope(kind, alpha, v));
}
