/**
 * Float64 reference of torch.optim.Adam and torch.optim.SGD (the single-tensor `for` loop path), the
 * oracle for shaders/optimizer.wgsl. Updates params and moments in place, one step.
 */

export interface AdamHyper {
  lr: number;
  /** 1-based step. */
  t: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export function adamStep(params: Float64Array, grads: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamHyper): void {
  const stepSize = h.lr / (1 - h.beta1 ** h.t);
  const bias2Sqrt = Math.sqrt(1 - h.beta2 ** h.t);
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]! + h.weightDecay * params[i]!;
    m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
    params[i]! -= stepSize * (m[i]! / (Math.sqrt(v[i]!) / bias2Sqrt + h.eps));
  }
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/** With momentum, `velocity` is PyTorch's momentum_buffer: g itself on the first step, then momentum·buf + g. */
export function sgdStep(params: Float64Array, grads: ArrayLike<number>, velocity: Float64Array | null, h: SgdHyper, first: boolean): void {
  for (let i = 0; i < params.length; i++) {
    let g = grads[i]! + h.weightDecay * params[i]!;
    if (velocity) {
      velocity[i] = first ? g : h.momentum * velocity[i]! + g;
      g = velocity[i]!;
    }
    params[i]! -= h.lr * g;
  }
}
