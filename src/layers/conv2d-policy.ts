/**
 * Which kernel of conv2d's ladder runs each product of a layer, and how it is dispatched: pure functions of
 * the geometry, the batch size and the target (src/gpu/target.ts), so tests check every choice in Node
 * without a GPU. src/layers/conv2d.ts binds the buffers to what these return.
 *
 *   x, dx [rows, inChannels, height, width]   weight, dWeight [outChannels, inChannels, k, k]   bias, dBias [outChannels]
 *   y, dy [rows, outChannels, outH, outW]
 *
 * Each product takes the highest rung that has a kernel for it, suits the target's kind of adapter, is
 * within its ceiling for conv2d and, for rung 3, has subgroups. docs/perf/conv2d.md has what each rung buys.
 */
import type { Defines } from '../gpu/shaders.ts';
import { rungAllowed, type Rung, type Target } from '../gpu/target.ts';
import type { Activation } from '../graph/layer.ts';
import { activationDefines } from './activation.ts';

export const CONV2D_RUNGS: readonly Rung[] = Object.freeze([
  { op: 'conv2d', index: 0, name: 'textbook', file: 'conv2d', suits: 'any' },
  { op: 'conv2d', index: 1, name: 'split sums', file: 'conv2d_1_split_sums', suits: 'any' },
  { op: 'conv2d', index: 2, name: 'register blocks', file: 'conv2d_2_blocks', suits: 'any' },
  { op: 'conv2d', index: 3, name: 'subgroup-shared row loads', file: 'conv2d_3_subgroups', suits: 'any' },
  { op: 'conv2d', index: 4, name: 'packed GEMM', file: 'conv2d_4_gemm', suits: 'cpu' },
] as const satisfies readonly Rung[]);

const TEXTBOOK = 0;
const SPLIT_SUMS = 1;
const BLOCKS = 2;
const SUBGROUPS = 3;
const GEMM = 4;

/** The rungs that have a kernel for each product, best first. */
const PRODUCT_RUNGS = {
  forward: [GEMM, SUBGROUPS, BLOCKS, TEXTBOOK],
  backwardData: [GEMM, SUBGROUPS, BLOCKS, TEXTBOOK],
  backwardFilter: [SUBGROUPS, BLOCKS, SPLIT_SUMS, TEXTBOOK],
  biasGrad: [SPLIT_SUMS, TEXTBOOK],
} as const;

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

/** One dispatch: its rung, shader and entry point, defines (LEN_* aside: kernel() adds them) and grid. */
export interface ConvKernel {
  readonly rung: Rung;
  readonly shader: string;
  readonly entry: string;
  readonly defines: Defines;
  readonly workgroups: readonly [number, number, number];
}

/** A sum over the batch, split: `splits` runs of `splitDepth` (positions for dWeight, images for dBias). */
export interface ConvSplitPlan {
  /** The first pass: the whole sum (rung 0) or one partial sum per split. */
  readonly sum: ConvKernel;
  /** The second pass adding the partial sums; null when the first pass writes the gradient itself. */
  readonly reduce: ConvKernel | null;
  readonly splitDepth: number;
  readonly splits: number;
  /** Floats of the partial sums' buffer (dWeightSplits, dBiasSplits) the binder makes; 0 for none. */
  readonly partialFloats: number;
}

/** Register block of rungs 2 and 3 (shaders/conv2d_blocks.wgsl): an invocation owns 8 channels × 8 columns. */
const ROWS = 8;
const COLS = 8;
/** Invocations per workgroup: rung 0 and 1's kernels, and rung 2 and 3's forward and backward-data. */
const THREADS = 64;
/** Invocations of bias_partials, each writing one partial sum (BIAS_THREADS in shaders/conv2d_1_split_sums.wgsl). */
const BIAS_THREADS = 64;
/** Weights per workgroup of reduce_splits (one invocation each) and of reduce_splits_sliced (× 16 slices). */
const REDUCE_WEIGHTS = 64;
const SLICED_WEIGHTS = 16;

/**
 * How finely backward-filter and the bias gradient split the batch's positions. Each aims for a number of
 * workgroups, so the device is busy although dWeight and dBias are small, but gives each at least a
 * minimum of positions, so there are few partial sums to add. A CPU adapter has a few cores and a fixed
 * cost per workgroup: few workgroups, long runs, and one invocation adds each output's partial sums (no
 * barrier). A GPU needs thousands of invocations busy, each walking a short sum, and slices the adding.
 */
function splitting(target: Target) {
  return target.shape === 'cpu'
    ? { filterWorkgroups: 256, minFilterDepth: 256, biasWorkgroups: 64, minBiasPositions: 16384, sliced: false }
    : { filterWorkgroups: 1024, minFilterDepth: 64, biasWorkgroups: 512, minBiasPositions: 2048, sliced: true };
}

/** `gemmFits`: whether rung 4 has a kernel for this product's geometry and pays there (gemmFitsForward, gemmFitsData). */
function rungFor(product: keyof typeof PRODUCT_RUNGS, target: Target, gemmFits = false): Rung {
  for (const index of PRODUCT_RUNGS[product]) {
    const rung = CONV2D_RUNGS[index]!;
    if (!rungAllowed(target, 'conv2d', index) || (rung.suits !== 'any' && rung.suits !== target.shape)) continue;
    if (index === SUBGROUPS && !target.subgroups) continue;
    if (index === GEMM && !gemmFits) continue;
    return rung;
  }
  throw new Error(`conv2d ${product}: no rung allowed`); // unreachable: rung 0 suits any target
}

function outputPositions(g: ConvGeometry): number {
  return convOutputSize(g.height, g.kernel, g.stride, g.padding) * convOutputSize(g.width, g.kernel, g.stride, g.padding);
}

/** Defines every rung reads: the geometry and the activation fused into the kernel, if any. */
function geometryDefines(g: ConvGeometry, activation: Activation | null): Defines {
  return {
    ...activationDefines(activation),
    CIN: g.inChannels, IN_H: g.height, IN_W: g.width, COUT: g.outChannels, KSIZE: g.kernel, STRIDE: g.stride, PAD: g.padding,
    OUT_H: convOutputSize(g.height, g.kernel, g.stride, g.padding), OUT_W: convOutputSize(g.width, g.kernel, g.stride, g.padding),
  };
}

/** Rungs 2 and 3 add the invocations per workgroup and the geometry their bodies specialise on. */
function rungDefines(rung: Rung, g: ConvGeometry, activation: Activation | null, threads: number): Defines {
  const defines = geometryDefines(g, activation);
  return rung.index === BLOCKS || rung.index === SUBGROUPS ? { ...defines, THREADS: threads, PADDED: g.padding > 0, STRIDED: g.stride > 1 } : defines;
}

/** `groups` workgroups along x, folded into y past the 65,535 limit, and `z`. */
function folded(groups: number, z = 1): [number, number, number] {
  const count = Math.max(1, groups);
  if (count <= 65535) return [count, 1, z];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y, z];
}

/** Rung 0 and 1's grids: one invocation per element. */
function elementGrid(count: number, z = 1): [number, number, number] {
  return folded(Math.ceil(count / THREADS), z);
}

/** Rungs 2 and 3's grids: workgroups covering `columns` × `channels` in register blocks. */
function blockGrid(columns: number, channels: number): [number, number, number] {
  return folded(Math.ceil(Math.ceil(columns / COLS) / THREADS), Math.ceil(channels / ROWS));
}

/** `count` items in about `wanted` (≥ 1) runs of equal length: that length, and how many runs it makes. */
function splitInto(count: number, wanted: number): { splitDepth: number; splits: number } {
  const splitDepth = Math.ceil(count / wanted);
  return { splitDepth, splits: Math.ceil(count / splitDepth) };
}

function kernelOf(rung: Rung, entry: string, defines: Defines, workgroups: readonly [number, number, number]): ConvKernel {
  return { rung, shader: rung.file, entry, defines, workgroups };
}

/** Rung 4's passes packing a product's operands before it runs, and the floats of the buffers they fill. */
export interface ConvPacks {
  /** pack_dy: backward-data only (forward reads x in place); 0 floats without it. */
  readonly packDy: ConvKernel | null;
  readonly packWeight: ConvKernel;
  readonly dyFloats: number;
  readonly weightFloats: number;
}

/** A product's kernel, with rung 4's packs where it takes rung 4. */
export type ConvPackedKernel = ConvKernel & { readonly packs: ConvPacks | null };

/**
 * Rung 4's blocks (shaders/conv2d_4_gemm.wgsl): an invocation owns 512 channel × position sums, 16 channels × 32
 * positions (wide) or 8 × 64, in workgroups of 16 invocations.
 */
const GEMM_SUMS = 512;
const GEMM_GROUP = 16;

/** The wide block of 16 channels, unless it pads more channels than blocks of 8 would. */
function gemmChannelBlock(channels: number): 8 | 16 {
  return Math.ceil(channels / 16) * 16 === Math.ceil(channels / 8) * 8 ? 16 : 8;
}

/**
 * Rung 4's forward or backward-data: its packs and the GEMM after them. The GEMM's rows are the product's
 * output channels, its columns the positions of y or dx. Forward sums over 4 taps of x a step, read in place;
 * backward-data over dy packed channels-last, bordered by kernel − 1 − padding zeros.
 */
function gemmKernel(rung: Rung, entry: 'forward' | 'backward_data', a: ConvSizes, activation: Activation | null): ConvPackedKernel {
  const forward = entry === 'forward';
  const channels = forward ? a.outChannels : a.inChannels;
  const positions = a.rows * (forward ? outputPositions(a) : a.height * a.width);
  const border = forward ? 0 : a.kernel - 1 - a.padding;
  const vec4s = Math.ceil(a.outChannels / 4);
  const steps = forward ? Math.ceil((a.inChannels * a.kernel ** 2) / 4) : a.kernel ** 2 * vec4s;
  const block = gemmChannelBlock(channels);
  const channelBlocks = Math.ceil(channels / block);
  const weightVec4s = channelBlocks * block * steps;
  const outH = convOutputSize(a.height, a.kernel, a.stride, a.padding);
  const outW = convOutputSize(a.width, a.kernel, a.stride, a.padding);
  const pixels = forward ? 0 : a.rows * (outH + 2 * border) * (outW + 2 * border);
  // Each sample's positions in whole vec4s: the GEMM stores 4 positions of a channel as one vec4.
  const aligned = (forward ? outH * outW : a.height * a.width) % 4 === 0;
  const defines = { ...geometryDefines(a, activation), FORWARD: forward, WIDE: block === 16, BORDER: border, ALIGNED: aligned };
  const packs: ConvPacks = {
    packDy: forward ? null : kernelOf(rung, 'pack_dy', defines, elementGrid(pixels)),
    packWeight: kernelOf(rung, 'pack_weight', defines, elementGrid(weightVec4s)),
    dyFloats: 4 * pixels * vec4s,
    weightFloats: 4 * weightVec4s,
  };
  const workgroups = folded(Math.ceil(Math.ceil(positions / (GEMM_SUMS / block)) / GEMM_GROUP), channelBlocks);
  return { ...kernelOf(rung, entry, defines, workgroups), packs };
}

/**
 * Rung 4 takes forward where nothing needs masking (no padding) and whole vec4s of taps add at most 1/3 to the
 * sum's multiply-adds (9 taps padded to 12, the most measured, still ran faster than rung 3; a 1×1 kernel over
 * one channel would do 4×). Its channel blocks pad no more than rung 3's blocks of 8 do. docs/perf/conv2d.md, rung 4.
 */
export function gemmFitsForward(g: ConvGeometry): boolean {
  const taps = g.inChannels * g.kernel ** 2;
  return g.padding === 0 && 3 * Math.ceil(taps / 4) * 4 <= 4 * taps;
}

/** forward: y = f(conv(x, weight) + bias), `activation` the one fused into its store; rung 4 packs the weights first. */
export function conv2dForwardPlan(a: ConvSizes, target: Target, activation: Activation | null = null): ConvPackedKernel {
  const rung = rungFor('forward', target, gemmFitsForward(a));
  if (rung.index === GEMM) return gemmKernel(rung, 'forward', a, activation);
  const defines = rungDefines(rung, a, activation, THREADS);
  const columns = a.rows * outputPositions(a);
  const workgroups = rung.index >= BLOCKS ? blockGrid(columns, a.outChannels) : elementGrid(columns * a.outChannels);
  return { ...kernelOf(rung, 'forward', defines, workgroups), packs: null };
}

/**
 * Rung 4 computes backward-data as a stride-1 correlation over dy bordered by kernel − 1 − padding zeros, in
 * blocks of 16 input channels: taken where they are whole (5 channels padded to 16 ran slower than rung 3).
 */
export function gemmFitsData(g: ConvGeometry): boolean {
  return g.stride === 1 && g.padding < g.kernel && g.inChannels % 16 === 0;
}

/** backward-data: dx = convᵀ(dy, weight) · f'(x), `inputActivation` the one whose output x is; rung 4 packs dy and weight first. */
export function conv2dBackwardDataPlan(a: ConvSizes, target: Target, inputActivation: Activation | null = null): ConvPackedKernel {
  const rung = rungFor('backwardData', target, gemmFitsData(a));
  if (rung.index === GEMM) return gemmKernel(rung, 'backward_data', a, inputActivation);
  const defines = rungDefines(rung, a, inputActivation, THREADS);
  const columns = a.rows * a.height * a.width;
  const workgroups = rung.index >= BLOCKS ? blockGrid(columns, a.inChannels) : elementGrid(columns * a.inChannels);
  return { ...kernelOf(rung, 'backward_data', defines, workgroups), packs: null };
}

/**
 * backward-filter: dWeight = Σ over the batch's output positions of dy · im2col(x). Rung 0 sums the whole
 * batch per weight; the others split the positions, and where that makes more than one split,
 * reduce_splits (rung 1's) adds the partial dWeights.
 */
export function conv2dBackwardFilterPlan(a: ConvSizes, target: Target): ConvSplitPlan {
  const rung = rungFor('backwardFilter', target);
  const weights = a.outChannels * a.inChannels * a.kernel ** 2;
  const positions = a.rows * outputPositions(a);
  if (rung.index === TEXTBOOK) {
    const sum = kernelOf(rung, 'backward_filter', rungDefines(rung, a, null, THREADS), elementGrid(weights));
    return { sum, reduce: null, splitDepth: positions, splits: 1, partialFloats: 0 };
  }
  const { filterWorkgroups, minFilterDepth, sliced } = splitting(target);
  const byDepth = Math.ceil(positions / minFilterDepth);
  let sum: ConvKernel;
  let split: { splitDepth: number; splits: number };
  if (rung.index === SPLIT_SUMS) {
    const weightGroups = Math.ceil(weights / THREADS);
    split = splitInto(positions, Math.min(byDepth, Math.ceil(filterWorkgroups / weightGroups)));
    sum = kernelOf(rung, 'backward_filter', rungDefines(rung, a, null, THREADS), elementGrid(weights, split.splits));
  } else {
    const patch = a.inChannels * a.kernel ** 2;
    // Just enough invocations for the taps, in whole SIMD groups of 4.
    const threads = Math.min(THREADS, 4 * Math.ceil(patch / (4 * COLS)));
    const rowBlocks = Math.ceil(a.outChannels / ROWS);
    const columnBlocks = Math.ceil(patch / (COLS * threads));
    split = splitInto(positions, Math.min(byDepth, Math.ceil(filterWorkgroups / (rowBlocks * columnBlocks))));
    sum = kernelOf(rung, 'backward_filter', rungDefines(rung, a, null, threads), [columnBlocks, 1, rowBlocks * split.splits]);
  }
  if (split.splits === 1) return { sum, reduce: null, ...split, partialFloats: 0 };
  const reducer = CONV2D_RUNGS[SPLIT_SUMS]!;
  const groups = Math.ceil(weights / (sliced ? SLICED_WEIGHTS : REDUCE_WEIGHTS));
  const reduce = kernelOf(reducer, sliced ? 'reduce_splits_sliced' : 'reduce_splits', geometryDefines(a, null), folded(groups));
  return { sum, reduce, ...split, partialFloats: split.splits * weights };
}

/**
 * bias gradient: dBias = Σ over the batch's output positions of dy. Rung 0 sums the whole batch per
 * channel; rung 1 splits the images over workgroups whose invocations each write a partial sum, and a
 * second pass adds them.
 */
export function conv2dBiasGradPlan(a: ConvSizes, target: Target): ConvSplitPlan {
  const rung = rungFor('biasGrad', target);
  const defines = geometryDefines(a, null);
  if (rung.index === TEXTBOOK) {
    return { sum: kernelOf(rung, 'bias_grad', defines, elementGrid(a.outChannels)), reduce: null, splitDepth: a.rows, splits: 1, partialFloats: 0 };
  }
  const { biasWorkgroups, minBiasPositions, sliced } = splitting(target);
  const wanted = Math.min(Math.ceil((a.rows * outputPositions(a)) / minBiasPositions), Math.ceil(biasWorkgroups / a.outChannels));
  const split = splitInto(a.rows, wanted);
  const sum = kernelOf(rung, 'bias_partials', defines, [split.splits, a.outChannels, 1]);
  const reduce = sliced
    ? kernelOf(rung, 'bias_reduce_sliced', defines, [a.outChannels, 1, 1])
    : kernelOf(rung, 'bias_reduce', defines, [Math.ceil(a.outChannels / 64), 1, 1]);
  return { sum, reduce, ...split, partialFloats: split.splits * a.outChannels * BIAS_THREADS };
}
