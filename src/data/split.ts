/**
 * The training pool of a run, as indices into the 60,000 training images: first `trainLimit` images,
 * then each digit kept at its `keep` fraction, then a seeded train/validation split. The test set is
 * never filtered. Every random choice has its own stream (a fork per purpose) from a fresh Rng(seed),
 * so changing one option never reshuffles what another chose.
 */
import { ConfigError, check } from '../errors.ts';
import { Rng } from './random.ts';

const CLASSES = 10;
const SALT = { keep: 1, split: 2, epoch: 3 } as const;

export interface SplitOptions {
  /** Per-digit fraction of that digit's images kept, in [0, 1]. */
  keep: number[];
  /** Fraction of the kept pool held out for validation, in [0, 1). */
  valFraction: number;
  /** Use only the first N training images; null = all. */
  trainLimit: number | null;
  seed: number;
}

export interface Splits {
  train: Uint32Array;
  val: Uint32Array;
  classCounts: { train: number[]; val: number[] };
}

export function buildSplits(labels: Uint8Array, options: SplitOptions): Splits {
  validate(labels.length, options);
  const { keep, valFraction, trainLimit, seed } = options;
  const limit = trainLimit ?? labels.length;
  const pool = keepFractions(labels.subarray(0, limit), keep, new Rng(seed).fork(SALT.keep));
  if (pool.length === 0) {
    throw new ConfigError(`keep [${keep.join(', ')}] leaves no training images among the first ${limit} (trainLimit ${trainLimit})`);
  }
  // torch.utils.data.random_split with fractions: shuffle, floor(n·f) for validation, the remainder trains.
  new Rng(seed).fork(SALT.split).shuffle(pool);
  const valCount = Math.floor(pool.length * valFraction);
  const train = pool.slice(0, pool.length - valCount);
  const val = pool.slice(pool.length - valCount);
  return { train, val, classCounts: { train: classCounts(labels, train), val: classCounts(labels, val) } };
}

/**
 * Keeps round(keep[d] · count of d) images of each digit d (half rounds up), chosen by a stream forked
 * per digit so one digit's fraction does not change which images of another are kept. Sorted ascending.
 */
function keepFractions(labels: Uint8Array, keep: number[], rng: Rng): Uint32Array {
  const byDigit: number[][] = Array.from({ length: CLASSES }, () => []);
  labels.forEach((label, i) => byDigit[label].push(i));
  const kept: number[] = [];
  byDigit.forEach((indices, digit) => {
    const digitRng = rng.fork(digit);
    const count = Math.round(keep[digit] * indices.length);
    if (count < indices.length) digitRng.shuffle(indices);
    kept.push(...indices.slice(0, count));
  });
  return Uint32Array.from(kept).sort();
}

function validate(total: number, { keep, valFraction, trainLimit, seed }: SplitOptions): void {
  const keepList = `[${keep.join(', ')}]`;
  if (keep.length !== CLASSES) throw new ConfigError(`keep ${keepList} is not allowed: one fraction per digit (${CLASSES})`);
  keep.forEach((f, digit) => check(f >= 0 && f <= 1, `keep[${digit}]`, f, 'a fraction in [0, 1]'));
  if (!keep.some((f) => f > 0)) throw new ConfigError(`keep ${keepList} is not allowed: at least one digit kept (> 0)`);
  check(valFraction >= 0 && valFraction < 1, 'valFraction', valFraction, 'a fraction in [0, 1)');
  if (trainLimit !== null) {
    check(Number.isInteger(trainLimit) && trainLimit >= 1 && trainLimit <= total, 'trainLimit', trainLimit, `an integer in [1, ${total}] or null`);
  }
  check(Number.isSafeInteger(seed), 'seed', seed, 'an integer');
}

/** The order the training images are visited in `epoch`: a permutation of `train`, fixed by seed and epoch. */
export function epochOrder(train: Uint32Array, seed: number, epoch: number): Uint32Array {
  return new Rng(seed).fork(SALT.epoch).fork(epoch).shuffle(train.slice());
}

/** How many of `indices` carry each digit. */
export function classCounts(labels: Uint8Array, indices: ArrayLike<number>): number[] {
  const counts = new Array<number>(CLASSES).fill(0);
  for (let i = 0; i < indices.length; i++) counts[labels[indices[i]]]++;
  return counts;
}
