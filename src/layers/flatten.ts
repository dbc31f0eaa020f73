import type { Layer, Shape } from '../graph/layer.ts';
import { product } from '../graph/tensor.ts';

/** [C, H, W] → [C·H·W]. NCHW rows are already contiguous per sample, so this is a view: no buffer, no dispatch. */
export function flatten(): Layer {
  return {
    kind: 'flatten',
    isView: true,
    describe: () => 'flatten',
    outputShape: (input: Shape) => [product(input)],
    params: () => [],
    build: () => ({ forward: [], backward: [] }),
  };
}
