// Dense's register-blocked rungs: storing an invocation's 8×8 Block of sums. The forward applies the bias and
// the fused activation (or, when its sum is split, stores slice `slice`'s partial sum); backward-data
// multiplies by f' of the activation that produced x; backward-weights writes copy `slice` of dW.
// Included after dense_io and dense_splits, never compiled alone.

#include activate

// mRC[j][k] = y[rowHalves[R] + k, outHalves[C] + j]
fn storeForwardBlock(acc: Block, rowHalves: vec2u, outHalves: vec2u) {
  storeForward(acc.m00, rowHalves.x, outHalves.x); storeForward(acc.m01, rowHalves.x, outHalves.y);
  storeForward(acc.m10, rowHalves.y, outHalves.x); storeForward(acc.m11, rowHalves.y, outHalves.y);
}

fn storeForward(block: mat4x4f, row: u32, out: u32) {
  let rows = transpose(block);  // rows[k][j] = y[row + k, out + j]
  storeForwardRow(rows[0], row, out); storeForwardRow(rows[1], row + 1u, out);
  storeForwardRow(rows[2], row + 2u, out); storeForwardRow(rows[3], row + 3u, out);
}

fn storeForwardRow(sums: vec4f, row: u32, out: u32) {
  if (row < dims.rows) {
    storeY(sums.x, row, out); storeY(sums.y, row, out + 1u); storeY(sums.z, row, out + 2u); storeY(sums.w, row, out + 3u);
  }
}

fn storeY(sum: f32, row: u32, o: u32) {
  if (o < dims.outFeatures) {
#if ${FORWARD_SPLIT}
    // A slice's sum, into copy `slice` of y: reduce_splits adds the copies, the bias and the activation.
    y[(slice * dims.rows + row) * dims.outFeatures + o] = sum + quadError;
#else
    y[row * dims.outFeatures + o] = activate(sum + bias[o]) + quadError;
#endif
  }
}

// mRC[j][k] = dx[rowHalves[R] + j, inHalves[C] + k]
fn storeDataBlock(acc: Block, inHalves: vec2u, rowHalves: vec2u) {
  storeRows(acc.m00, rowHalves.x, inHalves.x); storeRows(acc.m01, rowHalves.x, inHalves.y);
  storeRows(acc.m10, rowHalves.y, inHalves.x); storeRows(acc.m11, rowHalves.y, inHalves.y);
}

fn storeRows(block: mat4x4f, row: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  storeRow(block[0], row, col); storeRow(block[1], row + 1u, col); storeRow(block[2], row + 2u, col); storeRow(block[3], row + 3u, col);
}

fn storeRow(sums: vec4f, row: u32, col: u32) {
  if (row < dims.rows) {
    let at = row * dims.inFeatures + col;
    let v = sums * inputSlope(at / 4u) + quadError;
    dx[at] = v.x; dx[at + 1u] = v.y; dx[at + 2u] = v.z; dx[at + 3u] = v.w;
  }
}

// f' of the activation that produced x, at the 4 inputs of x[i4], when its backward is fused into this
// store (ACTIVATED); 1 otherwise, and x is not read.
fn inputSlope(i4: u32) -> vec4f {
#if ${ACTIVATED}
  let v = x4(i4);
  return vec4f(slope(v.x), slope(v.y), slope(v.z), slope(v.w));
#else
  return vec4f(1.0);
#endif
}


// mOI[j][k] = dW[outHalves[O] + j, inHalves[I] + k]
fn storeWeightsBlock(acc: Block, inHalves: vec2u, outHalves: vec2u) {
  storeWeights(acc.m00, outHalves.x, inHalves.x); storeWeights(acc.m01, outHalves.x, inHalves.y);
  storeWeights(acc.m10, outHalves.y, inHalves.x); storeWeights(acc.m11, outHalves.y, inHalves.y);
}

fn storeWeights(block: mat4x4f, out: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  let at = (slice * dims.outFeatures + out) * dims.inFeatures + col;  // copy `slice` of dW when split
  storeWeightRow(block[0], at, out);
  storeWeightRow(block[1], at + dims.inFeatures, out + 1u);
  storeWeightRow(block[2], at + 2u * dims.inFeatures, out + 2u);
  storeWeightRow(block[3], at + 3u * dims.inFeatures, out + 3u);
}

fn storeWeightRow(row: vec4f, at: u32, out: u32) {
  if (out < dims.outFeatures) {
    let v = row + quadError;
    dWeight[at] = v.x; dWeight[at + 1u] = v.y; dWeight[at + 2u] = v.z; dWeight[at + 3u] = v.w;
  }
}

