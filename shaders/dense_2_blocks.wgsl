// Dense layer, rung 2: register blocks. y = f(x·Wᵀ + b), dx = (dy·W)·f'(x), dW = dyᵀ·x (rung 0,
// shaders/dense.wgsl, says it plainly; the bias gradient is shaders/dense_bias.wgsl).
//
// The trick: each invocation owns an 8×8 block of its output, kept as four 4×4 matrices, and walks the
// summed dimension 4 at a time. Each step loads two 8×4 slabs of the operands as the columns of mat4x4s and
// does 4 mat4×mat4 products: 256 multiply-adds for 64 loaded floats, where rung 0 does 1 per 2.
// Why it pays: loads set the pace on every adapter. On a CPU adapter (SwiftShader runs 4 invocations as the
// lanes of a SIMD register and loads per lane one at a time) "global" memory is cached anyway, so this beats
// staging tiles in workgroup memory (rung 1), which only adds copies and barriers; on a GPU each load is
// reused 8 times from registers. Any adapter; `in` a multiple of 4. docs/perf/dense.md, register blocks.

#include dense_io
#include dense_splits
#include dense_stores
#include dense_bias

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
// acc column j = rows of y for output o_j: transpose(X_rows)·W_outs, X_rows = mat(x[r, i..i+3]).
@compute @workgroup_size(WG_X, WG_Y)
fn forward(@builtin(global_invocation_id) id: vec3u) {
  slice = id.z;
  let o0 = id.x * 8u;  // 8 outputs
  let r0 = id.y * 8u;  // 8 rows
  if (o0 >= dims.outFeatures || r0 >= dims.rows) { return; }
  storeForwardBlock(forwardSum(inOrder(r0), inOrder(o0)), inOrder(r0), inOrder(o0));
}

fn forwardSum(rowHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRowsA = rowStarts(rowHalves.x, dims.rows, in4);
  let xRowsB = rowStarts(rowHalves.y, dims.rows, in4);
  let wRowsA = rowStarts(outHalves.x, dims.outFeatures, in4);
  let wRowsB = rowStarts(outHalves.y, dims.outFeatures, in4);
  let span = sliceSpan(in4, 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = span.x; i4 < span.y; i4++) {
    let xA = transpose(xColumns(xRowsA, i4));
    let xB = transpose(xColumns(xRowsB, i4));
    let wA = wColumns(wRowsA, i4);
    let wB = wColumns(wRowsB, i4);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}


// ---- backward-data: dx[r, i] = Σ_o dy[r, o]·W[o, i] ----------------------------------------
// acc column j = dx row r_j over 4 inputs: W_slab·DY_rows, W_slab = mat(W[o, i..i+3]) over 4 o.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_data(@builtin(global_invocation_id) id: vec3u) {
  let i0 = id.x * 8u;  // 8 inputs (two vec4 columns of W)
  let r0 = id.y * 8u;  // 8 rows
  if (i0 >= dims.inFeatures || r0 >= dims.rows) { return; }
  storeDataBlock(dataSum(inOrder(i0), inOrder(r0)), inOrder(i0), inOrder(r0));
}

fn dataSum(inHalves: vec2u, rowHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let iB = min(inHalves.y / 4u, in4 - 1u);
  let dyRowsA = rowStarts(rowHalves.x, dims.rows, dims.outFeatures);
  let dyRowsB = rowStarts(rowHalves.y, dims.rows, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let keep = inside(o, dims.outFeatures);
    let dA = dyColumns(dyRowsA, outs);
    let dB = dyColumns(dyRowsB, outs);
    let wA = maskColumns(wColumns(outs * in4, iA), keep);
    let wB = maskColumns(wColumns(outs * in4, iB), keep);
    acc00 += wA * dA; acc01 += wB * dA; acc10 += wA * dB; acc11 += wB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}


// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
// acc column j = dW row o_j over 4 inputs: X_slab·transpose(DY_slab), slabs over 4 rows r.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_weights(@builtin(global_invocation_id) id: vec3u) {
  slice = id.z;
  let i0 = id.x * 8u;  // 8 inputs
  let o0 = id.y * 8u;  // 8 outputs
  if (i0 >= dims.inFeatures || o0 >= dims.outFeatures) { return; }
  storeWeightsBlock(weightsSum(inOrder(i0), inOrder(o0)), inOrder(i0), inOrder(o0));
}

fn weightsSum(inHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let iB = min(inHalves.y / 4u, in4 - 1u);
  let oA = clamped4(outHalves.x, dims.outFeatures);
  let oB = clamped4(outHalves.y, dims.outFeatures);
  let span = sliceSpan(dims.rows, 4u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = span.x; r < span.y; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let keep = inside(r, dims.rows);
    let xA = maskColumns(xColumns(xRows, iA), keep);
    let xB = maskColumns(xColumns(xRows, iB), keep);
    let dA = transpose(dyColumns(dyRows, oA));
    let dB = transpose(dyColumns(dyRows, oB));
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

