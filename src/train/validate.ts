import { check } from '../errors.ts';
import { CLASSES } from '../data/mnist.ts';
import type { ActivationKind, LayerSpec } from '../graph/spec.ts';
import type { TrainConfig } from './config.ts';

export const ACTIVATIONS: readonly ActivationKind[] = ['sigmoid', 'relu', 'leaky_relu', 'elu'];
const MNIST_TRAIN = 60000;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Every option in range, or a ConfigError naming the option, its value and what is allowed —
 * before any GPU work. (Whether the batch fits the training set is checked once the split is known.)
 */
export function validateConfig(c: TrainConfig): void {
  check(isInt(c.epochs) && c.epochs >= 1 && c.epochs <= 10000, 'epochs', c.epochs, 'a whole number from 1 to 10000');
  check(isInt(c.batchSize) && c.batchSize >= 1 && c.batchSize <= MNIST_TRAIN, 'batch size', c.batchSize, `a whole number from 1 to ${MNIST_TRAIN}`);
  check(c.optimizer === 'adam' || c.optimizer === 'sgd', 'optimizer', c.optimizer, 'adam or sgd');
  check(isNum(c.lr) && c.lr > 0, 'lr', c.lr, 'a number > 0');
  check(isNum(c.momentum) && c.momentum >= 0 && c.momentum < 1, 'momentum', c.momentum, 'a number in [0, 1)');
  check(isNum(c.weightDecay) && c.weightDecay >= 0, 'weight decay', c.weightDecay, 'a number ≥ 0');
  check(isNum(c.valFraction) && c.valFraction >= 0 && c.valFraction < 1, 'val fraction', c.valFraction, 'a number in [0, 1)');
  check(isInt(c.patience) && c.patience >= 0, 'patience', c.patience, 'a whole number ≥ 1 (0 turns early stopping off)');
  check(c.patience === 0 || c.valFraction > 0, 'patience', c.patience, 'early stopping needs a validation set: val fraction > 0');
  check(c.monitor === 'val_loss' || c.monitor === 'val_acc', 'monitor', c.monitor, 'val_loss or val_acc');
  check(isInt(c.stepSize) && c.stepSize >= 0, 'step size', c.stepSize, 'a whole number ≥ 1 (0 keeps the learning rate constant)');
  check(isNum(c.gamma) && c.gamma > 0 && c.gamma <= 1, 'gamma', c.gamma, 'a number in (0, 1]');
  check(Array.isArray(c.keep) && c.keep.length === CLASSES, 'keep', c.keep, 'ten fractions, one per digit');
  c.keep.forEach((k, digit) => check(isNum(k) && k >= 0 && k <= 1, `keep fraction of digit ${digit}`, k, 'a number in [0, 1]'));
  check(c.keep.some((k) => k > 0), 'keep', c.keep.join(','), 'at least one digit with a keep fraction > 0');
  check(c.trainLimit === null || (isInt(c.trainLimit) && c.trainLimit >= 1 && c.trainLimit <= MNIST_TRAIN), 'train limit', c.trainLimit, `a whole number from 1 to ${MNIST_TRAIN}`);
  check(isInt(c.seed) && c.seed >= 0 && c.seed <= 0xffffffff, 'seed', c.seed, 'a whole number from 0 to 4294967295');
  check(isInt(c.logEvery) && c.logEvery >= 0, 'log every', c.logEvery, 'a whole number of steps ≥ 0');
  check(ACTIVATIONS.includes(c.activation), 'activation', c.activation, ACTIVATIONS.join(', '));
  check(ACTIVATIONS.includes(c.convActivation), 'conv activation', c.convActivation, ACTIVATIONS.join(', '));
  check(c.outputActivation === 'none' || ACTIVATIONS.includes(c.outputActivation), 'output activation', c.outputActivation, `none, ${ACTIVATIONS.join(', ')}`);
  c.hidden.forEach((h, i) => check(isInt(h) && h >= 1 && h <= 65536, `hidden layer ${i + 1} size`, h, 'a whole number from 1 to 65536'));
  check(isNum(c.dropoutFirst) && c.dropoutFirst >= 0 && c.dropoutFirst < 1, 'dropout first', c.dropoutFirst, 'a rate in [0, 1)');
  check(isNum(c.dropoutLast) && c.dropoutLast >= 0 && c.dropoutLast < 1, 'dropout last', c.dropoutLast, 'a rate in [0, 1)');
  c.layers.forEach(validateLayer);
}

function validateLayer(spec: LayerSpec, i: number): void {
  const at = `layer ${i} (${spec.type})`;
  switch (spec.type) {
    case 'dense':
      check(isInt(spec.out) && spec.out >= 1, `${at} out`, spec.out, 'a whole number ≥ 1');
      break;
    case 'conv2d':
      check(isInt(spec.out) && spec.out >= 1, `${at} out channels`, spec.out, 'a whole number ≥ 1');
      check(isInt(spec.kernel) && spec.kernel >= 1, `${at} kernel`, spec.kernel, 'a whole number ≥ 1');
      check(spec.stride === undefined || (isInt(spec.stride) && spec.stride >= 1), `${at} stride`, spec.stride, 'a whole number ≥ 1');
      check(spec.padding === undefined || (isInt(spec.padding) && spec.padding >= 0), `${at} padding`, spec.padding, 'a whole number ≥ 0');
      break;
    case 'activation':
      check(ACTIVATIONS.includes(spec.kind), `${at} kind`, spec.kind, ACTIVATIONS.join(', '));
      break;
    case 'dropout':
      check(isNum(spec.rate) && spec.rate >= 0 && spec.rate < 1, `${at} rate`, spec.rate, 'a rate in [0, 1)');
      break;
    case 'batchnorm':
    case 'flatten':
      break;
    default:
      check(false, `${at} type`, (spec as { type: string }).type, 'dense, conv2d, activation, batchnorm, dropout, flatten');
  }
}
