import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { CheckpointError, ConfigError } from '../src/errors.ts';
import { parseIdxImages, parseIdxLabels } from '../src/data/idx.ts';
import { fetchFromServer, loadMnist, MNIST_FILES, type Mnist } from '../src/data/mnist.ts';
import { loadMnistFromDisk, mnistDataDir, readFromDisk } from '../src/data/mnist-node.ts';
import { buildSplits, classCounts, epochOrder, type SplitOptions } from '../src/data/split.ts';
import { FULL_KEEP, STUDY_KEEP } from '../src/train/config.ts';

// Digit counts of the real MNIST files.
const TRAIN_DIGITS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_DIGITS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

const raw = (name: string) => new Uint8Array(readFileSync(join(mnistDataDir(), name)));
let loaded: Promise<Mnist> | undefined;
const mnist = () => (loaded ??= loadMnistFromDisk());
const trainLabels = async () => (await mnist()).train.labels;
const everything = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** An IDX file from a header and a body, for corrupt and odd-shaped inputs. */
function idx(header: number[], body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(4 * header.length + body.length);
  const view = new DataView(bytes.buffer);
  header.forEach((word, i) => view.setUint32(4 * i, word));
  bytes.set(body, 4 * header.length);
  return bytes;
}

test('the real MNIST files parse: magic, 60,000/10,000 images of 28×28, digit histograms', async () => {
  const images = raw(MNIST_FILES.trainImages);
  expect(new DataView(images.buffer).getUint32(0)).toBe(0x00000803);
  const parsed = parseIdxImages(MNIST_FILES.trainImages, images, 60_000);
  expect([parsed.count, parsed.rows, parsed.cols, parsed.pixels.length]).toEqual([60_000, 28, 28, 60_000 * 784]);

  const { train, test: testSet, rows, cols } = await mnist();
  expect([train.count, testSet.count, rows, cols]).toEqual([60_000, 10_000, 28, 28]);
  expect(train.images.length).toBe(60_000 * 784);
  expect(testSet.images.length).toBe(10_000 * 784);
  expect(classCounts(train.labels, everything(60_000))).toEqual(TRAIN_DIGITS);
  expect(classCounts(testSet.labels, everything(10_000))).toEqual(TEST_DIGITS);
  expect(TRAIN_DIGITS.reduce((a, b) => a + b)).toBe(60_000);
  expect(TEST_DIGITS.reduce((a, b) => a + b)).toBe(10_000);
  expect([train.labels[0], testSet.labels[0]]).toEqual([5, 7]);
  expect(Math.max(...train.images.subarray(0, 784))).toBe(255);
});

test('corrupt IDX files are refused with the file named', () => {
  const labels = raw(MNIST_FILES.testLabels);
  const images = raw(MNIST_FILES.testImages);
  const refuse = (parse: () => unknown, message: string | RegExp) => {
    expect(parse).toThrow(CheckpointError);
    expect(parse).toThrow(message);
  };
  refuse(() => parseIdxImages('train-images-idx3-ubyte', labels),
    'train-images-idx3-ubyte: magic 0x00000801 is not 0x00000803 (images)');
  refuse(() => parseIdxLabels('t10k-labels-idx1-ubyte', images), /^t10k-labels-idx1-ubyte: magic 0x00000803 is not 0x00000801/);
  refuse(() => parseIdxImages('t10k-images-idx3-ubyte', images.subarray(0, images.length - 1)),
    't10k-images-idx3-ubyte: 7839999 data bytes, but the header\'s 10000×28×28 needs 7840000');
  refuse(() => parseIdxLabels('t10k-labels-idx1-ubyte', labels.subarray(0, 5000)), /^t10k-labels-idx1-ubyte: 4992 data bytes/);
  refuse(() => parseIdxLabels('x-labels', labels.subarray(0, 6)), 'x-labels: 6 bytes is shorter than the 8-byte labels header');
  refuse(() => parseIdxLabels('t10k-labels-idx1-ubyte', labels, 60_000), 't10k-labels-idx1-ubyte: count 10000 is not the expected 60000');

  const eleven = labels.slice();
  eleven[8 + 3] = 11;
  refuse(() => parseIdxLabels('t10k-labels-idx1-ubyte', eleven), 't10k-labels-idx1-ubyte: label 11 at index 3 is not a digit 0–9');
});

test('loadMnist refuses swapped files, wrong counts and non-28×28 images, naming the file', async () => {
  const disk = readFromDisk();
  const swapped = (name: string) => disk(name === MNIST_FILES.trainLabels ? MNIST_FILES.testLabels : name);
  await expect(loadMnist(swapped)).rejects.toThrow('train-labels-idx1-ubyte: count 10000 is not the expected 60000');

  const tiny = idx([0x00000803, 60_000, 1, 1], new Uint8Array(60_000));
  const tinyImages = (name: string) => (name === MNIST_FILES.trainImages ? Promise.resolve(tiny) : disk(name));
  await expect(loadMnist(tinyImages)).rejects.toThrow("train-images-idx3-ubyte: images are 1×1, MNIST's are 28×28");

  await expect(readFromDisk('/nonexistent')('t10k-labels-idx1-ubyte')).rejects.toThrow(/^t10k-labels-idx1-ubyte: could not read/);
});

test('fetchFromServer loads the files the dev server serves, and names the file on HTTP failure', async ({ baseURL }) => {
  const served = await loadMnist(fetchFromServer(`${baseURL}/mnist/`));
  expect([served.train.count, served.test.count, served.train.labels[0]]).toEqual([60_000, 10_000, 5]);

  const realFetch = globalThis.fetch;
  globalThis.fetch = async () => new Response(null, { status: 404, statusText: 'Not Found' });
  try {
    await expect(fetchFromServer('data/')('t10k-images-idx3-ubyte'))
      .rejects.toThrow('t10k-images-idx3-ubyte: fetching data/t10k-images-idx3-ubyte gave HTTP 404 Not Found');
  } finally {
    globalThis.fetch = realFetch;
  }
});

const study: SplitOptions = { keep: STUDY_KEEP, valFraction: 0.2, trainLimit: null, seed: 1 };

test('the study distribution keeps exactly 10% of digits 0, 4 and 7, and splits 80/20', async () => {
  const labels = await trainLabels();
  const { train, val, classCounts: counts } = buildSplits(labels, study);
  // round(0.1 × 5923, 5842, 6265) = 592, 584, 627 (626.5 rounds up).
  const pool = [592, 6742, 5958, 6131, 584, 5421, 5918, 627, 5851, 5949];
  expect(counts.train.map((n, d) => n + counts.val[d])).toEqual(pool);
  expect(counts.train).toEqual(classCounts(labels, train));
  expect(counts.val).toEqual(classCounts(labels, val));
  // 43,773 images: random_split with [0.8, 0.2] gives floor(8754.6) = 8754 to validation.
  expect([train.length, val.length]).toEqual([35_019, 8754]);
  expect(new Set([...train, ...val]).size).toBe(43_773);
  expect(Math.max(...train, ...val)).toBeLessThan(60_000);
  // Every digit shows up in both parts: a shuffled split, not a sorted one.
  expect(counts.val.every((n) => n > 0)).toBe(true);
});

test('keep fractions: 1 keeps all, 0 drops the digit, other digits unaffected', async () => {
  const labels = await trainLabels();
  const full = buildSplits(labels, { ...study, keep: FULL_KEEP });
  expect(full.classCounts.train.map((n, d) => n + full.classCounts.val[d])).toEqual(TRAIN_DIGITS);
  expect([full.train.length, full.val.length]).toEqual([48_000, 12_000]);

  const noThrees = buildSplits(labels, { ...study, keep: [1, 1, 1, 0, 1, 1, 1, 1, 1, 1] });
  expect(noThrees.classCounts.train[3] + noThrees.classCounts.val[3]).toBe(0);
  expect(noThrees.train.length + noThrees.val.length).toBe(60_000 - 6131);

  // Digit 4's kept images do not depend on digit 0's fraction (a stream per digit).
  const fours = (keep: number[]) => {
    const { train, val } = buildSplits(labels, { ...study, keep });
    return [...train, ...val].filter((i) => labels[i] === 4).sort((a, b) => a - b);
  };
  expect(fours(STUDY_KEEP)).toEqual(fours([0.5, 1, 1, 1, 0.1, 1, 1, 0.1, 1, 1]));
});

test('trainLimit takes the first N images before the keep fractions; valFraction 0 keeps all for training', async () => {
  const labels = await trainLabels();
  const first = classCounts(labels, everything(1000));
  const limited = buildSplits(labels, { ...study, trainLimit: 1000, valFraction: 0 });
  expect(limited.val.length).toBe(0);
  expect(Math.max(...limited.train)).toBeLessThan(1000);
  expect(limited.classCounts.train).toEqual(first.map((n, d) => Math.round(STUDY_KEEP[d] * n)));

  const plain = buildSplits(labels, { ...study, keep: FULL_KEEP, trainLimit: 1000, valFraction: 0.25 });
  expect([plain.train.length, plain.val.length]).toEqual([750, 250]);
});

test('splits are fixed by the seed and change with it', async () => {
  const labels = await trainLabels();
  const a = buildSplits(labels, study);
  const b = buildSplits(labels, study);
  const c = buildSplits(labels, { ...study, seed: 2 });
  expect(b.train).toEqual(a.train);
  expect(b.val).toEqual(a.val);
  expect(c.train).not.toEqual(a.train);
  // Another seed also picks other images of the reduced digits.
  const zeros = (s: typeof a) => [...s.train, ...s.val].filter((i) => labels[i] === 0).sort((x, y) => x - y);
  expect(zeros(c)).not.toEqual(zeros(a));
});

test('epochOrder is a permutation of the training indices, fixed by seed and epoch', async () => {
  const { train } = buildSplits(await trainLabels(), study);
  const order = epochOrder(train, 1, 0);
  expect(order.slice().sort()).toEqual(train.slice().sort());
  expect(order).not.toEqual(train);
  expect(epochOrder(train, 1, 0)).toEqual(order);
  expect(epochOrder(train, 1, 1)).not.toEqual(order);
  expect(epochOrder(train, 2, 0)).not.toEqual(order);
});

test('bad split options are ConfigErrors naming the field and value', async () => {
  const labels = await trainLabels();
  const refuse = (options: Partial<SplitOptions>, message: string | RegExp) => {
    const build = () => buildSplits(labels, { ...study, ...options });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  };
  refuse({ keep: [1, 1, 1.5, 1, 1, 1, 1, 1, 1, 1] }, 'keep[2] 1.5 is not allowed: a fraction in [0, 1]');
  refuse({ keep: [1, 1, -0.1, 1, 1, 1, 1, 1, 1, 1] }, /^keep\[2\] -0.1/);
  refuse({ keep: [1, 1, 1] }, /^keep \[1, 1, 1\] is not allowed: one fraction per digit/);
  refuse({ keep: new Array(10).fill(0) }, /at least one digit kept/);
  refuse({ valFraction: 1 }, 'valFraction 1 is not allowed: a fraction in [0, 1)');
  refuse({ trainLimit: 0 }, /^trainLimit 0 is not allowed/);
  refuse({ trainLimit: 60_001 }, /^trainLimit 60001 is not allowed: an integer in \[1, 60000\]/);
  // The first training image is a 5, so a one-image pool without 5s is empty.
  refuse({ trainLimit: 1, keep: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1] }, /leaves no training images among the first 1 \(trainLimit 1\)/);
});
