/**
 * The engine's training half, loaded on demand: the page (data view, drawing pad, forms) must come up
 * even when a module the trainer needs fails to load, and say which one.
 */
import type { LayerSpec } from '../src/graph/spec.ts';

export interface Engine {
  train: typeof import('../src/train/trainer.ts').train;
  checkShapes: (inputShape: readonly number[], specs: readonly LayerSpec[]) => readonly (readonly number[])[];
}

let loading: Promise<Engine> | null = null;

export function loadEngine(): Promise<Engine> {
  loading ??= Promise.all([import('../src/train/trainer.ts'), import('../src/layers/build.ts')]).then(([trainer, build]) => ({
    train: trainer.train,
    checkShapes: build.checkShapes,
  }));
  return loading;
}
