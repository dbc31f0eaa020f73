import { check, ShapeError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { uniformInit } from '../data/random.ts';
import type { Activation, BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import { activationDefines } from './activation.ts';
import { binding, formatShape } from '../graph/tensor.ts';

/** One conv2d layer's shape: per-sample input [inChannels, height, width], square kernel, NCHW. */
export interface ConvGeometry {
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
}

/** Sizes of one dispatch: the geometry and the samples in the batch. */
export type ConvSizes = ConvGeometry & { rows: number };

/** Output height or width: ⌊(size + 2·padding − kernel) / stride⌋ + 1 (PyTorch's formula, dilation 1). */
export function convOutputSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/** Register block of shaders/conv2d.wgsl: an invocation owns 8 channels × 8 columns. */
const ROWS = 8;
const COLS = 8;
/** Invocations per workgroup of forward and backward-data. */
const THREADS = 64;
/**
 * How finely backward-filter and the bias gradient split the batch's positions, and how their partial
 * sums are added (gpu.target.shape). Each aims for a number of workgroups, so the device is busy although
 * dWeight and dBias are small, but gives each at least a minimum of positions, so there are few partial
 * sums to add. A CPU adapter has 2 cores and a fixed cost per workgroup: 256 and 64 workgroups, ≥ 256 and
 * ≥ 16,384 positions each (against 4,096 positions, 1.2–1.4× less CPU for the bias at batch 64), and
 * one invocation adds each weight's partial sums (REDUCE_*: 64 weights × 1 slice, no barrier). A GPU
 * needs thousands of invocations busy, each walking a short sum: 1,024 and 512 workgroups, ≥ 64 and
 * ≥ 2,048 positions, and 16 invocations add each weight's partial sums.
 */
function splitting(gpu: Gpu) {
  return gpu.target.shape === 'cpu'
    ? { filterWorkgroups: 256, minFilterDepth: 256, biasWorkgroups: 64, minBiasPositions: 16384, reduce: { REDUCE_WEIGHTS: 64, REDUCE_SLICES: 1, REDUCE_SLICED: false } }
    : { filterWorkgroups: 1024, minFilterDepth: 64, biasWorkgroups: 512, minBiasPositions: 2048, reduce: { REDUCE_WEIGHTS: 16, REDUCE_SLICES: 16, REDUCE_SLICED: true } };
}

/**
 * Defines of shaders/conv2d.wgsl: the layer's geometry, whether the products share their row loads within
 * subgroups (where the device can), and the activation fused into the entry point, if any.
 */
function geometryDefines(gpu: Gpu, g: ConvGeometry, threads: number, activation: Activation | null = null) {
  return {
    SUBGROUPS: gpu.target.subgroups, ...activationDefines(activation),
    CIN: g.inChannels, IN_H: g.height, IN_W: g.width, COUT: g.outChannels, KSIZE: g.kernel, STRIDE: g.stride, PAD: g.padding,
    PADDED: g.padding > 0, STRIDED: g.stride > 1,
    OUT_H: convOutputSize(g.height, g.kernel, g.stride, g.padding), OUT_W: convOutputSize(g.width, g.kernel, g.stride, g.padding),
    THREADS: threads, ...splitting(gpu).reduce,
  };
}

function dims(gpu: Gpu, rows: number, splitDepth = 0, splits = 1): GPUBuffer {
  return uniform(gpu, 'conv2d.dims', [['u32', rows], ['u32', splitDepth], ['u32', splits]]);
}

/** Workgroups covering `columns` × `channels` in register blocks (x·y folded past 65,535). */
function grid(columns: number, channels: number): [number, number, number] {
  const [x, y] = grid1d(Math.ceil(columns / COLS), THREADS);
  return [x, y, Math.ceil(channels / ROWS)];
}

function outputPositions(g: ConvGeometry): number {
  return convOutputSize(g.height, g.kernel, g.stride, g.padding) * convOutputSize(g.width, g.kernel, g.stride, g.padding);
}

/** `count` items in about `wanted` (≥ 1) runs of equal length: that length, and how many runs it makes. */
function splitInto(count: number, wanted: number): { splitDepth: number; splits: number } {
  const splitDepth = Math.ceil(count / wanted);
  return { splitDepth, splits: Math.ceil(count / splitDepth) };
}

/** Useful multiply-adds ×2 of each of the three products (taps that land in the padding included). */
function convFlops(a: ConvSizes): number {
  return 2 * a.rows * outputPositions(a) * a.outChannels * a.inChannels * a.kernel ** 2;
}

/**
 * y[n, co, oh, ow] = f(Σ_{ci, kh, kw} weight[co, ci, kh, kw] · x[n, ci, oh·s − p + kh, ow·s − p + kw] + bias[co]),
 * f the fused activation or the identity
 */
export function conv2dForward(gpu: Gpu, a: ConvSizes & { x: Binding; weight: Binding; bias: Binding; y: Binding; activation?: Activation | null }): Dispatch {
  return kernel(gpu, {
    shader: 'conv2d',
    entry: 'forward',
    defines: geometryDefines(gpu, a, THREADS, a.activation ?? null),
    bind: { dims: dims(gpu, a.rows), x: a.x, weight: a.weight, bias: a.bias, y: a.y },
    workgroups: grid(a.rows * outputPositions(a), a.outChannels),
    flops: convFlops(a),
  });
}

/**
 * dx[n, ci, ih, iw] = Σ over the (co, kh, kw) whose output reads (ih, iw) of weight[co, ci, kh, kw] · dy[n, co, oh, ow],
 * times f'(x) when `inputActivation` (the activation whose output x is) is given: its backward, fused into this store.
 */
export function conv2dBackwardData(
  gpu: Gpu,
  a: ConvSizes & { dy: Binding; weight: Binding; dx: Binding; inputActivation?: { activation: Activation; x: Binding } | null },
): Dispatch {
  return kernel(gpu, {
    shader: 'conv2d',
    entry: 'backward_data',
    defines: geometryDefines(gpu, a, THREADS, a.inputActivation?.activation ?? null),
    bind: { dims: dims(gpu, a.rows), dy: a.dy, weight: a.weight, dx: a.dx, ...(a.inputActivation && { x: a.inputActivation.x }) },
    workgroups: grid(a.rows * a.height * a.width, a.inChannels),
    flops: convFlops(a),
  });
}

/**
 * dWeight[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·s − p + kh, ow·s − p + kw]. The output
 * positions are split over workgroups; with more than one split the partial sums go to a buffer made here
 * and a second dispatch adds them up.
 */
export function conv2dBackwardFilter(gpu: Gpu, a: ConvSizes & { dy: Binding; x: Binding; dWeight: Binding }): Dispatch[] {
  const patch = a.inChannels * a.kernel ** 2;
  // Just enough invocations for the taps, in whole SIMD groups of 4.
  const threads = Math.min(THREADS, 4 * Math.ceil(patch / (4 * COLS)));
  const rowBlocks = Math.ceil(a.outChannels / ROWS);
  const columnBlocks = Math.ceil(patch / (COLS * threads));
  const positions = a.rows * outputPositions(a);
  const { filterWorkgroups, minFilterDepth, reduce: reduceShape } = splitting(gpu);
  const wanted = Math.min(Math.ceil(positions / minFilterDepth), Math.ceil(filterWorkgroups / (rowBlocks * columnBlocks)));
  const { splitDepth, splits } = splitInto(positions, wanted);
  const uniforms = dims(gpu, a.rows, splitDepth, splits);
  const defines = geometryDefines(gpu, a, threads);
  const weights = a.outChannels * patch;
  const partial = splits === 1 ? a.dWeight : gpu.buffers.create('conv2d.dWeightSplits', splits * weights * 4, GPUBufferUsage.STORAGE);
  const filter = kernel(gpu, {
    shader: 'conv2d',
    entry: 'backward_filter',
    defines,
    bind: { dims: uniforms, dy: a.dy, x: a.x, dWeightSplits: partial },
    workgroups: [columnBlocks, 1, rowBlocks * splits],
    flops: convFlops(a),
  });
  if (splits === 1) return [filter];
  const [x, y] = grid1d(weights, reduceShape.REDUCE_WEIGHTS);
  const reduce = kernel(gpu, {
    shader: 'conv2d', entry: 'reduce_splits', defines, bind: { dims: uniforms, dWeightSplits: partial, dWeight: a.dWeight }, workgroups: [x, y],
    flops: splits * weights,
  });
  return [filter, reduce];
}

/** Invocations per workgroup of the bias gradient's first pass (BIAS_THREADS in shaders/conv2d.wgsl). */
const BIAS_THREADS = 64;

/**
 * dBias[co] = Σ_{n, oh, ow} dy[n, co, oh, ow]: the images are split over workgroups whose invocations write
 * partial sums to a buffer made here, and a second dispatch adds them up.
 */
export function conv2dBiasGrad(gpu: Gpu, a: ConvSizes & { dy: Binding; dBias: Binding }): Dispatch[] {
  const imagePositions = outputPositions(a);
  // Workgroups are (split of the images, channel); on SwiftShader up to 256 of them took no less CPU than 64.
  const { biasWorkgroups, minBiasPositions, reduce } = splitting(gpu);
  const wanted = Math.min(Math.ceil(a.rows * imagePositions / minBiasPositions), Math.ceil(biasWorkgroups / a.outChannels));
  const { splitDepth, splits } = splitInto(a.rows, wanted);
  const uniforms = dims(gpu, a.rows, splitDepth, splits);
  const defines = geometryDefines(gpu, a, THREADS);
  const partials = gpu.buffers.create('conv2d.dBiasSplits', splits * a.outChannels * BIAS_THREADS * 4, GPUBufferUsage.STORAGE);
  return [
    kernel(gpu, {
      shader: 'conv2d', entry: 'bias_partials', defines, bind: { dims: uniforms, dy: a.dy, dBiasSplits: partials },
      workgroups: [splits, a.outChannels], flops: a.rows * imagePositions * a.outChannels,
    }),
    kernel(gpu, {
      shader: 'conv2d', entry: 'bias_reduce', defines, bind: { dims: uniforms, dBiasSplits: partials, dBias: a.dBias },
      workgroups: [reduce.REDUCE_SLICED ? a.outChannels : Math.ceil(a.outChannels / 64)], flops: splits * a.outChannels * BIAS_THREADS,
    }),
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
      const forward = [conv2dForward(gpu, { ...sizes, x, weight, bias: binding(args.params.bias!), y: binding(args.output), activation: fused.outputActivation })];
      if (args.mode === 'eval' || !args.dOutput) return { forward, backward: [] };
      const dy = binding(args.dOutput);
      const backward = [
        ...conv2dBackwardFilter(gpu, { ...sizes, dy, x, dWeight: binding(args.grads.weight!) }),
        ...conv2dBiasGrad(gpu, { ...sizes, dy, dBias: binding(args.grads.bias!) }),
      ];
      const inputActivation = fused.inputActivation && { activation: fused.inputActivation, x };
      if (args.dInput) backward.push(conv2dBackwardData(gpu, { ...sizes, dy, weight, dx: binding(args.dInput), inputActivation }));
      return { forward, backward };
    },
  };
}
