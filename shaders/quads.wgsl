// Quads of subgroup lanes laid out as the kernels that swap operands within them expect (shaders/dense_quad_share.wgsl),
// included there and by shaders/quad_probe.wgsl, which asks the device once.

// Whether every quad of this subgroup (lanes 4q … 4q+3) is complete and is the local invocations 4m … 4m+3 in
// order (lane 4q + j = invocation 4m + j), so that lane ^ 1 and lane ^ 2 are the partners a kernel planned by
// local_invocation_index. WGSL does not say how lanes map onto invocations, hence the check. Called by all
// lanes; the result is the same in all of them.
fn quadsAligned(local: u32, lane: u32) -> bool {
  let first = lane & ~3u;
  let live = subgroupBallot(true);
  let complete = ((live[first / 32u] >> (first % 32u)) & 0xFu) == 0xFu;
  let firstLocal = subgroupShuffle(local, first);
  return subgroupAll(complete && firstLocal == (local & ~3u) && (lane & 3u) == (local & 3u));
}
