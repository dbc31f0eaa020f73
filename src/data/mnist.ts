/**
 * MNIST from its four IDX files. The bytes come from a callback, so the same loader serves the browser
 * (`fetchFromServer`) and Node (`readFromDisk` in mnist-node.ts, kept apart because it imports node:fs).
 */
import { CheckpointError } from '../errors.ts';
import { parseIdxImages, parseIdxLabels } from './idx.ts';

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_TRAIN_COUNT = 60_000;
export const MNIST_TEST_COUNT = 10_000;
/** The ten digits: a model's outputs, the confusion matrix's rows and columns. */
export const CLASSES = 10;

export interface MnistSet {
  /** count × 28 × 28 pixels, 0–255, row-major. */
  images: Uint8Array;
  /** count digits 0–9. */
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: MnistSet;
  test: MnistSet;
  rows: 28;
  cols: 28;
}

export type FetchBytes = (name: string) => Promise<Uint8Array>;

/** Loads and checks the four files (magic, 60,000/10,000 images of 28×28, labels 0–9). */
export async function loadMnist(fetchBytes: FetchBytes): Promise<Mnist> {
  const f = MNIST_FILES;
  // Fetched together, but a failure is reported for the first file in this order, whichever failed first.
  const fetched = await Promise.allSettled([f.trainImages, f.trainLabels, f.testImages, f.testLabels].map(fetchBytes));
  const [trainImages, trainLabels, testImages, testLabels] = fetched.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  }) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return {
    train: parseSet(f.trainImages, trainImages, f.trainLabels, trainLabels, MNIST_TRAIN_COUNT),
    test: parseSet(f.testImages, testImages, f.testLabels, testLabels, MNIST_TEST_COUNT),
    rows: 28,
    cols: 28,
  };
}

function parseSet(imagesName: string, imageBytes: Uint8Array, labelsName: string, labelBytes: Uint8Array, count: number): MnistSet {
  const images = parseIdxImages(imagesName, imageBytes, count);
  if (images.rows !== 28 || images.cols !== 28) {
    throw new CheckpointError(`${imagesName}: images are ${images.rows}×${images.cols}, MNIST's are 28×28`);
  }
  return { images: images.pixels, labels: parseIdxLabels(labelsName, labelBytes, count), count };
}

/** Fetches `${base}${name}` (the dev server and the static build serve the files at `mnist/`). */
export const fetchFromServer = (base = 'mnist/'): FetchBytes => async (name) => {
  const url = `${base}${name}`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new CheckpointError(`${name}: could not fetch ${url} (${(err as Error).message})`);
  }
  if (!response.ok) throw new CheckpointError(`${name}: fetching ${url} gave HTTP ${response.status} ${response.statusText}`.trimEnd());
  return new Uint8Array(await response.arrayBuffer());
};
