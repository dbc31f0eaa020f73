// The buffers of conv2d's register-blocked rungs (conv2d_2_blocks, conv2d_3_subgroups), which compute the
// same products and differ only in how a step's rows are loaded. Lengths are compiled in (LEN_*, kernel()).
// backward_filter writes one copy of dWeight per split of the batch, which rung 1's reduce_splits adds.
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(3) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(4) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(5) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(7) var<storage, read_write> dWeightSplits: array<f32, ${LEN_dWeightSplits}u>;
