// The activation functions, included (`#include activate`) by activation.wgsl and by the dense and conv2d
// kernels that apply an activation as they store (see "Fusion" in src/graph/sequential.ts). One define
// picks the kind (SIGMOID, RELU, LEAKY_RELU or ELU; none: the identity, for kernels with nothing fused),
// ALPHA is leaky_relu's slope for v ≤ 0 and ELU's α.
//
//   activate(v)  y = f(v)
//   slope(y)     f'(v) worked out from y = f(v) alone, so that a backward needs only the forward's output:
//                relu, leaky_relu (α ≥ 0) and ELU (α > 0) have y > 0 exactly when v > 0.

const ALPHA: f32 = ${ALPHA};

fn activate(v: f32) -> f32 {
#if ${SIGMOID}
  // exp of −|v| only, so neither branch can overflow: σ(v) = 1/(1+e) for v ≥ 0, e/(1+e) below.
  let e = exp(-abs(v));
  return select(e, 1.0, v >= 0.0) / (1.0 + e);
#elif ${RELU}
  return max(v, 0.0);
#elif ${LEAKY_RELU}
  return select(ALPHA * v, v, v > 0.0);
#elif ${ELU}
  // min(v, 0) keeps exp from overflowing on the branch select discards.
  return select(ALPHA * (exp(min(v, 0.0)) - 1.0), v, v > 0.0);
#else
  return v;
#endif
}

// As PyTorch defines it at the kink: v = 0 (y = 0) takes the v ≤ 0 side.
fn slope(y: f32) -> f32 {
#if ${SIGMOID}
  return y * (1.0 - y);
#elif ${RELU}
  return select(0.0, 1.0, y > 0.0);
#elif ${LEAKY_RELU}
  return select(ALPHA, 1.0, y > 0.0);
#elif ${ELU}
  return select(y + ALPHA, 1.0, y > 0.0);  // α·eᵛ = y + α
#else
  return 1.0;
#endif
}
