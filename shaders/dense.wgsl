// Dense layer, the fast path: y = x·Wᵀ + b, dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.
//
//   x  [rows × in]    W  [out × in]    b [out]    y, dy [rows × out]    dx [rows × in]    dW [out × in]
//
// Register blocking, no workgroup memory: each invocation owns an 8×8 block of its output, kept as
// four 4×4 matrices (acc00 … acc11), and walks the summed dimension 4 at a time. Each step loads two
// 8×4 slabs as vec4 columns of mat4x4s and does 4 mat4×mat4 products: 256 multiply-adds for 16 vec4
// loads. On a CPU adapter (SwiftShader) "global" memory is cached anyway, so staging tiles in
// workgroup memory only adds copies and barriers: this measured 2-3× faster than the tiled
// kernel (shaders/matmul_tiled.wgsl) there. On a GPU the 8×8 blocks still reuse each load 8 times.
//
// Needs `in` and `out` to be multiples of 4 (vec4 loads along them); src/layers/dense.ts uses the
// tiled kernel otherwise. Rows may be any count: out-of-range rows are clamped on load (their
// results are never stored) or, where rows are summed (dW), zeroed.

struct Dims {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> weight: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dWeight: array<f32>;

const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

// Four vec4 loads as the columns of a matrix: rows i0..i3 of a [* × width4] vec4 array, column c4.
// One loader per buffer, so each entry point binds only the buffers it reads.
fn xColumns(i0: u32, i1: u32, i2: u32, i3: u32, c4: u32, width4: u32) -> mat4x4f {
  return mat4x4f(x[i0 * width4 + c4], x[i1 * width4 + c4], x[i2 * width4 + c4], x[i3 * width4 + c4]);
}
fn wColumns(i0: u32, i1: u32, i2: u32, i3: u32, c4: u32, width4: u32) -> mat4x4f {
  return mat4x4f(weight[i0 * width4 + c4], weight[i1 * width4 + c4], weight[i2 * width4 + c4], weight[i3 * width4 + c4]);
}
fn dyColumns(i0: u32, i1: u32, i2: u32, i3: u32, c4: u32, width4: u32) -> mat4x4f {
  return mat4x4f(dy[i0 * width4 + c4], dy[i1 * width4 + c4], dy[i2 * width4 + c4], dy[i3 * width4 + c4]);
}

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
// acc column j = rows of y for output o_j: transpose(X_rows)·W_outs, X_rows = mat(x[r, i..i+3]).
@compute @workgroup_size(WG_X, WG_Y)
fn forward(@builtin(global_invocation_id) id: vec3u) {
  let o0 = id.x * 8u;  // 8 outputs
  let r0 = id.y * 8u;  // 8 rows
  if (o0 >= dims.outFeatures || r0 >= dims.rows) { return; }
  let in4 = dims.inFeatures / 4u;
  let lastRow = dims.rows - 1u;
  let lastOut = dims.outFeatures - 1u;
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = 0u; i4 < in4; i4++) {
    let xa = transpose(xColumns(r0, min(r0 + 1u, lastRow), min(r0 + 2u, lastRow), min(r0 + 3u, lastRow), i4, in4));
    let xb = transpose(xColumns(min(r0 + 4u, lastRow), min(r0 + 5u, lastRow), min(r0 + 6u, lastRow), min(r0 + 7u, lastRow), i4, in4));
    let wa = wColumns(o0, min(o0 + 1u, lastOut), min(o0 + 2u, lastOut), min(o0 + 3u, lastOut), i4, in4);
    let wb = wColumns(min(o0 + 4u, lastOut), min(o0 + 5u, lastOut), min(o0 + 6u, lastOut), min(o0 + 7u, lastOut), i4, in4);
    acc00 += xa * wa; acc01 += xa * wb; acc10 += xb * wa; acc11 += xb * wb;
  }
  // accRC[j][k] = y[r0 + 4R + k, o0 + 4C + j]
  storeForward(acc00, r0, o0); storeForward(acc01, r0, o0 + 4u);
  storeForward(acc10, r0 + 4u, o0); storeForward(acc11, r0 + 4u, o0 + 4u);
}

fn storeForward(block: mat4x4f, row: u32, out: u32) {
  for (var j = 0u; j < 4u; j++) {
    let o = out + j;
    if (o >= dims.outFeatures) { return; }
    for (var k = 0u; k < 4u; k++) {
      if (row + k < dims.rows) { y[(row + k) * dims.outFeatures + o] = block[j][k] + bias[o]; }
    }
  }
}

// ---- backward-data: dx[r, i] = Σ_o dy[r, o]·W[o, i] ----------------------------------------
// acc column j = dx row r_j over 4 inputs: W_slab·DY_rows, W_slab = mat(W[o, i..i+3]) over 4 o.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_data(@builtin(global_invocation_id) id: vec3u) {
  let i0 = id.x * 8u;  // 8 inputs (two vec4 columns of W)
  let r0 = id.y * 8u;  // 8 rows
  if (i0 >= dims.inFeatures || r0 >= dims.rows) { return; }
  let in4 = dims.inFeatures / 4u;
  let out4 = dims.outFeatures / 4u;
  let lastRow = dims.rows - 1u;
  let ia = i0 / 4u;
  let ib = min(ia + 1u, in4 - 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o4 = 0u; o4 < out4; o4++) {
    let o = o4 * 4u;
    let da = dyColumns(r0, min(r0 + 1u, lastRow), min(r0 + 2u, lastRow), min(r0 + 3u, lastRow), o4, out4);
    let db = dyColumns(min(r0 + 4u, lastRow), min(r0 + 5u, lastRow), min(r0 + 6u, lastRow), min(r0 + 7u, lastRow), o4, out4);
    let wa = wColumns(o, o + 1u, o + 2u, o + 3u, ia, in4);
    let wb = wColumns(o, o + 1u, o + 2u, o + 3u, ib, in4);
    acc00 += wa * da; acc01 += wb * da; acc10 += wa * db; acc11 += wb * db;
  }
  // accRC[j][k] = dx[r0 + 4R + j, i0 + 4C + k]
  storeRows(acc00, r0, i0); storeRows(acc01, r0, i0 + 4u);
  storeRows(acc10, r0 + 4u, i0); storeRows(acc11, r0 + 4u, i0 + 4u);
}

fn storeRows(block: mat4x4f, row: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (row + j >= dims.rows) { return; }
    let at = ((row + j) * dims.inFeatures + col);
    dx[at] = block[j].x; dx[at + 1u] = block[j].y; dx[at + 2u] = block[j].z; dx[at + 3u] = block[j].w;
  }
}

// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
// acc column j = dW row o_j over 4 inputs: X_slab·transpose(DY_slab), slabs over 4 rows r.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_weights(@builtin(global_invocation_id) id: vec3u) {
  let i0 = id.x * 8u;  // 8 inputs
  let o0 = id.y * 8u;  // 8 outputs
  if (i0 >= dims.inFeatures || o0 >= dims.outFeatures) { return; }
  let in4 = dims.inFeatures / 4u;
  let out4 = dims.outFeatures / 4u;
  let ia = i0 / 4u;
  let ib = min(ia + 1u, in4 - 1u);
  let oa = o0 / 4u;
  let ob = min(oa + 1u, out4 - 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = 0u; r < dims.rows; r += 4u) {
    // Rows past the batch are clamped on load and weighted 0, so any batch size works.
    let lastRow = dims.rows - 1u;
    let r1 = min(r + 1u, lastRow); let r2 = min(r + 2u, lastRow); let r3 = min(r + 3u, lastRow);
    let keep = mat4x4f(vec4f(1.0), vec4f(f32(r + 1u <= lastRow)), vec4f(f32(r + 2u <= lastRow)), vec4f(f32(r + 3u <= lastRow)));
    let xa = xColumns(r, r1, r2, r3, ia, in4);
    let xb = xColumns(r, r1, r2, r3, ib, in4);
    let da = transpose(maskColumns(dyColumns(r, r1, r2, r3, oa, out4), keep));
    let db = transpose(maskColumns(dyColumns(r, r1, r2, r3, ob, out4), keep));
    acc00 += xa * da; acc01 += xb * da; acc10 += xa * db; acc11 += xb * db;
  }
  // accOI[j][k] = dW[o0 + 4O + j, i0 + 4I + k]
  storeWeights(acc00, o0, i0); storeWeights(acc01, o0, i0 + 4u);
  storeWeights(acc10, o0 + 4u, i0); storeWeights(acc11, o0 + 4u, i0 + 4u);
}

fn maskColumns(m: mat4x4f, keep: mat4x4f) -> mat4x4f {
  return mat4x4f(m[0] * keep[0], m[1] * keep[1], m[2] * keep[2], m[3] * keep[3]);
}

fn storeWeights(block: mat4x4f, out: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (out + j >= dims.outFeatures) { return; }
    let at = (out + j) * dims.inFeatures + col;
    dWeight[at] = block[j].x; dWeight[at + 1u] = block[j].y; dWeight[at + 2u] = block[j].z; dWeight[at + 3u] = block[j].w;
  }
}

// ---- bias gradient: db[o] = Σ_r dy[r, o], one invocation per output feature ------------------
@group(0) @binding(8) var<storage, read> dyScalar: array<f32>;
@group(0) @binding(9) var<storage, read_write> dBias: array<f32>;

@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) id: vec3u) {
  let o = id.x;
  if (o >= dims.outFeatures) { return; }
  var sum = 0.0;
  for (var r = 0u; r < dims.rows; r++) { sum += dyScalar[r * dims.outFeatures + o]; }
  dBias[o] = sum;
}
