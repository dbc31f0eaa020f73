// Batch gather: copies this step's samples out of the whole data set, which lives on the GPU as bytes.
//
//   images       [samples × pixels] u8 packed 4 per u32, little-endian: byte k is image k / pixels, pixel k % pixels
//   labels       [samples] u8 packed the same way
//   order        [samples] u32 sample indices (this epoch's shuffle, or the identity for eval)
//   x            [rows × pixels] f32 = byte / 255 (torchvision's ToTensor)
//   batchLabels  [rows] u32
//
// Row r of the batch is sample order[step.batchStart + r]. One invocation per output pixel; the one
// at pixel 0 also writes the row's label.

struct Dims {
  rows: u32,
  pixels: u32,
}

struct Step { batchStart: u32, t: u32, seed: u32, lr: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> images: array<u32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read> order: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> batchLabels: array<u32>;

const WG: u32 = 256u;

// Byte k of a packed u8 array, given the u32 word that holds it.
fn byteOf(word: u32, k: u32) -> u32 {
  return extractBits(word, (k % 4u) * 8u, 8u);
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= dims.rows * dims.pixels) { return; }
  let row = i / dims.pixels;
  let pixel = i % dims.pixels;
  let sample = order[step.batchStart + row];
  let k = sample * dims.pixels + pixel;
  x[i] = f32(byteOf(images[k / 4u], k)) / 255.0;
  if (pixel == 0u) { batchLabels[row] = byteOf(labels[sample / 4u], sample); }
}
