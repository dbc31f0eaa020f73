// Batch normalisation per channel, PyTorch's BatchNorm2d (S = H·W) and BatchNorm1d (S = 1) in one file.
//
//   x, y, dy, dx            [batch, C, S]   channel c holds the batch·S values x[(n·C + c)·S + s]
//   weight (γ), bias (β)    [C]             dWeight, dBias [C]
//   runningMean, runningVar [C]             updated in train mode, used in eval mode
//   mean, invStd            [C]             saved by forward_train for backward (llm.c's named outputs)
//
//   train:  μ = mean(x), σ² = mean((x − μ)²) (biased), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β
//           running ← (1 − m)·running + m·batch value, with the UNBIASED σ²·count/(count − 1)
//   eval:   y = γ·(x − runningMean)/√(runningVar + ε) + β
//   backward (count = batch·S):
//           dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − dβ/count − x̂·dγ/count)
//
// One workgroup per channel walks that channel's values in strided passes and reduces through
// workgroup memory; the variance is a second pass over (x − μ)², not E[x²] − μ², which cancels
// catastrophically when |μ| ≫ σ.

struct Dims {
  batch: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(3) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(4) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(5) var<storage, read_write> runningMean: array<f32, ${LEN_runningMean}u>;
@group(0) @binding(6) var<storage, read_write> runningVar: array<f32, ${LEN_runningVar}u>;
@group(0) @binding(7) var<storage, read_write> mean: array<f32, ${LEN_mean}u>;
@group(0) @binding(8) var<storage, read_write> invStd: array<f32, ${LEN_invStd}u>;
@group(0) @binding(9) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(11) var<storage, read_write> dWeight: array<f32, ${LEN_dWeight}u>;
@group(0) @binding(12) var<storage, read_write> dBias: array<f32, ${LEN_dBias}u>;

const C: u32 = ${CHANNELS}u;
const S: u32 = ${SPATIAL}u;
const EPS: f32 = 1e-5;
const MOMENTUM: f32 = 0.1;
const WG: u32 = 64u;

var<workgroup> sums: array<f32, WG>;
var<workgroup> sums2: array<f32, WG>;

// Index of the i-th value of channel c (i < batch·S).
fn at(c: u32, i: u32) -> u32 {
  return ((i / S) * C + c) * S + i % S;
}

// Σ over the workgroup of `value` (and of `value2` into the second result); every invocation gets it.
fn reduce(thread: u32, value: f32, value2: f32) -> vec2f {
  sums[thread] = value;
  sums2[thread] = value2;
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (thread < half) {
      sums[thread] += sums[thread + half];
      sums2[thread] += sums2[thread + half];
    }
  }
  workgroupBarrier();
  let total = vec2f(sums[0], sums2[0]);
  workgroupBarrier();  // the next reduce overwrites sums
  return total;
}

@compute @workgroup_size(WG)
fn forward_train(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) thread: u32) {
  let c = group.x;
  let count = dims.batch * S;
  var sum = 0.0;
  for (var i = thread; i < count; i += WG) { sum += x[at(c, i)]; }
  let mu = reduce(thread, sum, 0.0).x / f32(count);
  var squares = 0.0;
  for (var i = thread; i < count; i += WG) {
    let d = x[at(c, i)] - mu;
    squares += d * d;
  }
  let variance = reduce(thread, squares, 0.0).x / f32(count);
  let inv = inverseSqrt(variance + EPS);
  if (thread == 0u) {
    mean[c] = mu;
    invStd[c] = inv;
    runningMean[c] = (1.0 - MOMENTUM) * runningMean[c] + MOMENTUM * mu;
    // max(…, 1): a single value has variance 0 either way; avoid 0·∞.
    runningVar[c] = (1.0 - MOMENTUM) * runningVar[c] + MOMENTUM * variance * f32(count) / f32(max(count - 1u, 1u));
  }
  let scale = weight[c] * inv;
  let shift = bias[c] - mu * scale;
  for (var i = thread; i < count; i += WG) {
    let k = at(c, i);
    y[k] = x[k] * scale + shift;
  }
}

// Eval: one invocation per value (x·y folded past 65,535 workgroups).
@compute @workgroup_size(WG)
fn forward_eval(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = id.x + id.y * groups.x * WG;
  if (k >= dims.batch * C * S) { return; }
  let c = (k / S) % C;
  let scale = weight[c] * inverseSqrt(runningVar[c] + EPS);
  y[k] = (x[k] - runningMean[c]) * scale + bias[c];
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) thread: u32) {
  let c = group.x;
  let count = dims.batch * S;
  let mu = mean[c];
  let inv = invStd[c];
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var i = thread; i < count; i += WG) {
    let k = at(c, i);
    sumDy += dy[k];
    sumDyXhat += dy[k] * (x[k] - mu) * inv;
  }
  let totals = reduce(thread, sumDy, sumDyXhat);
  if (thread == 0u) {
    dBias[c] = totals.x;
    dWeight[c] = totals.y;
  }
#if ${DX}
  let scale = weight[c] * inv;
  let meanDy = totals.x / f32(count);
  let meanDyXhat = totals.y / f32(count);
  for (var i = thread; i < count; i += WG) {
    let k = at(c, i);
    dx[k] = scale * (dy[k] - meanDy - (x[k] - mu) * inv * meanDyXhat);
  }
#endif
}
