// Matmul ladder rung "registers": y[M×N] = x[M×K]·Wᵀ, each invocation a 4×4 block, k in vec4 chunks,
// no workgroup memory (on a CPU adapter "global" memory is cached like shared memory would be).
struct Dims { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let K4 = dims.K / 4u;
  let col0 = id.x * 4u;
  let row0 = id.y * 4u;
  if (row0 >= dims.M || col0 >= dims.N) { return; }
  let r0 = row0 * K4; let r1 = min(row0 + 1u, dims.M - 1u) * K4; let r2 = min(row0 + 2u, dims.M - 1u) * K4; let r3 = min(row0 + 3u, dims.M - 1u) * K4;
  let c0 = col0 * K4; let c1 = min(col0 + 1u, dims.N - 1u) * K4; let c2 = min(col0 + 2u, dims.N - 1u) * K4; let c3 = min(col0 + 3u, dims.N - 1u) * K4;
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  for (var k = 0u; k < K4; k++) {
    let a0 = x[r0 + k]; let a1 = x[r1 + k]; let a2 = x[r2 + k]; let a3 = x[r3 + k];
    let w0 = w[c0 + k]; let w1 = w[c1 + k]; let w2 = w[c2 + k]; let w3 = w[c3 + k];
    acc0 += vec4f(dot(a0, w0), dot(a0, w1), dot(a0, w2), dot(a0, w3));
    acc1 += vec4f(dot(a1, w0), dot(a1, w1), dot(a1, w2), dot(a1, w3));
    acc2 += vec4f(dot(a2, w0), dot(a2, w1), dot(a2, w2), dot(a2, w3));
    acc3 += vec4f(dot(a3, w0), dot(a3, w1), dot(a3, w2), dot(a3, w3));
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= dims.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < dims.N) { y[row * dims.N + col0 + j] = accs[r][j]; }
    }
  }
}
