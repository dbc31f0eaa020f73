// Inverted dropout with a counter-based RNG: element i of a layer's activations is kept when
// hash(hash(i) ^ key) ≥ threshold, key = hash(step.seed ^ hash(salt)). The mask is a pure function of
// (run seed, step, layer, index), so nothing is stored: backward recomputes it, and a run replays exactly.
//
//   x, y, dy, dx  [count]   (count = batch × features, any per-sample shape)
//
//   train forward   y  = x · mask / (1 − p)        backward   dx = dy · mask / (1 − p)
//   eval            y  = x                          (copy; dropout(0) is a view and runs nothing)
//
// hash is Wellons' lowbias32, a 32-bit integer permutation with near-ideal avalanche. Hashing i before
// mixing in the key makes two keys give unrelated masks rather than one mask re-indexed by i ^ Δ.

#include step

struct Dims {
  count: u32,      // values in the batch
  threshold: u32,  // round(p · 2³²): keep when the hash is ≥ this
  scale: f32,      // 1 / (1 − p)
  salt: u32,       // the layer's index, so layers draw different masks in one step
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(3) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(4) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;

const WG: u32 = 256u;

fn hash(value: u32) -> u32 {
  var h = value;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn keep(i: u32) -> bool {
  return hash(hash(i) ^ hash(step.seed ^ hash(dims.salt))) >= dims.threshold;
}


@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = id.x; i < dims.count; i += groups.x * WG) { y[i] = select(0.0, x[i] * dims.scale, keep(i)); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = id.x; i < dims.count; i += groups.x * WG) { dx[i] = select(0.0, dy[i] * dims.scale, keep(i)); }
}

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = id.x; i < dims.count; i += groups.x * WG) { y[i] = x[i]; }
}
