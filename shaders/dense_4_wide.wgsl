// Dense layer, rung 4: wide CPU blocks. The quad-shared loads of rung 3 (shaders/dense_3_quads.wgsl) with
// 32×16 outputs per invocation instead of 8×8.
//
// The trick: an invocation owns 32 × 16 outputs (forward and dx: 32 rows, dW: 32 inputs), 4×2 blocks of 8×8
// (bTS: T picks 8 of the 32, S 8 of the 16; wideStarts() and QuadHalves say where they start), and loads
// 16 + 8 of its 32 + 16 operand rows per step, its quad partners the rest: 2,048 multiply-adds for 96 loaded
// floats, 21 per float against rung 3's 8.
// Why it pays on a CPU adapter only: SwiftShader does a load per lane one at a time, at the cost of several
// multiply-adds, and a spilled accumulator costs a CPU less than the loads it saves. A GPU would have to
// spill the 512 accumulators per invocation to memory, so the policy gives it rung 3. Square tiles only
// (64×64 outputs per workgroup of 8). docs/perf/dense.md, wide CPU blocks.

enable subgroups;

#include dense_io
#include dense_splits
#include dense_stores
#include dense_bias
#include dense_quad_share

struct Wide { b00: Block, b01: Block, b10: Block, b11: Block, b20: Block, b21: Block, b30: Block, b31: Block }

// Where the blocks b0…, b1…, b2…, b3… of Wide start along the 32 side, from its halves: the invocation's
// own 16 (b0, b1), then its partner's (b2, b3).
fn wideStarts(halves: vec2u) -> vec4u {
  return vec4u(halves.x, halves.x + 8u, halves.y, halves.y + 8u);
}

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
// The forward with 32×16 blocks (Wide above): 32 rows × 16 outputs, halves of 16 rows and 8 outputs, mine first.
@compute @workgroup_size(WG_X, WG_Y)
fn forward_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(16u, 32u));  // columns: 16 outputs (W rows), rows: 32 rows (x rows)
  checkQuads(local, lane);
  let acc = forwardSumWide(h.rows.x, h.columns.x);
  if (h.first.x >= dims.outFeatures || h.first.y >= dims.rows) { return; }
  let r = wideStarts(h.rows); let c = h.columns;
  storeForwardBlock(acc.b00, inOrder(r[0]), inOrder(c.x)); storeForwardBlock(acc.b01, inOrder(r[0]), inOrder(c.y));
  storeForwardBlock(acc.b10, inOrder(r[1]), inOrder(c.x)); storeForwardBlock(acc.b11, inOrder(r[1]), inOrder(c.y));
  storeForwardBlock(acc.b20, inOrder(r[2]), inOrder(c.x)); storeForwardBlock(acc.b21, inOrder(r[2]), inOrder(c.y));
  storeForwardBlock(acc.b30, inOrder(r[3]), inOrder(c.x)); storeForwardBlock(acc.b31, inOrder(r[3]), inOrder(c.y));
}

// This invocation loads rows myRows … +15 of x (matrices 0–3) and outputs myOuts … +7 of W (0, 1); its partners
// across and along the quad the other 16 rows (4–7) and 8 outputs (2, 3). aRC: rows matrix R, outputs matrix C.
fn forwardSumWide(myRows: u32, myOuts: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let xRows0 = rowStarts(myRows, dims.rows, in4); let xRows1 = rowStarts(myRows + 4u, dims.rows, in4);
  let xRows2 = rowStarts(myRows + 8u, dims.rows, in4); let xRows3 = rowStarts(myRows + 12u, dims.rows, in4);
  let wRows0 = rowStarts(myOuts, dims.outFeatures, in4); let wRows1 = rowStarts(myOuts + 4u, dims.outFeatures, in4);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f();
  var a40 = mat4x4f(); var a41 = mat4x4f(); var a42 = mat4x4f(); var a43 = mat4x4f();
  var a50 = mat4x4f(); var a51 = mat4x4f(); var a52 = mat4x4f(); var a53 = mat4x4f();
  var a60 = mat4x4f(); var a61 = mat4x4f(); var a62 = mat4x4f(); var a63 = mat4x4f();
  var a70 = mat4x4f(); var a71 = mat4x4f(); var a72 = mat4x4f(); var a73 = mat4x4f();
  for (var i4 = 0u; i4 < in4; i4++) {
    let x0 = transpose(xColumns(xRows0, i4)); let x1 = transpose(xColumns(xRows1, i4));
    let x2 = transpose(xColumns(xRows2, i4)); let x3 = transpose(xColumns(xRows3, i4));
    let w0 = wColumns(wRows0, i4); let w1 = wColumns(wRows1, i4);
    let x4 = partnerX(x0); let x5 = partnerX(x1); let x6 = partnerX(x2); let x7 = partnerX(x3);
    let w2 = partnerY(w0); let w3 = partnerY(w1);
    a00 += x0 * w0; a01 += x0 * w1; a02 += x0 * w2; a03 += x0 * w3;
    a10 += x1 * w0; a11 += x1 * w1; a12 += x1 * w2; a13 += x1 * w3;
    a20 += x2 * w0; a21 += x2 * w1; a22 += x2 * w2; a23 += x2 * w3;
    a30 += x3 * w0; a31 += x3 * w1; a32 += x3 * w2; a33 += x3 * w3;
    a40 += x4 * w0; a41 += x4 * w1; a42 += x4 * w2; a43 += x4 * w3;
    a50 += x5 * w0; a51 += x5 * w1; a52 += x5 * w2; a53 += x5 * w3;
    a60 += x6 * w0; a61 += x6 * w1; a62 += x6 * w2; a63 += x6 * w3;
    a70 += x7 * w0; a71 += x7 * w1; a72 += x7 * w2; a73 += x7 * w3;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a02, a03, a12, a13), Block(a20, a21, a30, a31), Block(a22, a23, a32, a33),
              Block(a40, a41, a50, a51), Block(a42, a43, a52, a53), Block(a60, a61, a70, a71), Block(a62, a63, a72, a73));
}

// ---- backward-data: dx[r, i] = Σ_o dy[r, o]·W[o, i] ----------------------------------------
// backward-data with 32×16 blocks (Wide above): 32 rows × 16 inputs, halves of 16 rows and 8 inputs, mine first.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_data_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                      @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(16u, 32u));  // columns: 16 inputs (W columns), rows: 32 rows (dy rows)
  checkQuads(local, lane);
  let acc = dataSumWide(h.columns.x, h.rows.x);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.rows) { return; }
  let r = wideStarts(h.rows); let c = h.columns;
  storeDataBlock(acc.b00, inOrder(c.x), inOrder(r[0])); storeDataBlock(acc.b01, inOrder(c.y), inOrder(r[0]));
  storeDataBlock(acc.b10, inOrder(c.x), inOrder(r[1])); storeDataBlock(acc.b11, inOrder(c.y), inOrder(r[1]));
  storeDataBlock(acc.b20, inOrder(c.x), inOrder(r[2])); storeDataBlock(acc.b21, inOrder(c.y), inOrder(r[2]));
  storeDataBlock(acc.b30, inOrder(c.x), inOrder(r[3])); storeDataBlock(acc.b31, inOrder(c.y), inOrder(r[3]));
}

// This invocation loads rows myRows … +15 of dy (matrices 0–3) and inputs myIns … +7 of W (0, 1); its partners
// across and along the quad the other 16 rows (4–7) and 8 inputs (2, 3). aRC: rows matrix R, inputs matrix C.
fn dataSumWide(myIns: u32, myRows: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let i0 = min(myIns / 4u, in4 - 1u);
  let i1 = min(myIns / 4u + 1u, in4 - 1u);
  let dyRows0 = rowStarts(myRows, dims.rows, dims.outFeatures); let dyRows1 = rowStarts(myRows + 4u, dims.rows, dims.outFeatures);
  let dyRows2 = rowStarts(myRows + 8u, dims.rows, dims.outFeatures); let dyRows3 = rowStarts(myRows + 12u, dims.rows, dims.outFeatures);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f();
  var a40 = mat4x4f(); var a41 = mat4x4f(); var a42 = mat4x4f(); var a43 = mat4x4f();
  var a50 = mat4x4f(); var a51 = mat4x4f(); var a52 = mat4x4f(); var a53 = mat4x4f();
  var a60 = mat4x4f(); var a61 = mat4x4f(); var a62 = mat4x4f(); var a63 = mat4x4f();
  var a70 = mat4x4f(); var a71 = mat4x4f(); var a72 = mat4x4f(); var a73 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let keep = inside(o, dims.outFeatures);
    let d0 = dyColumns(dyRows0, outs); let d1 = dyColumns(dyRows1, outs);
    let d2 = dyColumns(dyRows2, outs); let d3 = dyColumns(dyRows3, outs);
    let w0 = maskColumns(wColumns(outs * in4, i0), keep); let w1 = maskColumns(wColumns(outs * in4, i1), keep);
    let d4 = partnerX(d0); let d5 = partnerX(d1); let d6 = partnerX(d2); let d7 = partnerX(d3);
    let w2 = partnerY(w0); let w3 = partnerY(w1);
    a00 += w0 * d0; a01 += w1 * d0; a02 += w2 * d0; a03 += w3 * d0;
    a10 += w0 * d1; a11 += w1 * d1; a12 += w2 * d1; a13 += w3 * d1;
    a20 += w0 * d2; a21 += w1 * d2; a22 += w2 * d2; a23 += w3 * d2;
    a30 += w0 * d3; a31 += w1 * d3; a32 += w2 * d3; a33 += w3 * d3;
    a40 += w0 * d4; a41 += w1 * d4; a42 += w2 * d4; a43 += w3 * d4;
    a50 += w0 * d5; a51 += w1 * d5; a52 += w2 * d5; a53 += w3 * d5;
    a60 += w0 * d6; a61 += w1 * d6; a62 += w2 * d6; a63 += w3 * d6;
    a70 += w0 * d7; a71 += w1 * d7; a72 += w2 * d7; a73 += w3 * d7;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a02, a03, a12, a13), Block(a20, a21, a30, a31), Block(a22, a23, a32, a33),
              Block(a40, a41, a50, a51), Block(a42, a43, a52, a53), Block(a60, a61, a70, a71), Block(a62, a63, a72, a73));
}

// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
// backward-weights with 32×16 blocks (Wide above): 32 inputs × 16 outputs, halves of 16 inputs and 8 outputs, mine
// first. The inputs are the long side because a first layer's x holds bytes, 4 inputs to a load, so the long
// side costs the fewest loads there (docs/perf/dense.md, wide CPU blocks).
@compute @workgroup_size(WG_X, WG_Y)
fn backward_weights_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                         @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(32u, 16u));  // columns: 32 inputs (x columns), rows: 16 outputs (dy columns)
  checkQuads(local, lane);
  let acc = weightsSumWide(h.columns.x, h.rows.x);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.outFeatures) { return; }
  let i = wideStarts(h.columns); let o = h.rows;
  storeWeightsBlock(acc.b00, inOrder(i[0]), inOrder(o.x)); storeWeightsBlock(acc.b01, inOrder(i[0]), inOrder(o.y));
  storeWeightsBlock(acc.b10, inOrder(i[1]), inOrder(o.x)); storeWeightsBlock(acc.b11, inOrder(i[1]), inOrder(o.y));
  storeWeightsBlock(acc.b20, inOrder(i[2]), inOrder(o.x)); storeWeightsBlock(acc.b21, inOrder(i[2]), inOrder(o.y));
  storeWeightsBlock(acc.b30, inOrder(i[3]), inOrder(o.x)); storeWeightsBlock(acc.b31, inOrder(i[3]), inOrder(o.y));
}

// This invocation loads inputs myIns … +15 of x (matrices 0–3) and outputs myOuts … +7 of dy (0, 1); its partners
// along and across the quad the other 16 inputs (4–7) and 8 outputs (2, 3). aRC: outputs matrix R, inputs matrix C.
fn weightsSumWide(myIns: u32, myOuts: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let i0 = min(myIns / 4u, in4 - 1u); let i1 = min(myIns / 4u + 1u, in4 - 1u);
  let i2 = min(myIns / 4u + 2u, in4 - 1u); let i3 = min(myIns / 4u + 3u, in4 - 1u);
  let o0 = clamped4(myOuts, dims.outFeatures); let o1 = clamped4(myOuts + 4u, dims.outFeatures);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f(); var a04 = mat4x4f(); var a05 = mat4x4f(); var a06 = mat4x4f(); var a07 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f(); var a14 = mat4x4f(); var a15 = mat4x4f(); var a16 = mat4x4f(); var a17 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f(); var a24 = mat4x4f(); var a25 = mat4x4f(); var a26 = mat4x4f(); var a27 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f(); var a34 = mat4x4f(); var a35 = mat4x4f(); var a36 = mat4x4f(); var a37 = mat4x4f();
  for (var r = 0u; r < dims.rows; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let keep = inside(r, dims.rows);
    let x0 = maskColumns(xColumns(xRows, i0), keep); let x1 = maskColumns(xColumns(xRows, i1), keep);
    let x2 = maskColumns(xColumns(xRows, i2), keep); let x3 = maskColumns(xColumns(xRows, i3), keep);
    let d0 = transpose(dyColumns(dyRows, o0)); let d1 = transpose(dyColumns(dyRows, o1));
    let x4 = partnerY(x0); let x5 = partnerY(x1); let x6 = partnerY(x2); let x7 = partnerY(x3);
    let d2 = partnerX(d0); let d3 = partnerX(d1);
    a00 += x0 * d0; a01 += x1 * d0; a02 += x2 * d0; a03 += x3 * d0; a04 += x4 * d0; a05 += x5 * d0; a06 += x6 * d0; a07 += x7 * d0;
    a10 += x0 * d1; a11 += x1 * d1; a12 += x2 * d1; a13 += x3 * d1; a14 += x4 * d1; a15 += x5 * d1; a16 += x6 * d1; a17 += x7 * d1;
    a20 += x0 * d2; a21 += x1 * d2; a22 += x2 * d2; a23 += x3 * d2; a24 += x4 * d2; a25 += x5 * d2; a26 += x6 * d2; a27 += x7 * d2;
    a30 += x0 * d3; a31 += x1 * d3; a32 += x2 * d3; a33 += x3 * d3; a34 += x4 * d3; a35 += x5 * d3; a36 += x6 * d3; a37 += x7 * d3;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a20, a21, a30, a31), Block(a02, a03, a12, a13), Block(a22, a23, a32, a33),
              Block(a04, a05, a14, a15), Block(a24, a25, a34, a35), Block(a06, a07, a16, a17), Block(a26, a27, a36, a37));
}
