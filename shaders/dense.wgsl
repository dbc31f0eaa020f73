#if ${SUBGROUPS}
enable subgroups;
#endif

#include activate

// Dense layer, the fast path: y = x·Wᵀ + b, dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.
//
//   x  [rows × in]    W  [out × in]    b [out]    y, dy [rows × out]    dx [rows × in]    dW [out × in]
//
// Register blocking, no workgroup memory: each invocation owns an 8×8 block of its output, kept as
// four 4×4 matrices (acc00 … acc11), and walks the summed dimension 4 at a time. Each step loads two
// 8×4 slabs as the columns of mat4x4s and does 4 mat4×mat4 products: 256 multiply-adds for 64 loaded
// floats. On a CPU adapter (SwiftShader) "global" memory is cached anyway, so staging tiles in
// workgroup memory only adds copies and barriers: this measured 2-3× faster than the tiled
// kernel (shaders/matmul_tiled.wgsl) there. On a GPU the 8×8 blocks still reuse each load 8 times.
//
// Why 8×8 and 4 per step: SwiftShader runs 4 invocations as the lanes of one SIMD register and loads a
// value per lane one at a time, so a load costs about as much as 7-10 multiply-adds there; what sets
// the speed is multiply-adds per loaded float (8×8: 4). Blocks of 16×16 measured 1.3× faster still on
// SwiftShader, but 256 accumulators per invocation would spill on a GPU. Longer loop bodies also pay:
// stepping the sum 1 at a time instead of 4 measured 1.3× slower.
//
// Subgroups (SUBGROUPS, set when the device has the `subgroups` feature; the plain kernels otherwise): in
// forward and dW the invocations 4k … 4k+3 along x need the same rows of one operand (forward: x rows,
// dW: dy rows) and differ only in the other. On SwiftShader those 4 are the lanes of one subgroup, so
// instead of each loading all 8 of those rows per step, each loads 2 (its quad position k: rows k and
// 4 + k) and takes the rest from its quad by subgroupShuffle: 10 vec4 loads per step instead of 16,
// measured 1.2× less CPU for the 784→128 forward and dW at batch 1000. A "quad" is subgroup lanes
// 4q … 4q+3, so any subgroup size works; WGSL does not say how lanes map onto invocation ids, so
// quadsShare() checks once that every quad is complete and owns the same rows, and the kernel takes the
// plain loop otherwise.
//
// Fusion (src/graph/sequential.ts): forward stores f(x·Wᵀ + b) when an activation follows the layer, and
// backward-data stores dx·f'(x) when an activation produced x, so those activations need no pass of
// their own; shaders/activate.wgsl holds f and f' (the identity when ACTIVATED is false).
//
// Needs `in` to be a multiple of 4 (vec4 loads along it); src/layers/dense.ts uses the tiled kernel
// otherwise. Rows and `out` may be any count: rows and outputs past the end are clamped on load (their
// results are never stored) and, where they are summed over, multiplied by 0.

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
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dWeight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dBias: array<f32>;

const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

// Indices first … first+3, clamped to count − 1 (inside() says which were not clamped).
fn clamped4(first: u32, count: u32) -> vec4u {
  return min(first + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

// Where rows first … first+3 of a [count × width] array start (in its elements), clamped to the last
// row. Worked out once per invocation where possible, so that the loops only add the step.
fn rowStarts(first: u32, count: u32, width: u32) -> vec4u {
  return clamped4(first, count) * width;
}

// Four vec4 loads as the columns of a matrix: at 4 row starts of a vec4 array, column c4.
// One loader per buffer, so each entry point binds only the buffers it reads.
fn xColumns(rows: vec4u, c4: u32) -> mat4x4f {
  return mat4x4f(x[rows.x + c4], x[rows.y + c4], x[rows.z + c4], x[rows.w + c4]);
}
fn wColumns(rows: vec4u, c4: u32) -> mat4x4f {
  return mat4x4f(weight[rows.x + c4], weight[rows.y + c4], weight[rows.z + c4], weight[rows.w + c4]);
}
// dy is read as scalars so that `out` need not be a multiple of 4: column j = row j over 4 outputs.
fn dyColumns(rows: vec4u, outs: vec4u) -> mat4x4f {
  return mat4x4f(dyRow(rows.x, outs), dyRow(rows.y, outs), dyRow(rows.z, outs), dyRow(rows.w, outs));
}
fn dyRow(start: u32, outs: vec4u) -> vec4f {
  return vec4f(dy[start + outs.x], dy[start + outs.y], dy[start + outs.z], dy[start + outs.w]);
}

// Column j times keep[j]: drops the terms of clamped rows or outputs from a sum.
fn maskColumns(m: mat4x4f, keep: vec4f) -> mat4x4f {
  return mat4x4f(m[0] * keep.x, m[1] * keep.y, m[2] * keep.z, m[3] * keep.w);
}

// 1 for first … first+3 below count, 0 past it: which of clamped4's indices are real.
fn inside(first: u32, count: u32) -> vec4f {
  return vec4f(first + vec4u(0u, 1u, 2u, 3u) < vec4u(count));
}

// An invocation's 8×8 block of sums as four 4×4 matrices.
struct Block { m00: mat4x4f, m01: mat4x4f, m10: mat4x4f, m11: mat4x4f }

#if ${SUBGROUPS}
// Whether every quad of this subgroup (lanes 4q … 4q+3) is complete and its lanes have the same `key`
// (the rows they share), so that quadColumns() may hand rows around. Called by all lanes; the result is
// the same in all of them.
fn quadsShare(key: u32, lane: u32) -> bool {
  let first = lane & ~3u;
  let live = subgroupBallot(true);
  let complete = ((live[first / 32u] >> (first % 32u)) & 0xFu) == 0xFu;
  let firstKey = subgroupShuffle(key, first);
  return subgroupAll(complete && firstKey == key);
}

// The quad's 4 loads as the columns of a matrix, in each of its lanes: column j is lane 4q + j's `mine`.
// Called only under `if (quadsShare(…))`, which is the same in all lanes of the subgroup: WGSL's uniformity
// analysis cannot see that, hence the diagnostic filter.
@diagnostic(off, subgroup_uniformity)
fn quadColumns(mine: vec4f, lane: u32) -> mat4x4f {
  let first = lane & ~3u;
  return mat4x4f(subgroupShuffle(mine, first), subgroupShuffle(mine, first + 1u),
                 subgroupShuffle(mine, first + 2u), subgroupShuffle(mine, first + 3u));
}
#endif

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
// acc column j = rows of y for output o_j: transpose(X_rows)·W_outs, X_rows = mat(x[r, i..i+3]).
@compute @workgroup_size(WG_X, WG_Y)
#if ${SUBGROUPS}
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let o0 = id.x * 8u;  // 8 outputs
  let r0 = id.y * 8u;  // 8 rows
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  var acc: Block;
  if (quadsShare(r0, lane)) { acc = forwardSumShared(r0, o0, lane); } else { acc = forwardSum(r0, o0); }
  if (o0 >= dims.outFeatures || r0 >= dims.rows) { return; }
  storeForwardBlock(acc, r0, o0);
}

// forwardSum with the x rows loaded once per quad: this lane loads rows r0 + k and r0 + 4 + k (k = lane mod 4).
fn forwardSumShared(r0: u32, o0: u32, lane: u32) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRowA = min(r0 + (lane & 3u), dims.rows - 1u) * in4;
  let xRowB = min(r0 + 4u + (lane & 3u), dims.rows - 1u) * in4;
  let wRowsA = rowStarts(o0, dims.outFeatures, in4);
  let wRowsB = rowStarts(o0 + 4u, dims.outFeatures, in4);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = 0u; i4 < in4; i4++) {
    let xA = transpose(quadColumns(x[xRowA + i4], lane));
    let xB = transpose(quadColumns(x[xRowB + i4], lane));
    let wA = wColumns(wRowsA, i4);
    let wB = wColumns(wRowsB, i4);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
#else
fn forward(@builtin(global_invocation_id) id: vec3u) {
  let o0 = id.x * 8u;  // 8 outputs
  let r0 = id.y * 8u;  // 8 rows
  if (o0 >= dims.outFeatures || r0 >= dims.rows) { return; }
  storeForwardBlock(forwardSum(r0, o0), r0, o0);
}
#endif

fn forwardSum(r0: u32, o0: u32) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRowsA = rowStarts(r0, dims.rows, in4);
  let xRowsB = rowStarts(r0 + 4u, dims.rows, in4);
  let wRowsA = rowStarts(o0, dims.outFeatures, in4);
  let wRowsB = rowStarts(o0 + 4u, dims.outFeatures, in4);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = 0u; i4 < in4; i4++) {
    let xA = transpose(xColumns(xRowsA, i4));
    let xB = transpose(xColumns(xRowsB, i4));
    let wA = wColumns(wRowsA, i4);
    let wB = wColumns(wRowsB, i4);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// mRC[j][k] = y[r0 + 4R + k, o0 + 4C + j]
fn storeForwardBlock(acc: Block, r0: u32, o0: u32) {
  storeForward(acc.m00, r0, o0); storeForward(acc.m01, r0, o0 + 4u);
  storeForward(acc.m10, r0 + 4u, o0); storeForward(acc.m11, r0 + 4u, o0 + 4u);
}

fn storeForward(block: mat4x4f, row: u32, out: u32) {
  for (var j = 0u; j < 4u; j++) {
    let o = out + j;
    if (o >= dims.outFeatures) { return; }
    for (var k = 0u; k < 4u; k++) {
      if (row + k < dims.rows) { y[(row + k) * dims.outFeatures + o] = activate(block[j][k] + bias[o]); }
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
  let ia = i0 / 4u;
  let ib = min(ia + 1u, in4 - 1u);
  let dyRowsA = rowStarts(r0, dims.rows, dims.outFeatures);
  let dyRowsB = rowStarts(r0 + 4u, dims.rows, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let keep = inside(o, dims.outFeatures);
    let dA = dyColumns(dyRowsA, outs);
    let dB = dyColumns(dyRowsB, outs);
    let wA = maskColumns(wColumns(outs * in4, ia), keep);
    let wB = maskColumns(wColumns(outs * in4, ib), keep);
    acc00 += wA * dA; acc01 += wB * dA; acc10 += wA * dB; acc11 += wB * dB;
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
    let v = block[j] * inputSlope(at / 4u);
    dx[at] = v.x; dx[at + 1u] = v.y; dx[at + 2u] = v.z; dx[at + 3u] = v.w;
  }
}

// f' of the activation that produced x, at the 4 inputs of x[i4], when its backward is fused into this
// store (ACTIVATED); 1 otherwise, and x is not read.
fn inputSlope(i4: u32) -> vec4f {
#if ${ACTIVATED}
  let v = x[i4];
  return vec4f(slope(v.x), slope(v.y), slope(v.z), slope(v.w));
#else
  return vec4f(1.0);
#endif
}

// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
// acc column j = dW row o_j over 4 inputs: X_slab·transpose(DY_slab), slabs over 4 rows r.
@compute @workgroup_size(WG_X, WG_Y)
#if ${SUBGROUPS}
fn backward_weights(@builtin(global_invocation_id) id: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let i0 = id.x * 8u;  // 8 inputs
  let o0 = id.y * 8u;  // 8 outputs
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  var acc: Block;
  if (quadsShare(o0, lane)) { acc = weightsSumShared(i0, o0, lane); } else { acc = weightsSum(i0, o0); }
  if (i0 >= dims.inFeatures || o0 >= dims.outFeatures) { return; }
  storeWeightsBlock(acc, i0, o0);
}

// weightsSum with the dy rows loaded once per quad: this lane loads row r + k (k = lane mod 4) of its 8 outputs.
fn weightsSumShared(i0: u32, o0: u32, lane: u32) -> Block {
  let in4 = dims.inFeatures / 4u;
  let ia = min(i0 / 4u, in4 - 1u);
  let ib = min(ia + 1u, in4 - 1u);
  let oA = clamped4(o0, dims.outFeatures);
  let oB = clamped4(o0 + 4u, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = 0u; r < dims.rows; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let keep = inside(r, dims.rows);
    let xA = maskColumns(xColumns(xRows, ia), keep);
    let xB = maskColumns(xColumns(xRows, ib), keep);
    let dyStart = min(r + (lane & 3u), dims.rows - 1u) * dims.outFeatures;
    let dA = transpose(quadColumns(dyRow(dyStart, oA), lane));
    let dB = transpose(quadColumns(dyRow(dyStart, oB), lane));
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
#else
fn backward_weights(@builtin(global_invocation_id) id: vec3u) {
  let i0 = id.x * 8u;  // 8 inputs
  let o0 = id.y * 8u;  // 8 outputs
  if (i0 >= dims.inFeatures || o0 >= dims.outFeatures) { return; }
  storeWeightsBlock(weightsSum(i0, o0), i0, o0);
}
#endif

fn weightsSum(i0: u32, o0: u32) -> Block {
  let in4 = dims.inFeatures / 4u;
  let ia = min(i0 / 4u, in4 - 1u);
  let ib = min(ia + 1u, in4 - 1u);
  let oA = clamped4(o0, dims.outFeatures);
  let oB = clamped4(o0 + 4u, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = 0u; r < dims.rows; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let keep = inside(r, dims.rows);
    let xA = maskColumns(xColumns(xRows, ia), keep);
    let xB = maskColumns(xColumns(xRows, ib), keep);
    let dA = transpose(dyColumns(dyRows, oA));
    let dB = transpose(dyColumns(dyRows, oB));
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// mOI[j][k] = dW[o0 + 4O + j, i0 + 4I + k]
fn storeWeightsBlock(acc: Block, i0: u32, o0: u32) {
  storeWeights(acc.m00, o0, i0); storeWeights(acc.m01, o0, i0 + 4u);
  storeWeights(acc.m10, o0 + 4u, i0); storeWeights(acc.m11, o0 + 4u, i0 + 4u);
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
// Four rows per step (clamped to the last row, the clamped ones dropped by select): fewer, longer loop
// iterations, 1.2–1.3× less SwiftShader CPU than one row per step (784→128 at batch 64 and 1000).
// Splitting the rows over more workgroups, with a second pass to add the pieces as conv2d's bias
// gradient does, gained nothing more there.

@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) id: vec3u) {
  let o = id.x;
  if (o >= dims.outFeatures) { return; }
  var sum = vec4f(0.0);
  for (var r = 0u; r < dims.rows; r += 4u) {
    let at = rowStarts(r, dims.rows, dims.outFeatures) + o;
    sum += select(vec4f(0.0), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), r + vec4u(0u, 1u, 2u, 3u) < vec4u(dims.rows));
  }
  dBias[o] = sum.x + sum.y + sum.z + sum.w;
}
