/**
 * Options that would change nothing about the chosen run: refused, so a result never reads as though
 * an option had been used (say dropout after the first conv of an MLP, or momentum with Adam).
 */
import { presetConfig } from '../src/presets/index.ts';
import type { TrainConfig } from '../src/train/config.ts';

const NO_CONVS = 'it has no convolutions';

/**
 * The first option in `given` that has no effect on `config` (built from `preset` and `overrides`), as
 * a one-line message naming it and why; null when every option counts.
 */
export function ineffectiveOption(given: ReadonlyMap<string, string>, preset: string, overrides: Partial<TrainConfig>, config: TrainConfig): string | null {
  const model = preset === 'custom' ? 'the custom model' : preset;
  const why = (option: string): string | null => {
    switch (option) {
      case 'dropout-first':
        return config.convs.length > 0 ? null : `${NO_CONVS}, and that dropout comes after the first conv block`;
      case 'conv-activation':
        return config.convs.length > 0 ? null : `${NO_CONVS}, so no conv block to activate`;
      case 'batchnorm':
        return config.convs.length > 0 ? null : `${NO_CONVS}, and batchnorm comes after each conv`;
      case 'activation': {
        // With no hidden layer it can still count: on a study preset it turns the output sigmoid into logits.
        const { activation, ...rest } = overrides;
        const changesLayers = activation !== undefined && JSON.stringify(presetConfig(preset, rest).layers) !== JSON.stringify(config.layers);
        return config.hidden.length > 0 || changesLayers ? null : 'it has no hidden dense layers for that activation to follow';
      }
      case 'momentum':
        return config.optimizer === 'sgd' ? null : 'momentum is for SGD (--optimizer sgd); Adam keeps its own moments';
      case 'gamma':
        return config.stepSize > 0 ? null : 'the learning rate decays by gamma only with --step-size N';
      default:
        return null;
    }
  };
  for (const option of given.keys()) {
    const reason = why(option);
    if (reason) return `--${option} has no effect on ${model}: ${reason}`;
  }
  return null;
}
