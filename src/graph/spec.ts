/** A model as plain data: what presets, configs and checkpoints store, and what src/layers/build.ts builds. */

export type ActivationKind = 'sigmoid' | 'relu' | 'leaky_relu' | 'elu';

/** One layer of a model, serialisable. Shapes are inferred; batchnorm is 1d or 2d by its input's rank. */
export type LayerSpec =
  | { type: 'dense'; out: number }
  | { type: 'conv2d'; out: number; kernel: number; stride?: number; padding?: number }
  | { type: 'activation'; kind: ActivationKind; alpha?: number }
  | { type: 'batchnorm' }
  | { type: 'dropout'; rate: number }
  | { type: 'flatten' };
