// Dense layer, rung 0: the textbook kernels, one invocation per output value.
//
//   forward           y[r, o]  = f(Σ_i x[r, i]·W[o, i] + b[o])
//   backward-data     dx[r, i] = (Σ_o dy[r, o]·W[o, i]) · f'(x[r, i])
//   backward-weights  dW[o, i] = Σ_r dy[r, o]·x[r, i]
//   bias gradient     db[o]    = Σ_r dy[r, o]
//
//   x [rows × in]    W [out × in]    b [out]    y, dy [rows × out]    dx [rows × in]    dW [out × in]
//
// Each invocation walks one sum straight through storage memory: any rows, `in` and `out`, every adapter.
// It is the ladder's reference. Each later rung (shaders/dense_<n>_<trick>.wgsl) computes the same sums
// with one more trick for speed, and docs/perf/dense.md says what each buys.
//
// Fusion (src/graph/sequential.ts): the forward stores f(·) when an activation follows the layer, and
// backward-data multiplies by f'(x) when an activation produced x, so neither needs a pass of its own.
// shaders/activate.wgsl holds f and f' (the identity and 1 when nothing is fused): x is read there
// either way, so backward-data always binds it.

#include activate

struct Dims {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dWeight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dBias: array<f32>;

const WG: u32 = 64u;

// The output this invocation computes. The grid is 1-D, folded into y past 65,535 workgroups
// (src/layers/dense-policy.ts), so invocations count across x, then y.
fn outputIndex(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let at = outputIndex(id, groups);  // y[r, o]
  if (at >= dims.rows * dims.outFeatures) { return; }
  let r = at / dims.outFeatures;
  let o = at % dims.outFeatures;
  var sum = 0.0;
  for (var i = 0u; i < dims.inFeatures; i++) {
    sum += x[r * dims.inFeatures + i] * weight[o * dims.inFeatures + i];
  }
  y[at] = activate(sum + bias[o]);
}

@compute @workgroup_size(WG)
fn backward_data(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let at = outputIndex(id, groups);  // dx[r, i]
  if (at >= dims.rows * dims.inFeatures) { return; }
  let r = at / dims.inFeatures;
  let i = at % dims.inFeatures;
  var sum = 0.0;
  for (var o = 0u; o < dims.outFeatures; o++) {
    sum += dy[r * dims.outFeatures + o] * weight[o * dims.inFeatures + i];
  }
  dx[at] = sum * slope(x[at]);
}

@compute @workgroup_size(WG)
fn backward_weights(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let at = outputIndex(id, groups);  // dW[o, i]
  if (at >= dims.outFeatures * dims.inFeatures) { return; }
  let o = at / dims.inFeatures;
  let i = at % dims.inFeatures;
  var sum = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    sum += dy[r * dims.outFeatures + o] * x[r * dims.inFeatures + i];
  }
  dWeight[at] = sum;
}

@compute @workgroup_size(WG)
fn bias_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = outputIndex(id, groups);  // db[o]
  if (o >= dims.outFeatures) { return; }
  var sum = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    sum += dy[r * dims.outFeatures + o];
  }
  dBias[o] = sum;
}
