enable subgroups;

// conv2d, rung 3: row loads shared within subgroup quads. In rung 2 every invocation of a workgroup loads
// the same 8 row values per step (weights, or dy for backward-filter) one by one, although they are the
// same in all of them; here the 4 lanes of a quad each load 2 and take the other 6 from their partners by
// quadBroadcast: 10 loads per step instead of 16. It pays where a load costs more than a register
// shuffle: on SwiftShader (subgroups of 4 lanes, one SIMD register) a broadcast from a constant lane is
// one shuffle. A GPU with subgroups takes it too, for fewer load instructions. Needs the `subgroups`
// feature; everything else is rung 2's (shaders/conv2d_blocks.wgsl). docs/perf/conv2d.md: measurements.

#include activate
#include conv2d_common
#include conv2d_blocks
#include conv2d_block_bindings

// Every invocation of a workgroup walks the same 8 rows, so each quad of subgroup lanes (4q … 4q+3) can
// share their loads: quad lane k loads rows k and 4 + k (laneRowStarts: where they start, clamped as in
// rowStarts) and sharedRows() hands them to the other three. WGSL does not say how lanes map onto
// invocations, so quadsComplete() checks once that every quad of the subgroup is running (rung 2's sums
// run otherwise: forwardSum and the like); which invocations form a quad does not matter, they all want
// the same rows.
// Called by all lanes; the result is the same in all of them.
fn quadsComplete(lane: u32) -> bool {
  let first = lane & ~3u;
  let live = subgroupBallot(true);
  return subgroupAll(((live[first / 32u] >> (first % 32u)) & 0xFu) == 0xFu);
}

fn laneRowStarts(row: u32, rows: u32, rowStride: u32, lane: u32) -> vec2u {
  return min(row + (lane & 3u) + vec2u(0u, 4u), vec2u(rows - 1u)) * rowStride;
}

// The 8 row values of one step in every lane, as rows 0–3 and 4–7, from each quad lane k's `mine` (rows k,
// 4 + k). Broadcasts from constant lanes, the cheap path in SwiftShader. Called only under
// `if (quadsComplete(…))`, which is the same in all lanes of the subgroup: WGSL's uniformity analysis
// cannot see that, hence the diagnostic filter.
@diagnostic(off, subgroup_uniformity)
fn sharedRows(mine: vec2f) -> array<vec4f, 2> {
  let k0 = quadBroadcast(mine, 0u);
  let k1 = quadBroadcast(mine, 1u);
  let k2 = quadBroadcast(mine, 2u);
  let k3 = quadBroadcast(mine, 3u);
  return array(vec4f(k0.x, k1.x, k2.x, k3.x), vec4f(k0.y, k1.y, k2.y, k3.y));
}

fn weightPair(starts: vec2u, offset: u32) -> vec2f {
  return vec2f(weight[starts.x + offset], weight[starts.y + offset]);
}

fn dyPair(starts: vec2u, offset: u32) -> vec2f {
  return vec2f(dy[starts.x + offset], dy[starts.y + offset]);
}

// Forward: an 8 × 8 block of y per invocation (outputBlock).
@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let block = outputBlock(group, groups, local.x);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(block.row, COUT, PATCH, lane);
    for (var j = 0u; j < PATCH; j++) { forwardStep(&accLo, &accHi, block.lo, block.hi, j, sharedRows(weightPair(mine, j))); }
  } else {
    forwardSum(&accLo, &accHi, block);  // rung 2's sum: each lane loads all 8 rows
  }
  storeYBlock(&accLo, &accHi, block);
}

// Backward-data: an 8 × 8 block of dx per invocation (inputBlock).
@compute @workgroup_size(THREADS)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let block = inputBlock(group, groups, local.x);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(block.row, CIN, KK, lane);
    for (var t = 0u; t < COUT * KK; t++) { dataStep(&accLo, &accHi, block.lo, block.hi, t, sharedRows(weightPair(mine, tapOffset(t)))); }
  } else {
    dataSum(&accLo, &accHi, block);
  }
  storeDxBlock(&accLo, &accHi, block);
}

// Backward-filter: an 8 × 8 block of one split's dWeight per invocation (tapBlock).
@compute @workgroup_size(THREADS)
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let block = tapBlock(group, local.x);
  let split = splitOf(group);
  let positions = splitPositions(split);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(block.row, COUT, OUT_HW, lane);
    for (var p = positions.x; p < positions.y; p++) { filterStep(&accLo, &accHi, block.lo, block.hi, p, sharedRows(dyPair(mine, positionOffset(p)))); }
  } else {
    filterSum(&accLo, &accHi, block, positions);
  }
  storeDWeightBlock(&accLo, &accHi, split * COUT * PATCH, block);
}
