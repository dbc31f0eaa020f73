import type { LayerSpec } from '../graph/spec.ts';
import { activation } from '../layers/activation.ts';
import { batchnorm } from '../layers/batchnorm.ts';
import { conv2d } from '../layers/conv2d.ts';
import { dense } from '../layers/dense.ts';
import { dropout } from '../layers/dropout.ts';
import { flatten } from '../layers/flatten.ts';
import type { Layer, Shape } from '../graph/layer.ts';
import { inferShapes } from '../graph/sequential.ts';

/** Layers from their serialisable specs. */
export function buildLayers(specs: readonly LayerSpec[]): Layer[] {
  return specs.map((spec) => {
    switch (spec.type) {
      case 'dense':
        return dense({ out: spec.out });
      case 'conv2d':
        return conv2d({ out: spec.out, kernel: spec.kernel, stride: spec.stride ?? 1, padding: spec.padding ?? 0 });
      case 'activation':
        return activation(spec.kind, spec.alpha === undefined ? {} : { alpha: spec.alpha });
      case 'batchnorm':
        return batchnorm();
      case 'dropout':
        return dropout(spec.rate);
      case 'flatten':
        return flatten();
    }
  });
}

/** Checks that the layers chain from `inputShape` (ShapeError naming the layer otherwise); no GPU needed. */
export function checkShapes(inputShape: Shape, specs: readonly LayerSpec[]): Shape[] {
  return inferShapes(inputShape, buildLayers(specs));
}
