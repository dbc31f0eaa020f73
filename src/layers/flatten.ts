import type { Layer, LayerPlan, Shape } from '../graph/layer.ts';
import { product } from '../graph/tensor.ts';

/**
 * [C, H, W] → [C·H·W] (PyTorch's `nn.Flatten`). NCHW rows are already contiguous, so the output is the
 * input buffer with another shape (and its gradient the input gradient): no buffer, no dispatch.
 */
export function flatten(): Layer {
  return {
    kind: 'flatten',
    describe: () => 'flatten()',
    outputShape: (input: Shape) => [product(input)],
    params: () => [],
    isView: true,
    build: (): LayerPlan => ({ forward: [], backward: [] }),
  };
}
