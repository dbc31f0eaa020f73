// Split sums, for dense's register-blocked rungs (2 and 3): a GPU's products with few outputs for the length
// of their sums. One invocation walking a whole sum of 800 or 1,000 terms for its 8×8 block leaves a GPU idle
// when there are only hundreds of blocks (a 10-class layer, dW's sum over a batch). So the summed dimension
// (forward: the inputs; dW: the rows; 4 per step) is cut into SPLITS slices of whole steps, workgroup z sums
// slice z into copy z of the output, and reduce_splits adds the copies in order, the same every run.
// src/layers/dense-policy.ts picks SPLITS: on a CPU adapter only for a product of one workgroup (one slice
// per core), where the slices would otherwise only add a pass. docs/perf/dense.md, split sums.
const SPLITS: u32 = ${SPLITS}u;

// The slice this invocation sums (its workgroup's z), set by the entry point; 0 when SPLITS is 1.
var<private> slice: u32;

// [first, end) of the steps of `count` terms, `step` at a time, that slice `slice` sums.
fn sliceSpan(count: u32, step: u32) -> vec2u {
  let perSlice = ((count + step - 1u) / step + SPLITS - 1u) / SPLITS * step;
  return min(vec2u(slice, slice + 1u) * perSlice, vec2u(count));
}


// ---- reduce_splits: the sum of the slices' copies (SPLITS > 1) --------------------------------------
// FORWARD_SPLIT: y = f(Σ_s copies + b), the forward's store; otherwise dW = Σ_s copies. One invocation per
// output adds its SPLITS (≤ 64) copies in order.
@group(0) @binding(9) var<storage, read> splitSums: array<f32, ${LEN_splitSums}u>;

@compute @workgroup_size(256)
fn reduce_splits(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * 256u;
#if ${FORWARD_SPLIT}
  let n = dims.rows * dims.outFeatures;
#else
  let n = dims.outFeatures * dims.inFeatures;
#endif
  if (i >= n) { return; }
  var sum = 0.0;
  for (var s = 0u; s < SPLITS; s++) { sum += splitSums[s * n + i]; }
#if ${FORWARD_SPLIT}
  y[i] = activate(sum + bias[i % dims.outFeatures]);
#else
  dWeight[i] = sum;
#endif
}
