import { ConfigError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { uniformInit } from '../data/random.ts';
import type { BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import { binding, product } from '../graph/tensor.ts';

/** Tile sizes of shaders/dense.wgsl: 32×32 outputs per workgroup (64 invocations × 4×4), K in slices of 16. */
export const DENSE_TILE = { TILE_M: 32, TILE_N: 32, TILE_K: 16 } as const;

/**
 * C[M×N] = A·B (+ bias) with the operand layouts of shaders/dense.wgsl: the three products of a dense
 * layer are this one call with different transposes.
 */
export function matmul(
  gpu: Gpu,
  args: { a: Binding; b: Binding; c: Binding; bias?: Binding; M: number; N: number; K: number; aTransposed: boolean; bTransposed: boolean },
): Dispatch {
  const dims = uniform(gpu, 'dense.dims', [['u32', args.M], ['u32', args.N], ['u32', args.K]]);
  const bind: Record<string, Binding> = { dims, a: args.a, b: args.b, c: args.c };
  if (args.bias) bind.bias = args.bias;
  return kernel(gpu, {
    shader: 'dense',
    defines: { ...DENSE_TILE, A_TRANSPOSED: args.aTransposed, B_TRANSPOSED: args.bTransposed, BIAS: args.bias !== undefined },
    bind,
    workgroups: [Math.ceil(args.N / DENSE_TILE.TILE_N), Math.ceil(args.M / DENSE_TILE.TILE_M)],
  });
}

/** y[rows×out] = x[rows×in] · Wᵀ + b */
export function denseForward(gpu: Gpu, a: { x: Binding; weight: Binding; bias: Binding; y: Binding; rows: number; inFeatures: number; outFeatures: number }): Dispatch {
  return matmul(gpu, { a: a.x, b: a.weight, c: a.y, bias: a.bias, M: a.rows, N: a.outFeatures, K: a.inFeatures, aTransposed: false, bTransposed: true });
}

/** dx[rows×in] = dy[rows×out] · W[out×in] */
export function denseBackwardData(gpu: Gpu, a: { dy: Binding; weight: Binding; dx: Binding; rows: number; inFeatures: number; outFeatures: number }): Dispatch {
  return matmul(gpu, { a: a.dy, b: a.weight, c: a.dx, M: a.rows, N: a.inFeatures, K: a.outFeatures, aTransposed: false, bTransposed: false });
}

/** dW[out×in] = dyᵀ · x */
export function denseBackwardWeights(gpu: Gpu, a: { dy: Binding; x: Binding; dWeight: Binding; rows: number; inFeatures: number; outFeatures: number }): Dispatch {
  return matmul(gpu, { a: a.dy, b: a.x, c: a.dWeight, M: a.outFeatures, N: a.inFeatures, K: a.rows, aTransposed: true, bTransposed: false });
}

/** db[out] = Σ_rows dy */
export function denseBiasGrad(gpu: Gpu, a: { dy: Binding; dBias: Binding; rows: number; outFeatures: number }): Dispatch {
  const dims = uniform(gpu, 'dense.dims', [['u32', a.rows], ['u32', a.outFeatures], ['u32', 0]]);
  return kernel(gpu, {
    shader: 'dense',
    entry: 'bias_grad',
    defines: { ...DENSE_TILE, A_TRANSPOSED: false, B_TRANSPOSED: false, BIAS: false },
    bind: { dims, dy: a.dy, dBias: a.dBias },
    workgroups: [Math.ceil(a.outFeatures / 64)],
  });
}

/** A fully connected layer (PyTorch's `nn.Linear`): flattens its input, `out` features. */
export function dense(options: { out: number }): Layer {
  const out = options.out;
  if (!Number.isInteger(out) || out < 1) throw new ConfigError(`dense out ${out} is not allowed: a whole number ≥ 1`);
  return {
    kind: 'dense',
    describe: () => `dense(${out})`,
    outputShape: () => [out],
    params(input: Shape): ParamSpec[] {
      const fanIn = product(input);
      const bound = 1 / Math.sqrt(fanIn);
      return [
        { name: 'weight', shape: [out, fanIn], init: (rng) => uniformInit(rng, out * fanIn, bound) },
        { name: 'bias', shape: [out], init: (rng) => uniformInit(rng, out, bound) },
      ];
    },
    build(args: BuildArgs): LayerPlan {
      const { gpu, rows } = args;
      const sizes = { rows, inFeatures: product(args.inputShape), outFeatures: out };
      const weight = binding(args.params.weight!);
      const forward = [denseForward(gpu, { ...sizes, x: binding(args.input), weight, bias: binding(args.params.bias!), y: binding(args.output) })];
      if (args.mode === 'eval' || !args.dOutput) return { forward, backward: [] };
      const dy = binding(args.dOutput);
      const backward = [
        denseBackwardWeights(gpu, { ...sizes, dy, x: binding(args.input), dWeight: binding(args.grads.weight!) }),
        denseBiasGrad(gpu, { ...sizes, dy, dBias: binding(args.grads.bias!) }),
      ];
      if (args.dInput) backward.push(denseBackwardData(gpu, { ...sizes, dy, weight, dx: binding(args.dInput) }));
      return { forward, backward };
    },
  };
}
