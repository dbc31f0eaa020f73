// Roof microbenchmarks: what the device can do at best, to set our kernels against.
//   fma_loop: sink[invocations] (vec4) ← ITERATIONS rounds of 8 independent vec4 FMAs per invocation
//   copy:     destination[n] ← source[n] (vec4), one element per invocation
//   nothing:  one store, to time the cost of a dispatch itself
// Multiplier and addend come from a uniform so the compiler cannot fold the loop away.

struct Fma {
  iterations: u32,
  multiplier: f32,
  addend: f32,
}

@group(0) @binding(0) var<uniform> fma_params: Fma;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4f>;
@group(0) @binding(2) var<storage, read> source: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> destination: array<vec4f>;

// 8 accumulators × 4 lanes × 2 flops = 64 flops per iteration, with no dependency between them,
// so a SIMD lane never waits on the previous FMA's result.
@compute @workgroup_size(64)
fn fma_loop(@builtin(global_invocation_id) gid: vec3u) {
  let seed = f32(gid.x) * 1e-6;
  var a0 = vec4f(seed, seed + 0.1, seed + 0.2, seed + 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  var a4 = a0 + 0.04;
  var a5 = a0 + 0.05;
  var a6 = a0 + 0.06;
  var a7 = a0 + 0.07;
  let m = vec4f(fma_params.multiplier);
  let c = vec4f(fma_params.addend);
  for (var i = 0u; i < fma_params.iterations; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  sink[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

// 256 per workgroup keeps a 64 MiB copy under the 65,535-workgroup limit in x (y folds the rest).
@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < arrayLength(&destination)) {
    destination[i] = source[i];
  }
}

@compute @workgroup_size(1)
fn nothing(@builtin(global_invocation_id) gid: vec3u) {
  sink[gid.x] = vec4f(1.0);
}
