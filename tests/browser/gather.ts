import { gatherBatch } from '../../src/engine/gather.ts';
import { Rng } from '../../src/data/random.ts';
import { compare, readF32, readU32, run, stepUniform, storage, testGpu, type Closeness } from './util.ts';

/**
 * A synthetic set whose every byte is known (pixel j of image i = (31i + 7j) mod 256, label
 * (37i + 11) mod 256, so every byte value and lane of a u32 occurs), a shuffled order and a nonzero
 * batchStart. One spare row past the batch must keep its sentinel.
 */
export async function gatherVsExpected(samples: number, pixels: number, rows: number, batchStart: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const { images, labels, order } = syntheticSet(samples, pixels, 5);
  const buf = {
    images: gpu.buffers.upload('images', images),
    labels: gpu.buffers.upload('labels', labels),
    order: storage(gpu, 'order', order),
    x: storage(gpu, 'x', new Float32Array((rows + 1) * pixels).fill(-1)),
    batchLabels: storage(gpu, 'batchLabels', new Uint32Array(rows + 1).fill(0xffffffff)),
    step: stepUniform(gpu, { batchStart, t: 7, seed: 0, lr: 0.1 }),
  };
  await run(gpu, [gatherBatch(gpu, { ...buf, rows, pixels })]);

  const expectedX = new Float64Array((rows + 1) * pixels).fill(-1);
  const expectedLabels = new Array<number>(rows + 1).fill(0xffffffff);
  for (let r = 0; r < rows; r++) {
    const sample = order[batchStart + r]!;
    for (let j = 0; j < pixels; j++) expectedX[r * pixels + j] = images[sample * pixels + j]! / 255;
    expectedLabels[r] = labels[sample]!;
  }
  const results = [
    // WGSL's f32 division is accurate to 2.5 ulp: ≤ 3e-7 on values in [0, 1].
    compare('x', await readF32(gpu, buf.x), expectedX, 3e-7, 0),
    compare('batchLabels', await readU32(gpu, buf.batchLabels), expectedLabels, 0, 0),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return results;
}

/**
 * The same set gathered as bytes (gather_bytes, for a model reading its input as bytes): each row the
 * sample's pixel words exactly as stored, 4 per u32; the spare row keeps its sentinel.
 */
export async function gatherBytesVsExpected(samples: number, pixels: number, rows: number, batchStart: number): Promise<Closeness[]> {
  const gpu = await testGpu();
  const { images, labels, order } = syntheticSet(samples, pixels, 6);
  const words = pixels / 4;
  const buf = {
    images: gpu.buffers.upload('images', images),
    labels: gpu.buffers.upload('labels', labels),
    order: storage(gpu, 'order', order),
    x: storage(gpu, 'x.bytes', new Uint32Array((rows + 1) * words).fill(0xdeadbeef)),
    batchLabels: storage(gpu, 'batchLabels', new Uint32Array(rows + 1).fill(0xffffffff)),
    step: stepUniform(gpu, { batchStart, t: 7, seed: 0, lr: 0.1 }),
  };
  await run(gpu, [gatherBatch(gpu, { ...buf, rows, pixels, xFormat: 'u8x4' })]);

  const expectedBytes = new Uint8Array((rows + 1) * pixels);
  new Uint32Array(expectedBytes.buffer).fill(0xdeadbeef);
  const expectedLabels = new Array<number>(rows + 1).fill(0xffffffff);
  for (let r = 0; r < rows; r++) {
    const sample = order[batchStart + r]!;
    expectedBytes.set(images.subarray(sample * pixels, (sample + 1) * pixels), r * pixels);
    expectedLabels[r] = labels[sample]!;
  }
  const results = [
    compare('x words', await readU32(gpu, buf.x), new Uint32Array(expectedBytes.buffer), 0, 0),
    compare('batchLabels', await readU32(gpu, buf.batchLabels), expectedLabels, 0, 0),
  ];
  for (const buffer of Object.values(buf)) gpu.buffers.release(buffer);
  return results;
}

/** The set both gathers read: pixel j of image i = (31i + 7j) mod 256, label (37i + 11) mod 256, an order shuffled by `seed`. */
function syntheticSet(samples: number, pixels: number, seed: number) {
  const images = Uint8Array.from({ length: samples * pixels }, (_, k) => (31 * Math.floor(k / pixels) + 7 * (k % pixels)) % 256);
  const labels = Uint8Array.from({ length: samples }, (_, i) => (37 * i + 11) % 256);
  const order = new Rng(seed).shuffle(Uint32Array.from({ length: samples }, (_, i) => i));
  return { images, labels, order };
}
