/**
 * The study's networks as data (see shared/seed-study.md). Task 1: MLPs with a sigmoid after every
 * layer, the output included. Task 2: valid convolutions with ReLU, sigmoid in the dense layers.
 */
import type { ConvSpec, TrainConfig } from '../train/config.ts';
import { FULL_KEEP, recipeLayers } from '../train/config.ts';

/**
 * What a run without a preset uses: the sensible setup (ReLU, logits straight into softmax
 * cross-entropy, all digits). The study's own choices live in the presets below.
 */
export const DEFAULTS: Omit<TrainConfig, 'layers'> = {
  preset: 'custom',
  inputShape: [1, 28, 28],
  convs: [],
  convActivation: 'relu',
  batchnorm: false,
  dropoutFirst: 0,
  hidden: [128, 64],
  activation: 'relu',
  dropoutLast: 0,
  outputActivation: 'none',
  epochs: 10,
  batchSize: 64,
  optimizer: 'adam',
  lr: 0.001,
  momentum: 0,
  weightDecay: 0,
  valFraction: 0.2,
  patience: 0,
  monitor: 'val_loss',
  stepSize: 0,
  gamma: 0.1,
  distribution: 'full',
  keep: [...FULL_KEEP],
  trainLimit: null,
  seed: 1,
  logEvery: 0,
};

/** The study's base settings (Task 1): sigmoid everywhere, the output too; Adam lr 0.01, batch 1000. */
const study: Partial<TrainConfig> = { activation: 'sigmoid', outputActivation: 'sigmoid', lr: 0.01, batchSize: 1000, epochs: 10, convs: [] };
const conv = (out: number, kernel: number, stride = 1): ConvSpec => ({ out, kernel, stride, padding: 0 });
const task2: Partial<TrainConfig> = { ...study, lr: 0.001, patience: 5, convActivation: 'relu' };
const arch1 = [conv(16, 5, 2), conv(8, 3)];
const arch2 = [conv(32, 5, 2), conv(16, 3), conv(8, 3)];

export const PRESETS: Record<string, { description: string; options: Partial<TrainConfig> }> = {
  'mlp-192': { description: 'Task 1: 784-192-10, sigmoid', options: { ...study, hidden: [192] } },
  'mlp-392': { description: 'Task 1: 784-392-10, sigmoid', options: { ...study, hidden: [392] } },
  'mlp-128-64': { description: 'Task 1: 784-128-64-10, sigmoid', options: { ...study, hidden: [128, 64] } },
  'task1-best': {
    description: "Task 1's best MLP: 784-128-64-10 sigmoid, Adam lr 0.01, batch 1000, 20 epochs, patience 5, StepLR(5, 0.1)",
    options: { ...study, hidden: [128, 64], epochs: 20, patience: 5, stepSize: 5, gamma: 0.1 },
  },
  'cnn-arch1': { description: 'Task 2 arch 1: conv 1→16 k5 s2, conv 16→8 k3, dense 800→10', options: { ...task2, convs: arch1, hidden: [] } },
  'cnn-arch2': {
    description: 'Task 2 arch 2: conv 1→32 k5 s2, 32→16 k3, 16→8 k3, dense 512→256→10',
    options: { ...task2, convs: arch2, hidden: [256] },
  },
  'cnn-arch3': {
    description: 'Task 2 arch 3: arch 2 + conv 8→4 k3, dense 144→72→10',
    options: { ...task2, convs: [...arch2, conv(4, 3)], hidden: [72] },
  },
  'cnn-arch4': {
    description: 'Task 2 arch 4: arch 3 + conv 4→2 k3, dense 32→10',
    options: { ...task2, convs: [...arch2, conv(4, 3), conv(2, 3)], hidden: [] },
  },
  'task2-best': {
    description: "Task 2's best CNN: arch 1 with ELU and batchnorm after each conv, Adam lr 0.001, batch 1000, up to 50 epochs, patience 5",
    options: { ...task2, convs: arch1, hidden: [], convActivation: 'elu', batchnorm: true, epochs: 50 },
  },
};

/**
 * A full config from a preset name and overrides (layers resolved from the recipe fields).
 *
 * The study's output sigmoid is part of its "sigmoid after every layer": a preset that puts its dense
 * activation on the output too keeps doing so only while that activation is kept. Overriding
 * `activation` alone (say ReLU) gives plain logits, since a ReLU or sigmoid squashing the logits
 * before softmax cross-entropy is nobody's intent; pass `outputActivation` to keep one anyway.
 */
export function presetConfig(name: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const preset = PRESETS[name];
  const options = preset?.options ?? {};
  const base = { ...DEFAULTS, ...options, preset: preset ? name : 'custom', ...overrides };
  if (outputFollowsActivation(options, overrides)) base.outputActivation = 'none';
  return { ...base, layers: recipeLayers(base) };
}

/** True when `overrides` changes the activation of a preset whose output repeats it, without naming an output. */
function outputFollowsActivation(options: Partial<TrainConfig>, overrides: Partial<TrainConfig>): boolean {
  const tied = options.outputActivation !== undefined && options.outputActivation === options.activation;
  const changed = overrides.activation !== undefined && overrides.activation !== options.activation;
  return tied && changed && overrides.outputActivation === undefined;
}
