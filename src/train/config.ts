/** What a training run is, as plain data: presets, the CLI, the demo and checkpoints all speak it. */
import { CLASSES } from '../data/mnist.ts';
import type { OptimizerSpec } from '../engine/optimizer.ts';
import type { ActivationKind, LayerSpec } from '../graph/spec.ts';

export interface ConvSpec {
  out: number;
  kernel: number;
  stride: number;
  padding: number;
}

/**
 * A network the way the study describes one: conv blocks, then dense layers, with the activation of
 * each part and where batchnorm and dropout go. `recipeLayers()` turns it into a LayerSpec list.
 */
export interface Recipe {
  /** Conv blocks: conv → [batchnorm] → convActivation (→ dropoutFirst after the first block). */
  convs: ConvSpec[];
  convActivation: ActivationKind;
  batchnorm: boolean;
  /** Dropout rate after the first conv block (0 = none). */
  dropoutFirst: number;
  /** Hidden dense layer sizes, each followed by `activation`. */
  hidden: number[];
  activation: ActivationKind;
  /** Dropout rate before the last dense layer (0 = none). */
  dropoutLast: number;
  /** Applied to the 10 outputs before the loss: the study put a sigmoid there. */
  outputActivation: 'none' | ActivationKind;
}

export interface TrainConfig extends Recipe {
  /** Preset this config started from (`custom` when built by hand). */
  preset: string;
  /** Input shape of one sample: [1, 28, 28] for MNIST (dense layers flatten it). */
  inputShape: number[];
  /** The resolved layer list (from the recipe fields above). */
  layers: LayerSpec[];
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  lr: number;
  /** SGD momentum (0 = plain SGD). */
  momentum: number;
  weightDecay: number;
  /** Fraction of the (filtered) training pool held out for validation, in [0, 1). */
  valFraction: number;
  /** Early stopping: stop after `patience` epochs without improvement (0 = off); restores the best weights. */
  patience: number;
  /** What early stopping and best-weights restore watch. */
  monitor: 'val_loss' | 'val_acc';
  /** StepLR: multiply lr by gamma every stepSize epochs (stepSize 0 = constant lr). */
  stepSize: number;
  gamma: number;
  /** Named training distribution (`full`, `study`, or `custom` when keep was given). */
  distribution: 'full' | 'study' | 'custom';
  /** Per-digit keep fraction applied to the training pool before the split; the test set stays whole. */
  keep: number[];
  /** Use only the first N training images (quick runs); null = all 60,000. */
  trainLimit: number | null;
  seed: number;
  /** Read loss/accuracy back every N steps within an epoch for live curves (0 = once per epoch). */
  logEvery: number;
}

/** The study's distribution: digits 0, 4 and 7 kept at 10% (see docs on the study). */
export const STUDY_KEEP = [0.1, 1, 1, 1, 0.1, 1, 1, 0.1, 1, 1];
export const FULL_KEEP = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

/** The layer list a recipe describes. */
export function recipeLayers(recipe: Recipe): LayerSpec[] {
  const layers: LayerSpec[] = [];
  recipe.convs.forEach((conv, i) => {
    layers.push({ type: 'conv2d', ...conv });
    if (recipe.batchnorm) layers.push({ type: 'batchnorm' });
    layers.push({ type: 'activation', kind: recipe.convActivation });
    if (i === 0 && recipe.dropoutFirst > 0) layers.push({ type: 'dropout', rate: recipe.dropoutFirst });
  });
  layers.push({ type: 'flatten' });
  for (const size of recipe.hidden) {
    layers.push({ type: 'dense', out: size });
    layers.push({ type: 'activation', kind: recipe.activation });
  }
  if (recipe.dropoutLast > 0) layers.push({ type: 'dropout', rate: recipe.dropoutLast });
  layers.push({ type: 'dense', out: CLASSES });
  if (recipe.outputActivation !== 'none') layers.push({ type: 'activation', kind: recipe.outputActivation });
  return layers;
}

/** The optimizer a config asks for. */
export function optimizerSpec(config: TrainConfig): OptimizerSpec {
  return config.optimizer === 'adam'
    ? { kind: 'adam', weightDecay: config.weightDecay }
    : { kind: 'sgd', momentum: config.momentum, weightDecay: config.weightDecay };
}
