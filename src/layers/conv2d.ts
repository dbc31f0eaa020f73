/**
 * conv2d: the layer, and the dispatches of its four products. Which kernel runs each product, and with
 * what grid, is src/layers/conv2d-policy.ts's choice; this file binds the buffers to it.
 */
import { check, ShapeError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { uniformInit } from '../data/random.ts';
import type { Activation, BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import type { Sequential } from '../graph/sequential.ts';
import { binding, formatShape } from '../graph/tensor.ts';
import {
  conv2dBackwardDataPlan, conv2dBackwardFilterPlan, conv2dBiasGradPlan, conv2dForwardPlan, convOutputSize,
  type ConvGeometry, type ConvKernel, type ConvPacks, type ConvSizes,
} from './conv2d-policy.ts';

export { convOutputSize, type ConvGeometry, type ConvSizes } from './conv2d-policy.ts';

function dims(gpu: Gpu, rows: number, splitDepth = 0, splits = 1): GPUBuffer {
  return uniform(gpu, 'conv2d.dims', [['u32', rows], ['u32', splitDepth], ['u32', splits]]);
}

/** A dispatch of a plan's kernel, labelled `conv2d.<entry>` whichever rung it is. */
function dispatch(gpu: Gpu, k: ConvKernel, bind: Record<string, Binding>, flops: number): Dispatch {
  return kernel(gpu, { shader: k.shader, entry: k.entry, label: `conv2d.${k.entry}`, defines: k.defines, rung: k.rung, bind, workgroups: k.workgroups, flops });
}

/** Useful multiply-adds ×2 of each of the three products (taps that land in the padding included). */
function convFlops(a: ConvSizes): number {
  return 2 * a.rows * convOutputSize(a.height, a.kernel, a.stride, a.padding) * convOutputSize(a.width, a.kernel, a.stride, a.padding) * a.outChannels * a.inChannels * a.kernel ** 2;
}

/**
 * Rung 4's packs, into buffers made here: dy (backward-data only) and the weights. Their dispatches, and
 * the packed buffers the product binds.
 */
function packed(gpu: Gpu, packs: ConvPacks, uniforms: GPUBuffer, dy: Binding | null, weight: Binding): { dispatches: Dispatch[]; operands: Record<string, Binding> } {
  const weightPacked = gpu.buffers.create('conv2d.weightPacked', packs.weightFloats * 4, GPUBufferUsage.STORAGE);
  const packWeight = dispatch(gpu, packs.packWeight, { weight, weightPacked }, 0);
  if (!packs.packDy) return { dispatches: [packWeight], operands: { weightPacked } };
  if (!dy) throw new Error('conv2d: the plan packs dy, so the product needs dy');
  const dyPacked = gpu.buffers.create('conv2d.dyPacked', packs.dyFloats * 4, GPUBufferUsage.STORAGE);
  return { dispatches: [dispatch(gpu, packs.packDy, { dims: uniforms, dy, dyPacked }, 0), packWeight], operands: { dyPacked, weightPacked } };
}

/** Rung 4's bindings where a sample's positions are whole vec4s (ALIGNED): each through the shader's vec4 view (`y4`, `dx4`, `x4`). */
function viewsFor(plan: ConvKernel, bind: Record<string, Binding>): Record<string, Binding> {
  return plan.defines.ALIGNED ? Object.fromEntries(Object.entries(bind).map(([name, resource]) => [`${name}4`, resource])) : bind;
}

/**
 * y[n, co, oh, ow] = f(Σ_{ci, kh, kw} weight[co, ci, kh, kw] · x[n, ci, oh·s − p + kh, ow·s − p + kw] + bias[co]),
 * f the fused activation or the identity
 */
export function conv2dForward(gpu: Gpu, a: ConvSizes & { x: Binding; weight: Binding; bias: Binding; y: Binding; activation?: Activation | null }): Dispatch[] {
  const plan = conv2dForwardPlan(a, gpu.target, a.activation ?? null);
  const uniforms = dims(gpu, a.rows);
  if (!plan.packs) return [dispatch(gpu, plan, { dims: uniforms, x: a.x, weight: a.weight, bias: a.bias, y: a.y }, convFlops(a))];
  const { dispatches, operands } = packed(gpu, plan.packs, uniforms, null, a.weight);
  return [...dispatches, dispatch(gpu, plan, { dims: uniforms, x: a.x, ...operands, bias: a.bias, ...viewsFor(plan, { y: a.y }) }, convFlops(a))];
}

/**
 * dx[n, ci, ih, iw] = Σ over the (co, kh, kw) whose output reads (ih, iw) of weight[co, ci, kh, kw] · dy[n, co, oh, ow],
 * times f'(x) when `inputActivation` (the activation whose output x is) is given: its backward, fused into this store.
 */
export function conv2dBackwardData(
  gpu: Gpu,
  a: ConvSizes & { dy: Binding; weight: Binding; dx: Binding; inputActivation?: { activation: Activation; x: Binding } | null },
): Dispatch[] {
  const plan = conv2dBackwardDataPlan(a, gpu.target, a.inputActivation?.activation ?? null);
  const uniforms = dims(gpu, a.rows);
  const slope: Record<string, Binding> = a.inputActivation ? { x: a.inputActivation.x } : {};
  if (!plan.packs) return [dispatch(gpu, plan, { dims: uniforms, dy: a.dy, weight: a.weight, dx: a.dx, ...slope }, convFlops(a))];
  const { dispatches, operands } = packed(gpu, plan.packs, uniforms, a.dy, a.weight);
  return [...dispatches, dispatch(gpu, plan, { dims: uniforms, ...operands, ...viewsFor(plan, { dx: a.dx, ...slope }) }, convFlops(a))];
}

/**
 * dWeight[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·s − p + kh, ow·s − p + kw]. Where the
 * plan splits the output positions over workgroups, the partial sums go to a buffer made here and a second
 * dispatch adds them up.
 */
export function conv2dBackwardFilter(gpu: Gpu, a: ConvSizes & { dy: Binding; x: Binding; dWeight: Binding }): Dispatch[] {
  const plan = conv2dBackwardFilterPlan(a, gpu.target);
  const uniforms = dims(gpu, a.rows, plan.splitDepth, plan.splits);
  // Rung 0 writes dWeight; the split rungs their partial sums, straight into dWeight when there is one split.
  const partials = plan.partialFloats > 0 ? gpu.buffers.create('conv2d.dWeightSplits', plan.partialFloats * 4, GPUBufferUsage.STORAGE) : a.dWeight;
  const output: Record<string, Binding> = plan.sum.rung.index === 0 ? { dWeight: a.dWeight } : { dWeightSplits: partials };
  const filter = dispatch(gpu, plan.sum, { dims: uniforms, dy: a.dy, x: a.x, ...output }, convFlops(a));
  if (!plan.reduce) return [filter];
  return [filter, dispatch(gpu, plan.reduce, { dims: uniforms, dWeightSplits: partials, dWeight: a.dWeight }, plan.partialFloats)];
}

/**
 * dBias[co] = Σ_{n, oh, ow} dy[n, co, oh, ow]. Where the plan splits the images over workgroups, their
 * invocations write partial sums to a buffer made here and a second dispatch adds them up.
 */
export function conv2dBiasGrad(gpu: Gpu, a: ConvSizes & { dy: Binding; dBias: Binding }): Dispatch[] {
  const plan = conv2dBiasGradPlan(a, gpu.target);
  const uniforms = dims(gpu, a.rows, plan.splitDepth, plan.splits);
  const terms = a.rows * convOutputSize(a.height, a.kernel, a.stride, a.padding) * convOutputSize(a.width, a.kernel, a.stride, a.padding) * a.outChannels;
  if (!plan.reduce) return [dispatch(gpu, plan.sum, { dims: uniforms, dy: a.dy, dBias: a.dBias }, terms)];
  const partials = gpu.buffers.create('conv2d.dBiasSplits', plan.partialFloats * 4, GPUBufferUsage.STORAGE);
  return [
    dispatch(gpu, plan.sum, { dims: uniforms, dy: a.dy, dBiasSplits: partials }, terms),
    dispatch(gpu, plan.reduce, { dims: uniforms, dBiasSplits: partials, dBias: a.dBias }, plan.partialFloats),
  ];
}

/** A 2-d convolution (PyTorch's `nn.Conv2d`, square kernel, zero padding) over [channels, height, width] inputs. */
export function conv2d(options: { out: number; kernel: number; stride?: number; padding?: number }): Layer {
  const { out, kernel: size, stride = 1, padding = 0 } = options;
  check(Number.isInteger(out) && out >= 1, 'conv2d out', out, 'a whole number ≥ 1');
  check(Number.isInteger(size) && size >= 1, 'conv2d kernel', size, 'a whole number ≥ 1');
  check(Number.isInteger(stride) && stride >= 1, 'conv2d stride', stride, 'a whole number ≥ 1');
  check(Number.isInteger(padding) && padding >= 0, 'conv2d padding', padding, 'a whole number ≥ 0');

  const geometry = (input: Shape): ConvGeometry => ({
    inChannels: input[0]!, height: input[1]!, width: input[2]!, outChannels: out, kernel: size, stride, padding,
  });

  return {
    kind: 'conv2d',
    fusesActivations: () => true,
    describe: () => `conv2d(${out}, k${size}${stride === 1 ? '' : `, s${stride}`}${padding === 0 ? '' : `, p${padding}`})`,
    outputShape(input: Shape, index: number): Shape {
      const name = `conv2d #${index}`;
      if (input.length !== 3) {
        throw new ShapeError(`${name}: input must be [channels, height, width] but is ${formatShape(input)} (rank ${input.length}); put conv2d layers before flatten and dense`);
      }
      const [, height, width] = input as [number, number, number];
      if (size > height + 2 * padding || size > width + 2 * padding) {
        throw new ShapeError(`${name}: kernel ${size} is larger than its ${height}×${width} input padded by ${padding}`);
      }
      return [out, convOutputSize(height, size, stride, padding), convOutputSize(width, size, stride, padding)];
    },
    params(input: Shape): ParamSpec[] {
      const fanIn = input[0]! * size * size;
      const bound = 1 / Math.sqrt(fanIn);
      return [
        { name: 'weight', shape: [out, input[0]!, size, size], init: (rng) => uniformInit(rng, out * fanIn, bound) },
        { name: 'bias', shape: [out], init: (rng) => uniformInit(rng, out, bound) },
      ];
    },
    build(args: BuildArgs): LayerPlan {
      const { gpu, fused } = args;
      const sizes = { ...geometry(args.inputShape), rows: args.rows };
      const weight = binding(args.params.weight!);
      const x = binding(args.input);
      const forward = conv2dForward(gpu, { ...sizes, x, weight, bias: binding(args.params.bias!), y: binding(args.output), activation: fused.outputActivation });
      if (args.mode === 'eval' || !args.dOutput) return { forward, backward: [] };
      const dy = binding(args.dOutput);
      const backward = [
        ...conv2dBackwardFilter(gpu, { ...sizes, dy, x, dWeight: binding(args.grads.weight!) }),
        ...conv2dBiasGrad(gpu, { ...sizes, dy, dBias: binding(args.grads.bias!) }),
      ];
      const inputActivation = fused.inputActivation && { activation: fused.inputActivation, x };
      if (args.dInput) backward.push(...conv2dBackwardData(gpu, { ...sizes, dy, weight, dx: binding(args.dInput), inputActivation }));
      return { forward, backward };
    },
  };
}

/** The first conv layer's weight [out, in, k, k] as nested arrays, for drawing (one readback of the parameter arena). */
export async function firstConvFilters(model: Sequential): Promise<number[][][][] | null> {
  const index = model.layers.findIndex((layer) => layer.kind === 'conv2d');
  if (index < 0) return null;
  const weight = (await model.exportTensors()).get(`${index}.weight`)!;
  const [out, inChannels, k] = weight.shape as [number, number, number, number];
  return Array.from({ length: out }, (_, o) =>
    Array.from({ length: inChannels }, (_, c) =>
      Array.from({ length: k }, (_, row) => Array.from(weight.data.subarray(((o * inChannels + c) * k + row) * k, ((o * inChannels + c) * k + row + 1) * k))),
    ),
  );
}
