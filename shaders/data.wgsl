// Batch gather: copies this step's samples out of the whole data set, which lives on the GPU as bytes.
//
//   images       [samples × pixels] u8 packed 4 per u32, little-endian: byte k is image k / pixels, pixel k % pixels
//   labels       [samples] u8 packed the same way
//   order        [samples] u32 sample indices (this epoch's shuffle, or the identity for eval)
//   x            [rows × pixels] f32 = byte / 255 (torchvision's ToTensor)
//   batchLabels  [rows] u32
//
// Row r of the batch is sample order[step.batchStart + r]. One workgroup per row, its invocations
// striding over the row's pixels: no integer division anywhere (it is slow on CPU adapters), and
// consecutive invocations read consecutive bytes of the image.

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

const WG: u32 = 64u;

// Byte k of a packed u8 array, given the u32 word that holds it.
fn byteOf(word: u32, k: u32) -> u32 {
  return extractBits(word, (k & 3u) * 8u, 8u);
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x;
  let sample = order[step.batchStart + row];
  let first = sample * dims.pixels;
  for (var pixel = lane; pixel < dims.pixels; pixel += WG) {
    let k = first + pixel;
    x[row * dims.pixels + pixel] = f32(byteOf(images[k >> 2u], k)) / 255.0;
  }
  if (lane == 0u) { batchLabels[row] = byteOf(labels[sample >> 2u], sample); }
}
