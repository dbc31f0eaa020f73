import { check } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, strideGrid, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { BuildArgs, Layer, LayerPlan, Shape } from '../graph/layer.ts';
import { binding, product } from '../graph/tensor.ts';

const WG = 256;

/** Keep an element when its 32-bit hash is ≥ this: P(keep) = 1 − rate (to 2⁻³²). */
export function dropoutThreshold(rate: number): number {
  return Math.min(2 ** 32 - 1, Math.round(rate * 2 ** 32));
}

interface DropoutSizes {
  /** Values in the batch (rows × features). */
  count: number;
  rate: number;
  /** Mixed into the seed so each layer draws its own mask: the layer's index in the model. */
  salt: number;
}

function dims(gpu: Gpu, a: DropoutSizes): GPUBuffer {
  return uniform(gpu, 'dropout.dims', [['u32', a.count], ['u32', dropoutThreshold(a.rate)], ['f32', 1 / (1 - a.rate)], ['u32', a.salt]]);
}

/** y = x · mask / (1 − rate), the mask drawn from `step.seed` and `salt`. */
export function dropoutForward(gpu: Gpu, a: DropoutSizes & { x: Binding; y: Binding; step: Binding }): Dispatch {
  return kernel(gpu, { shader: 'dropout', entry: 'forward', bind: { step: a.step, dims: dims(gpu, a), x: a.x, y: a.y }, workgroups: strideGrid(a.count, WG) });
}

/** dx = dy · mask / (1 − rate): the same mask, recomputed from the same step uniform. */
export function dropoutBackward(gpu: Gpu, a: DropoutSizes & { dy: Binding; dx: Binding; step: Binding }): Dispatch {
  return kernel(gpu, { shader: 'dropout', entry: 'backward', bind: { step: a.step, dims: dims(gpu, a), dy: a.dy, dx: a.dx }, workgroups: strideGrid(a.count, WG) });
}

/** Eval mode: y = x. */
export function dropoutCopy(gpu: Gpu, a: { count: number; x: Binding; y: Binding }): Dispatch {
  const sizes = { count: a.count, rate: 0, salt: 0 };
  return kernel(gpu, { shader: 'dropout', entry: 'copy', bind: { dims: dims(gpu, sizes), x: a.x, y: a.y }, workgroups: strideGrid(a.count, WG) });
}

/**
 * Inverted dropout (PyTorch's `nn.Dropout`): in training each value is zeroed with probability `rate`
 * and the rest scaled by 1/(1 − rate); in eval mode it is the identity. dropout(0) is a view.
 */
export function dropout(rate: number): Layer {
  check(typeof rate === 'number' && rate >= 0 && rate < 1, 'dropout rate', rate, 'a number in [0, 1)');
  return {
    kind: 'dropout',
    describe: () => `dropout(${rate})`,
    outputShape: (input: Shape) => input,
    params: () => [],
    isView: rate === 0,
    build(args: BuildArgs): LayerPlan {
      const { gpu } = args;
      const sizes = { count: args.rows * product(args.inputShape), rate, salt: args.index ?? 0 };
      const x = binding(args.input);
      const y = binding(args.output);
      if (args.mode === 'eval' || !args.dOutput) return { forward: [dropoutCopy(gpu, { ...sizes, x, y })], backward: [] };
      const backward = args.dInput ? [dropoutBackward(gpu, { ...sizes, dy: binding(args.dOutput), dx: binding(args.dInput), step: args.step })] : [];
      return { forward: [dropoutForward(gpu, { ...sizes, x, y, step: args.step })], backward };
    },
  };
}
