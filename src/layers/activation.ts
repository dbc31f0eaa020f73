import { check } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, strideGrid, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { Activation, BuildArgs, Layer, LayerPlan, Shape } from '../graph/layer.ts';
import { binding, product } from '../graph/tensor.ts';
import type { ActivationKind } from '../graph/spec.ts';

/** PyTorch's defaults: LeakyReLU negative_slope 0.01, ELU alpha 1.0 (sigmoid and relu have none). */
export const DEFAULT_ALPHA: Readonly<Record<ActivationKind, number>> = { sigmoid: 0, relu: 0, leaky_relu: 0.01, elu: 1 };

const WORKGROUP = 256;

/**
 * Defines of shaders/activate.wgsl: the kind's flag and its alpha. `null` gives the identity, for a dense or
 * conv2d kernel with no activation fused into it; `ACTIVATED` says whether there is one.
 */
export function activationDefines(a: Activation | null) {
  return {
    ACTIVATED: a !== null,
    SIGMOID: a?.kind === 'sigmoid',
    RELU: a?.kind === 'relu',
    LEAKY_RELU: a?.kind === 'leaky_relu',
    ELU: a?.kind === 'elu',
    ALPHA: a ? a.alpha : 0,
  };
}

/** activationDefines for a standalone kernel of `kind`, PyTorch's alpha unless one is given. */
function kindDefines(kind: ActivationKind, alpha: number | undefined) {
  return activationDefines({ kind, alpha: alpha ?? DEFAULT_ALPHA[kind] });
}

function count(gpu: Gpu, elements: number): GPUBuffer {
  return uniform(gpu, 'activation.settings', [['u32', elements]]);
}

/** y[count] = f(x[count]) */
export function activationForward(gpu: Gpu, a: { kind: ActivationKind; alpha?: number; x: Binding; y: Binding; count: number }): Dispatch {
  return kernel(gpu, {
    shader: 'activation',
    entry: 'forward',
    defines: kindDefines(a.kind, a.alpha),
    bind: { settings: count(gpu, a.count), x: a.x, y: a.y },
    workgroups: strideGrid(a.count, WORKGROUP),
  });
}

/** dx[count] = dy · f'(x), f' worked out from the forward's output y alone. */
export function activationBackward(gpu: Gpu, a: { kind: ActivationKind; alpha?: number; y: Binding; dy: Binding; dx: Binding; count: number }): Dispatch {
  return kernel(gpu, {
    shader: 'activation',
    entry: 'backward',
    defines: kindDefines(a.kind, a.alpha),
    bind: { settings: count(gpu, a.count), y: a.y, dy: a.dy, dx: a.dx },
    workgroups: strideGrid(a.count, WORKGROUP),
  });
}

/** The alpha a kind runs with, checked: finite; ELU's > 0, leaky_relu's ≥ 0 (sigmoid and relu ignore it). */
function checkedAlpha(kind: ActivationKind, alpha: number | undefined): number {
  check(kind in DEFAULT_ALPHA, 'activation kind', kind, `one of ${Object.keys(DEFAULT_ALPHA).join(', ')}`);
  const value = alpha ?? DEFAULT_ALPHA[kind];
  check(Number.isFinite(value), `${kind} alpha`, value, 'a finite number');
  if (kind === 'elu') check(value > 0, 'elu alpha', value, 'a finite number > 0');
  if (kind === 'leaky_relu') check(value >= 0, 'leaky_relu alpha', value, 'a finite number ≥ 0');
  return value;
}

/** An elementwise activation layer (PyTorch's nn.Sigmoid, nn.ReLU, nn.LeakyReLU, nn.ELU): same shape out, no parameters. */
export function activation(kind: ActivationKind, options: { alpha?: number } = {}): Layer {
  const alpha = checkedAlpha(kind, options.alpha);
  const hasAlpha = kind === 'leaky_relu' || kind === 'elu';
  return {
    kind,
    activation: { kind, alpha },
    describe: () => (hasAlpha ? `${kind}(${alpha})` : kind),
    outputShape: (input: Shape) => input,
    params: () => [],
    build(args: BuildArgs): LayerPlan {
      const { gpu, fused } = args;
      const common = { kind, alpha, y: binding(args.output), count: args.rows * product(args.inputShape) };
      const forward = fused.forwardDone ? [] : [activationForward(gpu, { ...common, x: binding(args.input) })];
      if (fused.backwardDone || args.mode === 'eval' || !args.dInput || !args.dOutput) return { forward, backward: [] };
      return { forward, backward: [activationBackward(gpu, { ...common, dy: binding(args.dOutput), dx: binding(args.dInput) })] };
    },
  };
}
