// Elementwise activations, forward and backward side by side; the kind is picked by one define
// (SIGMOID, RELU, LEAKY_RELU or ELU), alpha (leaky slope, ELU scale) by the uniform.
//
//   forward   y[count] = f(x[count])
//   backward  dx[count] = dy[count] · f'(x)   (f' from y where that is cheaper: sigmoid, ELU's x ≤ 0)
//
// One invocation per element; past 65,535 workgroups the grid folds into y (grid1d in kernel.ts).
// Backward reads only what its kind needs (sigmoid: y; relu, leaky_relu: x; elu: x and y), and the
// TS side binds exactly that, since pipelines use layout 'auto'.

struct Settings {
  count: u32,
  alpha: f32,  // leaky_relu slope for x ≤ 0, ELU's α; unused otherwise
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

const WG: u32 = 256u;


fn activate(v: f32) -> f32 {
#if ${SIGMOID}
  // exp of −|v| only, so neither branch can overflow: σ(v) = 1/(1+e) for v ≥ 0, e/(1+e) below.
  let e = exp(-abs(v));
  return select(e, 1.0, v >= 0.0) / (1.0 + e);
#elif ${RELU}
  return max(v, 0.0);
#elif ${LEAKY_RELU}
  return select(settings.alpha * v, v, v > 0.0);
#elif ${ELU}
  // min(v, 0) keeps exp from overflowing on the branch select discards.
  return select(settings.alpha * (exp(min(v, 0.0)) - 1.0), v, v > 0.0);
#endif
}

// f'(x) at element i, as PyTorch defines it at the kink (x = 0 takes the x ≤ 0 side).
fn slope(i: u32) -> f32 {
#if ${SIGMOID}
  let s = y[i];
  return s * (1.0 - s);
#elif ${RELU}
  return select(0.0, 1.0, x[i] > 0.0);
#elif ${LEAKY_RELU}
  return select(settings.alpha, 1.0, x[i] > 0.0);
#elif ${ELU}
  return select(y[i] + settings.alpha, 1.0, x[i] > 0.0);  // α·eˣ = y + α
#endif
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < settings.count; i += groups.x * WG) { y[i] = activate(x[i]); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < settings.count; i += groups.x * WG) { dx[i] = dy[i] * slope(i); }
}
