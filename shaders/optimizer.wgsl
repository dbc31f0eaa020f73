// One optimizer step over the whole flat parameter arena, one invocation per parameter, with
// torch.optim semantics (L2 weight decay added to the gradient, as PyTorch's `weight_decay` does):
//
//   params, grads  [count] f32
//   adam:  m, v     [count] f32  first and second moments, zero before step 1
//   sgd:   velocity [count] f32  momentum buffer, zero before step 1 (only with MOMENTUM)
//
// lr and the 1-based step t come from the Step uniform, so one recorded dispatch serves every step.
//
// The arrays' lengths are those of the bound buffers, compiled in (LEN_params …, see kernel() in
// src/gpu/kernel.ts): the bounds checks then clamp against constants instead of SwiftShader's per-lane
// division for a run-time length (docs/perf/optimizer.md).

struct Hyper {
  count: u32,
  beta1: f32,
  beta2: f32,
  // 1 − β and ln β computed in float64 on the CPU: 1 − 0.999 done in f32 is 1.3e-5 off, relatively.
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  logBeta1: f32,
  logBeta2: f32,
  eps: f32,
  momentum: f32,
  weightDecay: f32,
}

#include step

@group(0) @binding(0) var<uniform> hyper: Hyper;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> params: array<f32, ${LEN_params}u>;
@group(0) @binding(3) var<storage, read> grads: array<f32, ${LEN_grads}u>;
@group(0) @binding(4) var<storage, read_write> m: array<f32, ${LEN_m}u>;
@group(0) @binding(5) var<storage, read_write> v: array<f32, ${LEN_v}u>;
@group(0) @binding(6) var<storage, read_write> velocity: array<f32, ${LEN_velocity}u>;

const WG: u32 = 256u;

// Grid-stride loops: a bounded number of invocations each update many parameters, so the per-step
// factors (Adam's bias corrections) are computed once per invocation rather than once per parameter.
fn stride(groups: vec3u) -> u32 {
  return groups.x * WG;
}

// 1 − βᵗ = −expm1(t·ln β). PyTorch computes it in float64; in f32, 1 − pow(β, t) loses most digits to
// cancellation while t·|ln β| is small (β2 = 0.999 for hundreds of steps), so there we sum expm1's
// Taylor series instead (terms to x⁹: relative error < 1e-9 for |x| ≤ 0.5).
fn biasCorrection(logBeta: f32, t: u32) -> f32 {
  let x = f32(t) * logBeta;
  if (x < -0.5) { return 1.0 - exp(x); }
  var term = x;
  var sum = x;
  for (var k = 2u; k <= 9u; k++) {
    term *= x / f32(k);
    sum += term;
  }
  return -sum;
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // PyTorch's order: step_size = lr / (1 − β1ᵗ); denom = √v / √(1 − β2ᵗ) + ε.
  let stepSize = step.lr / biasCorrection(hyper.logBeta1, step.t);
  let sqrtCorrection2 = sqrt(biasCorrection(hyper.logBeta2, step.t));
  for (var i = gid.x; i < hyper.count; i += stride(groups)) {
    let p = params[i];
    let g = grads[i] + hyper.weightDecay * p;
    let mi = hyper.beta1 * m[i] + hyper.oneMinusBeta1 * g;
    let vi = hyper.beta2 * v[i] + hyper.oneMinusBeta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = p - stepSize * (mi / (sqrt(vi) / sqrtCorrection2 + hyper.eps));
  }
}

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < hyper.count; i += stride(groups)) {
    let p = params[i];
    let g = grads[i] + hyper.weightDecay * p;
#if ${MOMENTUM}
    // PyTorch starts the buffer at g on step 1: momentum·0 + g is exactly that.
    let b = hyper.momentum * velocity[i] + g;
    velocity[i] = b;
    params[i] = p - step.lr * b;
#else
    params[i] = p - step.lr * g;
#endif
  }
}
