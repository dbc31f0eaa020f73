import { ConfigError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Defines } from '../gpu/shaders.ts';
import { grid1d, kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { uniformInit } from '../data/random.ts';
import type { Activation, BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import { activationDefines } from './activation.ts';
import { binding, product } from '../graph/tensor.ts';

/** Tile sizes of shaders/matmul_tiled.wgsl: 32×32 outputs per workgroup (64 invocations × 4×4), K in slices of 16. */
export const TILE = { TILE_M: 32, TILE_N: 32, TILE_K: 16 } as const;

/**
 * The tile of shaders/dense.wgsl's workgroups (64 invocations × 8×8 outputs each), for a product of
 * `columns` × `rows` outputs: TILE_X blocks across, 64 / TILE_X down; narrow for products at most 16
 * columns wide (a 10-class layer's forward), flat for those at most 16 rows tall (its dW), square otherwise.
 * A narrow product at most 64 rows tall (that forward at batch 64) takes workgroups of 16 invocations,
 * 16×64 outputs: the 64-invocation tile would compute 4,096 outputs for its 640 (cnn-arch1's 800→10 at
 * batch 64: ×0.28 CPU and wall-clock time); a flat one at most 64 columns wide likewise 64×16 (the MLP's
 * 64→10 dW: the flat tile computed 256 columns for its 64). `wide`: 32×16 outputs per invocation (the `_wide` entry points of
 * forward, dx and dW) wherever the device wants them (Gpu.cpuTuned) and the tile is square, `wideBlock` (columns ×
 * rows) of them: 16×32, or dW's 32×16. A wide workgroup is 8 invocations, 64×64 outputs (WIDE_TILE), the same grid
 * as the 8×8 blocks', so the cores get as many workgroups either way.
 */
function tiling(gpu: Gpu, columns: number, rows: number, wideBlock: [columns: number, rows: number] = [16, 32]): Tiling {
  const narrow = columns <= 16;
  const flat = !narrow && rows <= 16;
  const across = narrow ? 2 : flat && columns > 64 ? 32 : 8;
  const invocations = (narrow && rows <= 64) || (flat && columns <= 64) ? 16 : 64;
  const grid = (block: number): [number, number] => [Math.ceil(columns / (across * block)), Math.ceil(rows / ((invocations / across) * block))];
  const wide = !narrow && !flat && gpu.cpuTuned && sharesQuads(gpu);
  if (wide) return { across: WIDE_TILE / wideBlock[0], invocations: (WIDE_TILE / wideBlock[0]) * (WIDE_TILE / wideBlock[1]), wide, workgroups: [Math.ceil(columns / WIDE_TILE), Math.ceil(rows / WIDE_TILE)] };
  return { across, invocations, wide, workgroups: grid(8) };
}

interface Tiling {
  /** TILE_X: blocks across a workgroup's tile */
  across: number;
  /** INVOCATIONS: per workgroup, TILE_X across × INVOCATIONS / TILE_X down */
  invocations: number;
  wide: boolean;
  workgroups: [number, number];
}

/**
 * Outputs across and down a wide workgroup. SwiftShader hands a dispatch's workgroups to its worker threads
 * round-robin, one share per thread, and an edge workgroup costs as much as a full one (its loads are
 * clamped, not skipped). With 128×128 tiles the MLP's 784→128 dW made 7 workgroups, 4 on one core and 3 on
 * the other, the 7th computing 128 columns for 16: 64×64 tiles make 26 (13 + 13, 6% past the edge), and
 * that dW took ×0.84 the wall-clock time at batch 1000 (×0.83–0.84 in three runs, A/A ×0.97–0.99; ×0.90
 * at batch 64); its forward measured the same. 32×32 tiles (one quad per workgroup) gained less (×0.89).
 * The 128×128 tiles had also kept small products on 8×8 blocks, lest a lone wide workgroup leave a core
 * idle (the MLP's 784→128 forward at batch 64 took 2.8× longer so); on the 64×64 grid it makes 2, as the
 * 8×8 blocks do, and took ×0.86 the wall-clock time wide.
 */
const WIDE_TILE = 64;

interface DenseSizes {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

/**
 * The register-blocked kernels of shaders/dense.wgsl load x, W and dx as vec4 along `in`, so they need
 * `in` to be a multiple of 4 (any `out`: dy is read as scalars); anything else takes the tiled kernel.
 */
function usesBlockedKernel(s: DenseSizes): boolean {
  return s.inFeatures % 4 === 0;
}

/**
 * C[M×N] = A·B (+ bias) with the operand layouts of shaders/matmul_tiled.wgsl, for any sizes: the three
 * products of a dense layer are this one call with different transposes.
 */
export function matmul(
  gpu: Gpu,
  args: { label: string; a: Binding; b: Binding; c: Binding; bias?: Binding; M: number; N: number; K: number; aTransposed: boolean; bTransposed: boolean },
): Dispatch {
  const dims = uniform(gpu, 'matmul.dims', [['u32', args.M], ['u32', args.N], ['u32', args.K]]);
  const bind: Record<string, Binding> = { dims, a: args.a, b: args.b, c: args.c };
  if (args.bias) bind.bias = args.bias;
  return kernel(gpu, {
    shader: 'matmul_tiled',
    defines: { ...TILE, A_TRANSPOSED: args.aTransposed, B_TRANSPOSED: args.bTransposed, BIAS: args.bias !== undefined },
    bind,
    workgroups: [Math.ceil(args.N / TILE.TILE_N), Math.ceil(args.M / TILE.TILE_M)],
    label: args.label,
    flops: 2 * args.M * args.N * args.K,
  });
}

/** Whether forward, dx and dW share loads within subgroup quads (SUBGROUPS): where the device has them and they are laid out as the kernels need. */
export function sharesQuads(gpu: Gpu): boolean {
  return gpu.useSubgroups && gpu.quadsAligned;
}

/**
 * Defines of shaders/dense.wgsl: forward, dx and dW share loads within subgroup quads where they can; the
 * activation fused into the entry point (forward: the next layer's; backward-data: the input's), if any; the
 * workgroup tile (`null` for bias_grad, which has no tile and takes the square one's defines); bias_grad's shape.
 */
function denseDefines(gpu: Gpu, tile: Tiling | null, activation: Activation | null = null, xBytes = false, splits = 1, forwardSplit = false) {
  return {
    SUBGROUPS: sharesQuads(gpu), ...activationDefines(activation), TILE_X: tile?.across ?? 8, INVOCATIONS: tile?.invocations ?? 64, ...biasShape(gpu),
    X_BYTES: xBytes, SPLITS: splits, FORWARD_SPLIT: forwardSplit,
  };
}

/**
 * Slices of the summed dimension (shaders/dense.wgsl, SPLITS) for a product of `outputs` values whose sums
 * run over `terms`, with `tile`'s grid. On a GPU, one invocation per 8×8 block walking a whole sum leaves
 * most of it idle when the blocks are few: the CNN's 800→10 layer at batch 1000 (250 invocations walking 800
 * inputs forward, 256 walking 1,000 rows for dW) took 1.2 of an H100's 3.1 ms step, the MLP's dW (1,664
 * invocations) 1.1 of 1.9. So slices are added until about SPLIT_INVOCATIONS run, each at least MIN_SLICE
 * terms long, and no more than the copies of the output fit a storage binding. A CPU adapter splits only
 * a product of one workgroup: SwiftShader gives each core whole workgroups, so the other cores would idle
 * (the MLP's 64→10 dW at batch 1000 ran on one core of two); its sum goes to one slice per core, each at
 * least MIN_CPU_SLICE terms long. Otherwise its few cores are busy anyway, and the copies would cost a pass.
 */
function splitsOf(gpu: Gpu, tile: Tiling, terms: number, outputs: number): number {
  const workgroups = tile.workgroups[0] * tile.workgroups[1];
  const fit = Math.floor(gpu.limits.maxStorageBufferBindingSize / (outputs * 4));
  if (gpu.cpuTuned) {
    const cores = Math.max(2, globalThis.navigator?.hardwareConcurrency ?? 2);
    return workgroups > 1 ? 1 : Math.max(1, Math.min(cores, Math.floor(terms / MIN_CPU_SLICE), fit));
  }
  const invocations = workgroups * tile.invocations;
  return Math.max(1, Math.min(Math.round(SPLIT_INVOCATIONS / invocations), Math.floor(terms / MIN_SLICE), MAX_SPLITS, fit));
}

const SPLIT_INVOCATIONS = 32_768;
const MIN_SLICE = 64;
const MIN_CPU_SLICE = 256;
const MAX_SPLITS = 64;

/** x as bytes (4 per u32 word, each / 255) needs the register-blocked kernels, which load x 4 inputs at a time. */
function checkBytes(s: DenseSizes & { xBytes?: boolean }): void {
  if (s.xBytes && !usesBlockedKernel(s)) throw new Error(`dense: x as bytes needs in a multiple of 4, not ${s.inFeatures}`);
}

function denseDims(gpu: Gpu, s: DenseSizes): GPUBuffer {
  return uniform(gpu, 'dense.dims', [['u32', s.rows], ['u32', s.inFeatures], ['u32', s.outFeatures]]);
}

/**
 * y[rows×out] = f(x[rows×in] · Wᵀ + b), f the fused activation or the identity; `xBytes`: x holds bytes,
 * 4 per u32, each standing for byte / 255 (a model's input batch of images, see Sequential).
 */
export function denseForward(
  gpu: Gpu,
  a: DenseSizes & { x: Binding; weight: Binding; bias: Binding; y: Binding; activation?: Activation | null; xBytes?: boolean },
): Dispatch[] {
  const flops = 2 * a.rows * a.inFeatures * a.outFeatures;
  checkBytes(a);
  if (!usesBlockedKernel(a)) {
    if (a.activation) throw new Error('dense: only the register-blocked kernel (in a multiple of 4) applies an activation');
    return [matmul(gpu, { label: 'dense.forward', a: a.x, b: a.weight, c: a.y, bias: a.bias, M: a.rows, N: a.outFeatures, K: a.inFeatures, aTransposed: false, bTransposed: true })];
  }
  const tile = tiling(gpu, a.outFeatures, a.rows);
  const dims = denseDims(gpu, a);
  const outputs = a.rows * a.outFeatures;
  const splits = tile.wide ? 1 : splitsOf(gpu, tile, a.inFeatures, outputs);
  const defines = denseDefines(gpu, tile, a.activation ?? null, a.xBytes, splits, splits > 1);
  return splitProduct(gpu, {
    entry: tile.wide ? 'forward_wide' : 'forward', defines, label: 'dense.forward', flops, workgroups: tile.workgroups, splits, outputs,
    bind: { dims, x: a.x, weight: a.weight }, output: ['y', a.y], epilogue: { bias: a.bias },
  });
}

/**
 * A product's dispatches, its sum in `splits` slices or whole: the product itself (`output`: its binding
 * name and buffer), or, split, the product into `splits` copies of its output and reduce_splits adding
 * them into `output`. `epilogue`: what the output store needs besides (the forward's bias), bound to the
 * product when whole and to the reduction when split.
 */
function splitProduct(
  gpu: Gpu,
  a: {
    entry: string; defines: Defines; label: string; flops: number; workgroups: [number, number]; splits: number; outputs: number;
    bind: Record<string, Binding>; output: [string, Binding]; epilogue?: Record<string, Binding>;
  },
): Dispatch[] {
  const [name, output] = a.output;
  const spec = { shader: 'dense', entry: a.entry, defines: a.defines, label: a.label, flops: a.flops };
  if (a.splits === 1) return [kernel(gpu, { ...spec, bind: { ...a.bind, ...a.epilogue, [name]: output }, workgroups: a.workgroups })];
  const copies = gpu.buffers.create(`${a.label}.splits`, a.splits * a.outputs * 4, GPUBufferUsage.STORAGE);
  return [
    kernel(gpu, { ...spec, bind: { ...a.bind, [name]: copies }, workgroups: [...a.workgroups, a.splits] }),
    kernel(gpu, {
      shader: 'dense', entry: 'reduce_splits', defines: a.defines, label: 'dense.reduce_splits', flops: a.splits * a.outputs,
      bind: { dims: a.bind.dims!, splitSums: copies, ...a.epilogue, [name]: output }, workgroups: grid1d(a.outputs, 256),
    }),
  ];
}

/**
 * dx[rows×in] = dy[rows×out] · W[out×in], times f'(x) when `inputActivation` (the activation whose output
 * x is) is given: that activation's backward, fused into this store.
 */
export function denseBackwardData(
  gpu: Gpu,
  a: DenseSizes & { dy: Binding; weight: Binding; dx: Binding; inputActivation?: { activation: Activation; x: Binding } | null },
): Dispatch {
  const flops = 2 * a.rows * a.inFeatures * a.outFeatures;
  if (!usesBlockedKernel(a)) {
    if (a.inputActivation) throw new Error('dense: only the register-blocked kernel (in a multiple of 4) applies an activation');
    return matmul(gpu, { label: 'dense.backward_data', a: a.dy, b: a.weight, c: a.dx, M: a.rows, N: a.inFeatures, K: a.outFeatures, aTransposed: false, bTransposed: false });
  }
  const tile = tiling(gpu, a.inFeatures, a.rows);
  return kernel(gpu, {
    shader: 'dense', entry: tile.wide ? 'backward_data_wide' : 'backward_data', defines: denseDefines(gpu, tile, a.inputActivation?.activation ?? null), label: 'dense.backward_data', flops,
    bind: { dims: denseDims(gpu, a), dy: a.dy, weight: a.weight, dx: a.dx, ...(a.inputActivation && { x: a.inputActivation.x }) },
    workgroups: tile.workgroups,
  });
}

/** dW[out×in] = dyᵀ · x (`xBytes` as for denseForward) */
export function denseBackwardWeights(gpu: Gpu, a: DenseSizes & { dy: Binding; x: Binding; dWeight: Binding; xBytes?: boolean }): Dispatch[] {
  const flops = 2 * a.rows * a.inFeatures * a.outFeatures;
  checkBytes(a);
  if (!usesBlockedKernel(a)) {
    return [matmul(gpu, { label: 'dense.backward_weights', a: a.dy, b: a.x, c: a.dWeight, M: a.outFeatures, N: a.inFeatures, K: a.rows, aTransposed: true, bTransposed: false })];
  }
  const tile = tiling(gpu, a.inFeatures, a.outFeatures, [32, 16]);
  const dims = denseDims(gpu, a);
  const outputs = a.outFeatures * a.inFeatures;
  const splits = tile.wide ? 1 : splitsOf(gpu, tile, a.rows, outputs);
  const defines = denseDefines(gpu, tile, null, a.xBytes, splits);
  return splitProduct(gpu, {
    entry: tile.wide ? 'backward_weights_wide' : 'backward_weights', defines, label: 'dense.backward_weights', flops, workgroups: tile.workgroups,
    splits, outputs, bind: { dims, dy: a.dy, x: a.x }, output: ['dWeight', a.dWeight],
  });
}

/**
 * Invocations of a bias-gradient workgroup: outputs × slices of the rows (shaders/dense.wgsl bias_grad).
 * A CPU adapter walks all rows in one invocation per output; a GPU splits them 16 ways, so that 10
 * outputs at batch 1000 are 160 invocations walking 63 rows each instead of 10 walking 1,000.
 */
function biasShape(gpu: Gpu) {
  return gpu.cpuTuned ? { BIAS_OUTS: 64, BIAS_SLICES: 1, BIAS_SLICED: false } : { BIAS_OUTS: 16, BIAS_SLICES: 16, BIAS_SLICED: true };
}

/** db[out] = Σ_rows dy */
export function denseBiasGrad(gpu: Gpu, a: { dy: Binding; dBias: Binding; rows: number; outFeatures: number }): Dispatch {
  return kernel(gpu, {
    shader: 'dense', entry: 'bias_grad', defines: denseDefines(gpu, null), flops: a.rows * a.outFeatures,
    bind: { dims: denseDims(gpu, { rows: a.rows, inFeatures: 0, outFeatures: a.outFeatures }), dy: a.dy, dBias: a.dBias },
    workgroups: [Math.ceil(a.outFeatures / biasShape(gpu).BIAS_OUTS)],
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
    fusesActivations: (input: Shape) => usesBlockedKernel({ rows: 1, inFeatures: product(input), outFeatures: out }),
    takesBytes: (input: Shape) => usesBlockedKernel({ rows: 1, inFeatures: product(input), outFeatures: out }),
    params(input: Shape): ParamSpec[] {
      const fanIn = product(input);
      const bound = 1 / Math.sqrt(fanIn);
      return [
        { name: 'weight', shape: [out, fanIn], init: (rng) => uniformInit(rng, out * fanIn, bound) },
        { name: 'bias', shape: [out], init: (rng) => uniformInit(rng, out, bound) },
      ];
    },
    build(args: BuildArgs): LayerPlan {
      const { gpu, rows, fused } = args;
      const sizes = { rows, inFeatures: product(args.inputShape), outFeatures: out };
      const weight = binding(args.params.weight!);
      const x = binding(args.input);
      const xBytes = args.inputBytes;
      const forward = denseForward(gpu, { ...sizes, x, xBytes, weight, bias: binding(args.params.bias!), y: binding(args.output), activation: fused.outputActivation });
      if (args.mode === 'eval' || !args.dOutput) return { forward, backward: [] };
      const dy = binding(args.dOutput);
      const backward = [
        ...denseBackwardWeights(gpu, { ...sizes, dy, x, xBytes, dWeight: binding(args.grads.weight!) }),
        denseBiasGrad(gpu, { ...sizes, dy, dBias: binding(args.grads.bias!) }),
      ];
      const inputActivation = fused.inputActivation && { activation: fused.inputActivation, x };
      if (args.dInput) backward.push(denseBackwardData(gpu, { ...sizes, dy, weight, dx: binding(args.dInput), inputActivation }));
      return { forward, backward };
    },
  };
}
