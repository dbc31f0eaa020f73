import { ShapeError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import { binding, formatShape } from '../graph/tensor.ts';

/** Per-sample layout of a batchnorm input: `channels` groups of `spatial` values (H·W, or 1 for features). */
export interface NormSizes {
  rows: number;
  channels: number;
  spatial: number;
}

const WG = 64;

function defines(a: NormSizes, dx = false) {
  return { CHANNELS: a.channels, SPATIAL: a.spatial, DX: dx };
}

function dims(gpu: Gpu, rows: number): GPUBuffer {
  return uniform(gpu, 'batchnorm.dims', [['u32', rows]]);
}

/**
 * Train mode: batch mean and biased variance per channel, y = γ·x̂ + β; saves mean and 1/√(σ² + ε) for
 * backward and moves the running statistics (momentum 0.1, unbiased variance).
 */
export function batchnormForwardTrain(
  gpu: Gpu,
  a: NormSizes & { x: Binding; y: Binding; weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding; mean: Binding; invStd: Binding },
): Dispatch {
  const { x, y, weight, bias, runningMean, runningVar, mean, invStd } = a;
  return kernel(gpu, {
    shader: 'batchnorm',
    entry: 'forward_train',
    defines: defines(a),
    bind: { dims: dims(gpu, a.rows), x, y, weight, bias, runningMean, runningVar, mean, invStd },
    workgroups: [a.channels],
  });
}

/** Eval mode: y = γ·(x − runningMean)/√(runningVar + ε) + β. */
export function batchnormForwardEval(gpu: Gpu, a: NormSizes & { x: Binding; y: Binding; weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding }): Dispatch {
  const { x, y, weight, bias, runningMean, runningVar } = a;
  return kernel(gpu, {
    shader: 'batchnorm',
    entry: 'forward_eval',
    defines: defines(a),
    bind: { dims: dims(gpu, a.rows), x, y, weight, bias, runningMean, runningVar },
    workgroups: grid1d(a.rows * a.channels * a.spatial, WG),
  });
}

/** dβ = Σ dy, dγ = Σ dy·x̂ and, when `dx` is given, dx through the batch statistics. */
export function batchnormBackward(
  gpu: Gpu,
  a: NormSizes & { dy: Binding; x: Binding; weight: Binding; mean: Binding; invStd: Binding; dWeight: Binding; dBias: Binding; dx?: Binding },
): Dispatch {
  const bind: Record<string, Binding> = { dims: dims(gpu, a.rows), dy: a.dy, x: a.x, mean: a.mean, invStd: a.invStd, dWeight: a.dWeight, dBias: a.dBias };
  if (a.dx) Object.assign(bind, { dx: a.dx, weight: a.weight });
  return kernel(gpu, { shader: 'batchnorm', entry: 'backward', defines: defines(a, a.dx !== undefined), bind, workgroups: [a.channels] });
}

/** Channels and values per channel of a [features] or [channels, height, width] sample. */
function layout(input: Shape): { channels: number; spatial: number } {
  return input.length === 1 ? { channels: input[0]!, spatial: 1 } : { channels: input[0]!, spatial: input[1]! * input[2]! };
}

/**
 * Batch normalisation: PyTorch's `nn.BatchNorm2d` on [channels, height, width] inputs and `nn.BatchNorm1d`
 * on [features] inputs (ε 1e-5, momentum 0.1, γ = 1 and β = 0 to start, running mean 0 and variance 1).
 */
export function batchnorm(): Layer {
  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);
  return {
    kind: 'batchnorm',
    describe: () => 'batchnorm()',
    outputShape(input: Shape, index: number): Shape {
      if (input.length !== 1 && input.length !== 3) {
        throw new ShapeError(
          `batchnorm #${index}: input must be [features] (BatchNorm1d) or [channels, height, width] (BatchNorm2d) but is ${formatShape(input)} (rank ${input.length})`,
        );
      }
      return input;
    },
    params(input: Shape): ParamSpec[] {
      const c = input[0]!;
      return [
        { name: 'weight', shape: [c], init: () => ones(c) },
        { name: 'bias', shape: [c], init: () => zeros(c) },
      ];
    },
    state(input: Shape): ParamSpec[] {
      const c = input[0]!;
      return [
        { name: 'running_mean', shape: [c], init: () => zeros(c) },
        { name: 'running_var', shape: [c], init: () => ones(c) },
      ];
    },
    build(args: BuildArgs): LayerPlan {
      const { gpu } = args;
      const sizes = { rows: args.rows, ...layout(args.inputShape) };
      const tensors = {
        x: binding(args.input), y: binding(args.output), weight: binding(args.params.weight!), bias: binding(args.params.bias!),
        runningMean: binding(args.state.running_mean!), runningVar: binding(args.state.running_var!),
      };
      if (args.mode === 'eval' || !args.dOutput) return { forward: [batchnormForwardEval(gpu, { ...sizes, ...tensors })], backward: [] };
      // What backward needs from forward, owned by this layer (llm.c's mean/rstd outputs).
      const perChannel = (name: string) => gpu.buffers.create(`batchnorm.${name}`, sizes.channels * 4, GPUBufferUsage.STORAGE);
      const saved = { mean: perChannel('mean'), invStd: perChannel('invStd') };
      return {
        forward: [batchnormForwardTrain(gpu, { ...sizes, ...tensors, ...saved })],
        backward: [
          batchnormBackward(gpu, {
            ...sizes, ...saved, dy: binding(args.dOutput), x: tensors.x, weight: tensors.weight,
            dWeight: binding(args.grads.weight!), dBias: binding(args.grads.bias!), ...(args.dInput ? { dx: binding(args.dInput) } : {}),
          }),
        ],
      };
    },
  };
}
