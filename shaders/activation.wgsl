// Elementwise activations, forward and backward side by side; the kind is picked by one define
// (SIGMOID, RELU, LEAKY_RELU or ELU) and alpha (leaky slope, ELU scale) by ALPHA, both for
// shaders/activate.wgsl, which holds f and f'.
//
//   forward   y[count] = f(x[count])
//   backward  dx[count] = dy[count] · f'(x), f' worked out from y alone
//
// Grid-stride loops (strideGrid in kernel.ts). Where a dense or conv2d layer sits next to the activation
// those kernels apply f as they store their output and f' as they store their input gradient, and these
// dispatches are not recorded at all (see "Fusion" in src/graph/sequential.ts).

#include activate

struct Settings {
  count: u32,
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(3) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < settings.count; i += groups.x * WG) { y[i] = activate(x[i]); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < settings.count; i += groups.x * WG) { dx[i] = dy[i] * slope(y[i]); }
}
