enable subgroups;

#include quads

// Run once per device (Gpu.create): aligned[i] = 1 where invocation i's quad is laid out as dense's quad
// rungs (shaders/dense_3_quads.wgsl, dense_4_wide.wgsl) need (quadsAligned), for workgroups of INVOCATIONS,
// the sizes those kernels take (8, 16 and 64).
//
//   aligned [workgroups × INVOCATIONS] u32

@group(0) @binding(0) var<storage, read_write> aligned: array<u32>;

@compute @workgroup_size(${INVOCATIONS})
fn probe(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) local: u32,
         @builtin(subgroup_invocation_id) lane: u32) {
  aligned[id.x] = u32(quadsAligned(local, lane));
}
