// Dense layer, rung 3: quad-shared loads. The 8×8 register blocks of rung 2 (shaders/dense_2_blocks.wgsl),
// with each operand row loaded once per quad instead of twice.
//
// The trick: a quad, subgroup lanes 4q … 4q+3, computes a 16×16 tile as 2×2 blocks of 8×8 (quadBlock()).
// The two lanes side by side need the same 8 rows of one operand, the two above each other the same 8 of
// the other, so each lane loads half of both (16 + 16 floats per step instead of 32 + 32) and takes the
// other halves from its partners with quadSwapX and quadSwapY.
// Why it pays: half the loads for the same multiply-adds, and a quad swap is one register shuffle per
// component on SwiftShader (subgroupShuffle compares the source lane with every lane). Any adapter with
// subgroups whose quads are laid out as planned: WGSL does not promise that, so Gpu.create asks once
// (shaders/quad_probe.wgsl) and the policy takes rung 2 otherwise. Each invocation still checks, and if its
// quad is not as the probe found, adds NaN to every output it stores (quadError), so that a mistaken probe
// shows as NaN rather than as plausible numbers. docs/perf/dense.md, quad-shared loads.

enable subgroups;

#include dense_io
#include dense_splits
#include dense_stores
#include dense_bias
#include dense_quad_share

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
@compute @workgroup_size(WG_X, WG_Y)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
           @builtin(subgroup_invocation_id) lane: u32) {
  slice = group.z;
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 outputs (W rows), rows: 8 rows (x rows)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = forwardSumShared(h.rows, h.columns);
  if (h.first.x >= dims.outFeatures || h.first.y >= dims.rows) { return; }
  storeForwardBlock(acc, h.rows, h.columns);
}

// forwardSum loading only this invocation's halves (rowHalves.x, outHalves.x): its partners load the others.
fn forwardSumShared(rowHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRows = rowStarts(rowHalves.x, dims.rows, in4);
  let wRows = rowStarts(outHalves.x, dims.outFeatures, in4);
  let span = sliceSpan(in4, 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = span.x; i4 < span.y; i4++) {
    let xA = transpose(xColumns(xRows, i4));
    let wA = wColumns(wRows, i4);
    let xB = partnerX(xA);
    let wB = partnerY(wA);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// ---- backward-data: dx[r, i] = Σ_o dy[r, o]·W[o, i] ----------------------------------------
@compute @workgroup_size(WG_X, WG_Y)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                 @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 inputs (W columns), rows: 8 rows (dy rows)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = dataSumShared(h.columns, h.rows);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.rows) { return; }
  storeDataBlock(acc, h.columns, h.rows);
}

// dataSum loading only this invocation's halves (inHalves.x, rowHalves.x): its partners load the others.
fn dataSumShared(inHalves: vec2u, rowHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let dyRows = rowStarts(rowHalves.x, dims.rows, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let dA = dyColumns(dyRows, outs);
    let wA = maskColumns(wColumns(outs * in4, iA), inside(o, dims.outFeatures));
    let dB = partnerX(dA);
    let wB = partnerY(wA);
    acc00 += wA * dA; acc01 += wB * dA; acc10 += wA * dB; acc11 += wB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
@compute @workgroup_size(WG_X, WG_Y)
fn backward_weights(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                    @builtin(subgroup_invocation_id) lane: u32) {
  slice = group.z;
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 inputs (x columns), rows: 8 outputs (dy columns)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = weightsSumShared(h.columns, h.rows);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.outFeatures) { return; }
  storeWeightsBlock(acc, h.columns, h.rows);
}

// weightsSum loading only this invocation's halves (inHalves.x, outHalves.x): its partners load the others.
fn weightsSumShared(inHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let oA = clamped4(outHalves.x, dims.outFeatures);
  let span = sliceSpan(dims.rows, 4u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = span.x; r < span.y; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let xA = maskColumns(xColumns(xRows, iA), inside(r, dims.rows));
    let dA = transpose(dyColumns(dyRows, oA));
    let xB = partnerY(xA);
    let dB = partnerX(dA);
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
