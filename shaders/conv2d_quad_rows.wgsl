// conv2d's quad-shared row loads (`#include conv2d_quad_rows`), shared by rung 3
// (shaders/conv2d_3_subgroups.wgsl) and rung 4 (conv2d_4_row_windows.wgsl): the 8 row values a step needs
// (weights, or dy for backward-filter) are the same in every invocation of a workgroup, so the 4 lanes of a
// quad each load 2 and take the other 6 from their partners. Needs `enable subgroups` in the includer.

// Every invocation of a workgroup walks the same 8 rows, so each quad of subgroup lanes (4q … 4q+3) can
// share their loads: quad lane k loads rows k and 4 + k (laneRowStarts: where they start, clamped as in
// rowStarts) and sharedRows() hands them to the other three. WGSL does not say how lanes map onto
// invocations, so quadsComplete() checks once that every quad of the subgroup is running (the plain loop
// runs otherwise); which invocations form a quad does not matter, they all want the same rows.
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
