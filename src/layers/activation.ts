import { check } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, strideGrid, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { BuildArgs, Layer, LayerPlan, Shape } from '../graph/layer.ts';
import { binding, product } from '../graph/tensor.ts';
import type { ActivationKind } from '../train/config.ts';

/** PyTorch's defaults: LeakyReLU negative_slope 0.01, ELU alpha 1.0 (sigmoid and relu have none). */
export const DEFAULT_ALPHA: Readonly<Record<ActivationKind, number>> = { sigmoid: 0, relu: 0, leaky_relu: 0.01, elu: 1 };

const WORKGROUP = 256;

/** Which of x and y the backward of each kind reads (shaders/activation.wgsl `slope`). */
const BACKWARD_READS: Readonly<Record<ActivationKind, { x: boolean; y: boolean }>> = {
  sigmoid: { x: false, y: true },
  relu: { x: true, y: false },
  leaky_relu: { x: true, y: false },
  elu: { x: true, y: true },
};

function defines(kind: ActivationKind) {
  return { SIGMOID: kind === 'sigmoid', RELU: kind === 'relu', LEAKY_RELU: kind === 'leaky_relu', ELU: kind === 'elu' };
}

function settings(gpu: Gpu, kind: ActivationKind, alpha: number | undefined, count: number): GPUBuffer {
  return uniform(gpu, 'activation.settings', [['u32', count], ['f32', alpha ?? DEFAULT_ALPHA[kind]]]);
}

/** y[count] = f(x[count]) */
export function activationForward(gpu: Gpu, a: { kind: ActivationKind; alpha?: number; x: Binding; y: Binding; count: number }): Dispatch {
  return kernel(gpu, {
    shader: 'activation',
    entry: 'forward',
    defines: defines(a.kind),
    bind: { settings: settings(gpu, a.kind, a.alpha, a.count), x: a.x, y: a.y },
    workgroups: strideGrid(a.count, WORKGROUP),
  });
}

/** dx[count] = dy · f'(x), with f' read from x and/or the forward's y as the kind needs. */
export function activationBackward(
  gpu: Gpu,
  a: { kind: ActivationKind; alpha?: number; x: Binding; y: Binding; dy: Binding; dx: Binding; count: number },
): Dispatch {
  const reads = BACKWARD_READS[a.kind];
  const bind: Record<string, Binding> = { settings: settings(gpu, a.kind, a.alpha, a.count), dy: a.dy, dx: a.dx };
  if (reads.x) bind.x = a.x;
  if (reads.y) bind.y = a.y;
  return kernel(gpu, { shader: 'activation', entry: 'backward', defines: defines(a.kind), bind, workgroups: strideGrid(a.count, WORKGROUP) });
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
    describe: () => (hasAlpha ? `${kind}(${alpha})` : kind),
    outputShape: (input: Shape) => input,
    params: () => [],
    build(args: BuildArgs): LayerPlan {
      const { gpu } = args;
      const common = { kind, alpha, x: binding(args.input), y: binding(args.output), count: args.rows * product(args.inputShape) };
      const forward = [activationForward(gpu, common)];
      if (args.mode === 'eval' || !args.dInput || !args.dOutput) return { forward, backward: [] };
      return { forward, backward: [activationBackward(gpu, { ...common, dy: binding(args.dOutput), dx: binding(args.dInput) })] };
    },
  };
}
