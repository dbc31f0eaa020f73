// Dense's bias gradient for the register-blocked rungs: db[o] = Σ_r dy[r, o], shaped for the adapter.
// A workgroup covers BIAS_OUTS outputs × BIAS_SLICES slices of the rows: invocation (o, s) sums rows
// 4s … 4s+3, 4(s + BIAS_SLICES) … and so on, and invocation (o, 0) adds the slices' sums. Four rows per
// step (clamped to the last row, the clamped ones dropped by select): fewer, longer loop iterations.
// src/layers/dense-policy.ts picks the shape: on a GPU 16 × 16, so that no invocation walks a whole batch
// alone; on a CPU adapter one slice of 64 outputs, and then no workgroup memory or barrier, which cost
// SwiftShader more than they save. docs/perf/dense.md, bias gradient.
const BIAS_OUTS: u32 = ${BIAS_OUTS}u;
const BIAS_SLICES: u32 = ${BIAS_SLICES}u;
#if ${BIAS_SLICED}
var<workgroup> sliceSums: array<f32, BIAS_OUTS * BIAS_SLICES>;
#endif

@compute @workgroup_size(BIAS_OUTS, BIAS_SLICES)
fn bias_grad(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let o = group.x * BIAS_OUTS + local.x;
  // No early return past the last output (the barrier needs every invocation): clamped loads, no store.
  let column = min(o, dims.outFeatures - 1u);
  var sum = vec4f(0.0);
  for (var r = local.y * 4u; r < dims.rows; r += 4u * BIAS_SLICES) {
    let at = rowStarts(r, dims.rows, dims.outFeatures) + column;
    sum += select(vec4f(0.0), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), r + vec4u(0u, 1u, 2u, 3u) < vec4u(dims.rows));
  }
#if ${BIAS_SLICED}
  sliceSums[local.y * BIAS_OUTS + local.x] = sum.x + sum.y + sum.z + sum.w;
  workgroupBarrier();
  if (local.y != 0u || o >= dims.outFeatures) { return; }
  var total = 0.0;
  for (var s = 0u; s < BIAS_SLICES; s++) { total += sliceSums[s * BIAS_OUTS + local.x]; }
  dBias[o] = total;
#else
  if (o < dims.outFeatures) { dBias[o] = sum.x + sum.y + sum.z + sum.w; }
#endif
}

