/**
 * Real MNIST batches for the peers' pages, read from the IDX files Vite serves at `/mnist/<name>`,
 * split and shuffled by the same functions as our trainer, so every engine trains on the same batches.
 */
import { buildSplits, epochOrder } from '../src/data/split.ts';
import { EPOCH } from './workloads.ts';

export const PIXELS = 28 * 28;
export const CLASSES = 10;

/** One batch: images `[rows, 784]` in [0, 1] (row-major 28×28) and one-hot labels `[rows, 10]`. */
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
 * MNIST's training images as every engine's epoch sees them: pixels in [0, 1] as f32 (converted once,
 * before any timing), labels, and the train/validation split our trainer makes by default.
 */
export interface EpochData {
  /** 60,000 × 784. */
  pixels: Float32Array<ArrayBuffer>;
  labels: Uint8Array;
  train: Uint32Array;
  val: Uint32Array;
}

export async function loadEpochData(): Promise<EpochData> {
  const [images, labels] = await Promise.all([fetchBytes('train-images-idx3-ubyte'), fetchBytes('train-labels-idx1-ubyte')]);
  const n = idxCount(images, 'train-images', 0x803, [28, 28]);
  if (idxCount(labels, 'train-labels', 0x801, []) !== n) throw new Error('train images and labels differ in count');
  const bytes = new Uint8Array(images.buffer, images.byteOffset + 16, n * PIXELS);
  // A plain loop: Float32Array.from with a map function took 20 s here for the 47 M pixels.
  const pixels = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i]! / 255;
  const classes = new Uint8Array(labels.buffer, labels.byteOffset + 8, n).slice();
  const { train, val } = buildSplits(classes, { keep: new Array<number>(CLASSES).fill(1), valFraction: EPOCH.valFraction, trainLimit: null, seed: EPOCH.seed });
  return { pixels, labels: classes, train, val };
}

/**
 * A peer's input path: each step gathers the next `batch` images of this epoch's shuffled order
 * (the trainer's own order, epochOrder) into fresh arrays on the host, which the peer then turns into
 * its tensors. Reaching the end of the epoch's full batches starts the next epoch, reshuffled.
 */
export class BatchSource {
  readonly stepsPerEpoch: number;
  readonly validationBatchCount: number;
  readonly validationImages: number;
  private order: Uint32Array;
  private epoch = 1;
  private position = 0;

  constructor(
    private readonly data: EpochData,
    readonly batch: number,
  ) {
    this.stepsPerEpoch = Math.floor(data.train.length / batch);
    this.validationBatchCount = Math.ceil(data.val.length / batch);
    this.validationImages = data.val.length;
    if (this.stepsPerEpoch === 0) throw new Error(`batch ${batch} is larger than the ${data.train.length} training images`);
    this.order = epochOrder(data.train, EPOCH.seed, this.epoch);
  }

  /** Starts the next epoch from its first batch (a fresh shuffle). */
  startEpoch(): void {
    this.order = epochOrder(this.data.train, EPOCH.seed, ++this.epoch);
    this.position = 0;
  }

  next(): Batch {
    if (this.position === this.stepsPerEpoch) this.startEpoch();
    const start = this.position++ * this.batch;
    return this.gather(this.order.subarray(start, start + this.batch));
  }

  /** Validation batch `i` of `validationBatchCount`; the last holds the remainder. */
  validationBatch(i: number): Batch {
    return this.gather(this.data.val.subarray(i * this.batch, (i + 1) * this.batch));
  }

  private gather(indices: Uint32Array): Batch {
    const { pixels, labels } = this.data;
    const images = new Float32Array(indices.length * PIXELS);
    const oneHot = new Float32Array(indices.length * CLASSES);
    const picked = new Uint8Array(indices.length);
    indices.forEach((index, row) => {
      images.set(pixels.subarray(index * PIXELS, (index + 1) * PIXELS), row * PIXELS);
      picked[row] = labels[index]!;
      oneHot[row * CLASSES + picked[row]!] = 1;
    });
    return { images, oneHot, labels: picked };
  }
}

/** A validation pass: every batch, a warm-up, or the first `first` batches (a sample timed where the whole pass is too slow). */
export type ValidationPass = 'warm-up' | 'all' | { first: number };

/** Which of `count` validation batches a pass runs: all, the first few, or for a warm-up the first and the last (every batch shape, compiled). */
export function passBatches(count: number, pass: ValidationPass): number[] {
  if (pass === 'all') return Array.from({ length: count }, (_, i) => i);
  if (pass === 'warm-up') return count === 1 ? [0] : [0, count - 1];
  return Array.from({ length: Math.min(count, Math.max(1, pass.first)) }, (_, i) => i);
}
