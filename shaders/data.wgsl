// Batch gather: copies this step's samples out of the whole data set, which lives on the GPU as bytes.
//
//   images       [samples × pixels] u8 packed 4 per u32, little-endian: byte k is image k / pixels, pixel k % pixels
//   labels       [samples] u8 packed the same way
//   order        [samples] u32 sample indices (this epoch's shuffle, or the identity for eval)
//   x            [rows × pixels] f32 = byte / 255 (torchvision's ToTensor)
//   batchLabels  [rows] u32
//
// Row r of the batch is sample order[step.batchStart + r]. One workgroup per row, each invocation
// unpacking 4 pixels at a time from the one or two u32 words that hold them, striding over the row: no
// integer division (slow on CPU adapters), and one word load per 4 pixels instead of one per pixel, which
// pays on SwiftShader, where every load at a computed address costs as much as several FMAs.
// gather_words is the same for rows of whole words (pixels % 4 == 0, MNIST's 784): every image starts
// at a word and every row of x at a vec4f, so it needs neither the second word nor the tail.
// gather_bytes copies such rows' words as they are, for a first layer that reads bytes (dense, X_BYTES):
// a quarter of the stores and no unpacking. docs/perf/data.md has the measurements.

struct Dims {
  rows: u32,
  pixels: u32,
}

#include step

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> images: array<u32, ${LEN_images}u>;
@group(0) @binding(3) var<storage, read> labels: array<u32, ${LEN_labels}u>;
@group(0) @binding(4) var<storage, read> order: array<u32, ${LEN_order}u>;
@group(0) @binding(5) var<storage, read_write> x: array<f32, ${LEN_x}u>;
@group(0) @binding(6) var<storage, read_write> batchLabels: array<u32, ${LEN_batchLabels}u>;
@group(0) @binding(7) var<storage, read_write> xWords: array<vec4f, (${LEN_xWords}u + 3u) / 4u>;  // x, for gather_words
@group(0) @binding(8) var<storage, read_write> xBytes: array<u32, ${LEN_xBytes}u>;  // x as bytes, for gather_bytes

// Invocations per row. SwiftShader pays per invocation, so few of them each take many words; fewer than
// 16 would leave most of a real GPU's SIMD group idle (docs/perf/data.md).
const WG: u32 = 16u;

// The 4 bytes of a word, lowest first, as f32 / 255 (torchvision's ToTensor).
fn unpack(word: u32) -> vec4f {
  return vec4f((vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(255u)) / 255.0;
}

// This row's sample; lane 0 also copies its label (byte `sample` of labels).
fn rowSample(row: u32, lane: u32) -> u32 {
  let sample = order[step.batchStart + row];
  if (lane == 0u) { batchLabels[row] = extractBits(labels[sample >> 2u], (sample & 3u) * 8u, 8u); }
  return sample;
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x;
  let first = rowSample(row, lane) * dims.pixels;  // byte index of the image's first pixel
  let shift = (first & 3u) * 8u;                   // where it sits in its word
  let lastWord = ${LEN_images}u - 1u;
  for (var pixel = 4u * lane; pixel < dims.pixels; pixel += 4u * WG) {
    let word = (first + pixel) >> 2u;
    var bytes = images[word];
    if (shift != 0u) { bytes = (bytes >> shift) | (images[min(word + 1u, lastWord)] << (32u - shift)); }
    let v = unpack(bytes);
    let at = row * dims.pixels + pixel;
    if (pixel + 4u <= dims.pixels) {
      x[at] = v.x; x[at + 1u] = v.y; x[at + 2u] = v.z; x[at + 3u] = v.w;
    } else {
      for (var k = 0u; pixel + k < dims.pixels; k++) { x[at + k] = v[k]; }
    }
  }
}

@compute @workgroup_size(WG)
fn gather_words(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x;
  let words = dims.pixels >> 2u;
  let first = rowSample(row, lane) * words;
  for (var w = lane; w < words; w += WG) { xWords[row * words + w] = unpack(images[first + w]); }
}

@compute @workgroup_size(WG)
fn gather_bytes(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x;
  let words = dims.pixels >> 2u;
  let first = rowSample(row, lane) * words;
  for (var w = lane; w < words; w += WG) { xBytes[row * words + w] = images[first + w]; }
}
