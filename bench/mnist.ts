/**
 * Real MNIST batches for the benchmark pages, read from the IDX files Vite serves at `/mnist/<name>`.
 * Parsed here rather than through the engine's loader so the peers and ours see the same bytes.
 */

export const PIXELS = 28 * 28;
export const CLASSES = 10;

/** One training batch: images `[batch, 784]` in [0, 1] (row-major 28×28) and one-hot labels `[batch, 10]`. */
export interface Batch {
  images: Float32Array<ArrayBuffer>;
  oneHot: Float32Array<ArrayBuffer>;
  labels: Uint8Array;
}

async function fetchBytes(name: string): Promise<DataView> {
  const response = await fetch(`/mnist/${name}`);
  if (!response.ok) throw new Error(`GET /mnist/${name}: ${response.status} ${response.statusText}`);
  return new DataView(await response.arrayBuffer());
}

/** Checks an IDX header (magic 0x0803 images / 0x0801 labels, big-endian sizes) and returns the item count. */
function idxCount(view: DataView, name: string, magic: number, dims: number[]): number {
  if (view.getUint32(0) !== magic) throw new Error(`${name}: magic ${view.getUint32(0).toString(16)}, expected ${magic.toString(16)}`);
  dims.forEach((size, i) => {
    const got = view.getUint32(8 + 4 * i);
    if (got !== size) throw new Error(`${name}: dimension ${i + 1} is ${got}, expected ${size}`);
  });
  return view.getUint32(4);
}

/**
 * `count` consecutive batches of `batch` training samples from the start of the training set
 * (a ring the timed loop cycles through, so every step sees different real digits).
 */
export async function mnistBatches(batch: number, count: number): Promise<Batch[]> {
  const [images, labels] = await Promise.all([fetchBytes('train-images-idx3-ubyte'), fetchBytes('train-labels-idx1-ubyte')]);
  const n = idxCount(images, 'train-images', 0x803, [28, 28]);
  if (idxCount(labels, 'train-labels', 0x801, []) !== n) throw new Error('train images and labels differ in count');
  if (batch * count > n) throw new Error(`${count} batches of ${batch} need ${batch * count} samples; MNIST has ${n}`);
  const pixels = new Uint8Array(images.buffer, images.byteOffset + 16, n * PIXELS);
  const classes = new Uint8Array(labels.buffer, labels.byteOffset + 8, n);
  const out: Batch[] = [];
  for (let b = 0; b < count; b++) {
    const start = b * batch;
    const x = new Float32Array(batch * PIXELS);
    for (let i = 0; i < x.length; i++) x[i] = pixels[start * PIXELS + i]! / 255;
    const y = classes.slice(start, start + batch);
    const oneHot = new Float32Array(batch * CLASSES);
    y.forEach((label, i) => (oneHot[i * CLASSES + label] = 1));
    out.push({ images: x, oneHot, labels: y });
  }
  return out;
}
