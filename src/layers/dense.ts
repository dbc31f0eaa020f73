import { ConfigError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { Target } from '../gpu/target.ts';
import { uniformInit } from '../data/random.ts';
import type { Activation, BuildArgs, Layer, LayerPlan, ParamSpec, Shape } from '../graph/layer.ts';
import { activationDefines } from './activation.ts';
import { binding, product, type TensorFormat } from '../graph/tensor.ts';
import {
  denseBackwardDataPlan, denseBackwardWeightsPlan, denseBiasPlan, denseForwardPlan, denseFusesActivations, denseTakesBytes,
  type DensePlan, type DenseShape,
} from './dense-policy.ts';

/** A dense product's dispatches from its plan (src/layers/dense-policy.ts), its sum whole or in slices. */
interface Product {
  plan: DensePlan;
  label: string;
  flops: number;
  /** Activation defines: the forward's fused activation, backward-data's input activation, none otherwise. */
  activation: Activation | null;
  bind: Record<string, Binding>;
  /** The output's binding name and buffer. */
  output: [string, Binding];
  /** Values of the output, for the copies of a split sum. */
  outputs: number;
  /** What the output store needs besides (the forward's bias): bound to the product when whole, to the reduction when split. */
  epilogue?: Record<string, Binding>;
}

/**
 * A product's dispatches: the product itself, or, split (plan.splits > 1), the product into `splits` copies
 * of its output and reduce_splits adding them, in order, into the output.
 */
function dispatches(gpu: Gpu, p: Product): Dispatch[] {
  const [name, output] = p.output;
  const { plan } = p;
  const defines = { ...activationDefines(p.activation), ...plan.defines };
  const spec = { shader: plan.shader, entry: plan.entry, defines, label: p.label, flops: p.flops, rung: plan.rung };
  if (!plan.reduce) return [kernel(gpu, { ...spec, bind: { ...p.bind, ...p.epilogue, [name]: output }, workgroups: plan.workgroups })];
  const copies = gpu.buffers.create(`${p.label}.splits`, plan.splits * p.outputs * 4, GPUBufferUsage.STORAGE);
  return [
    kernel(gpu, { ...spec, bind: { ...p.bind, [name]: copies }, workgroups: plan.workgroups }),
    kernel(gpu, {
      ...spec, entry: plan.reduce.entry, label: 'dense.reduce_splits', flops: plan.splits * p.outputs,
      bind: { dims: p.bind.dims!, splitSums: copies, ...p.epilogue, [name]: output }, workgroups: plan.reduce.workgroups,
    }),
  ];
}

/**
 * Rung 1 (shaders/dense_1_tiles.wgsl) is the textbook tiled matmul C[M×N] = A·B (+ bias), so its operands
 * are bound as A, B and C, read with the transposes its plan's defines say.
 */
function tiledProduct(gpu: Gpu, plan: DensePlan, label: string, flops: number, mnk: [number, number, number], bind: { a: Binding; b: Binding; c: Binding; bias?: Binding }): Dispatch {
  const dims = uniform(gpu, 'matmul.dims', mnk.map((v) => ['u32', v] as const));
  return kernel(gpu, { shader: plan.shader, entry: plan.entry, defines: { ...plan.defines, BIAS: bind.bias !== undefined }, bind: { dims, ...bind }, workgroups: plan.workgroups, label, flops, rung: plan.rung });
}

function denseDims(gpu: Gpu, s: DenseShape): GPUBuffer {
  return uniform(gpu, 'dense.dims', [['u32', s.rows], ['u32', s.inFeatures], ['u32', s.outFeatures]]);
}

function checkActivation(plan: DensePlan, activation: Activation | null | undefined): void {
  if (activation && plan.rung.index === 1) throw new Error(`dense: rung ${plan.rung.index} (${plan.rung.name}) applies no activation`);
}

/**
 * y[rows×out] = f(x[rows×in] · Wᵀ + b), f the fused activation or the identity; `xFormat`: how x is stored
 * (u8x4 for a model's input batch of images, see Sequential's `input`).
 */
export function denseForward(
  gpu: Gpu,
  a: DenseShape & { x: Binding; weight: Binding; bias: Binding; y: Binding; activation?: Activation | null; xFormat?: TensorFormat },
): Dispatch[] {
  const plan = denseForwardPlan(a, gpu.target, a.xFormat);
  checkActivation(plan, a.activation);
  const flops = 2 * a.rows * a.inFeatures * a.outFeatures;
  if (plan.rung.index === 1) return [tiledProduct(gpu, plan, 'dense.forward', flops, [a.rows, a.outFeatures, a.inFeatures], { a: a.x, b: a.weight, c: a.y, bias: a.bias })];
  return dispatches(gpu, {
    plan, label: 'dense.forward', flops: 2 * a.rows * a.inFeatures * a.outFeatures, activation: a.activation ?? null,
    bind: { dims: denseDims(gpu, a), x: a.x, weight: a.weight }, output: ['y', a.y], outputs: a.rows * a.outFeatures, epilogue: { bias: a.bias },
  });
}

/**
 * dx[rows×in] = dy[rows×out] · W[out×in], times f'(x) when `inputActivation` (the activation whose output
 * x, the layer's input, is) is given: that activation's backward, fused into this store. Rung 0 reads x either way.
 */
export function denseBackwardData(
  gpu: Gpu,
  a: DenseShape & { dy: Binding; weight: Binding; dx: Binding; x: Binding; inputActivation?: Activation | null },
): Dispatch {
  const plan = denseBackwardDataPlan(a, gpu.target);
  checkActivation(plan, a.inputActivation);
  if (plan.rung.index === 1) return tiledProduct(gpu, plan, 'dense.backward_data', 2 * a.rows * a.inFeatures * a.outFeatures, [a.rows, a.inFeatures, a.outFeatures], { a: a.dy, b: a.weight, c: a.dx });
  const readsX = plan.rung.index === 0 || !!a.inputActivation;
  return dispatches(gpu, {
    plan, label: 'dense.backward_data', flops: 2 * a.rows * a.inFeatures * a.outFeatures, activation: a.inputActivation ?? null,
    bind: { dims: denseDims(gpu, a), dy: a.dy, weight: a.weight, ...(readsX && { x: a.x }) }, output: ['dx', a.dx], outputs: a.rows * a.inFeatures,
  })[0]!;
}

/** dW[out×in] = dyᵀ · x (`xFormat` as for denseForward) */
export function denseBackwardWeights(gpu: Gpu, a: DenseShape & { dy: Binding; x: Binding; dWeight: Binding; xFormat?: TensorFormat }): Dispatch[] {
  const plan = denseBackwardWeightsPlan(a, gpu.target, a.xFormat);
  if (plan.rung.index === 1) return [tiledProduct(gpu, plan, 'dense.backward_weights', 2 * a.rows * a.inFeatures * a.outFeatures, [a.outFeatures, a.inFeatures, a.rows], { a: a.dy, b: a.x, c: a.dWeight })];
  return dispatches(gpu, {
    plan, label: 'dense.backward_weights', flops: 2 * a.rows * a.inFeatures * a.outFeatures, activation: null,
    bind: { dims: denseDims(gpu, a), dy: a.dy, x: a.x }, output: ['dWeight', a.dWeight], outputs: a.outFeatures * a.inFeatures,
  });
}

/** db[out] = Σ_rows dy */
export function denseBiasGrad(gpu: Gpu, a: { dy: Binding; dBias: Binding; rows: number; outFeatures: number }): Dispatch {
  return dispatches(gpu, {
    plan: denseBiasPlan(a, gpu.target), label: 'dense.bias_grad', flops: a.rows * a.outFeatures, activation: null,
    bind: { dims: denseDims(gpu, { rows: a.rows, inFeatures: 0, outFeatures: a.outFeatures }), dy: a.dy }, output: ['dBias', a.dBias], outputs: a.outFeatures,
  })[0]!;
}

/** A fully connected layer (PyTorch's `nn.Linear`): flattens its input, `out` features. */
export function dense(options: { out: number }): Layer {
  const out = options.out;
  if (!Number.isInteger(out) || out < 1) throw new ConfigError(`dense out ${out} is not allowed: a whole number ≥ 1`);
  return {
    kind: 'dense',
    describe: () => `dense(${out})`,
    outputShape: () => [out],
    fusesActivations: (input: Shape, target: Target) => denseFusesActivations(product(input), target),
    inputFormat: (input: Shape, target: Target) => (denseTakesBytes(product(input), target) ? 'u8x4' : 'f32'),
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
      const xFormat = args.input.format;
      const forward = denseForward(gpu, { ...sizes, x, xFormat, weight, bias: binding(args.params.bias!), y: binding(args.output), activation: fused.outputActivation });
      if (args.mode === 'eval' || !args.dOutput) return { forward, backward: [] };
      const dy = binding(args.dOutput);
      const backward = [
        ...denseBackwardWeights(gpu, { ...sizes, dy, x, xFormat, dWeight: binding(args.grads.weight!) }),
        denseBiasGrad(gpu, { ...sizes, dy, dBias: binding(args.grads.bias!) }),
      ];
      if (args.dInput) backward.push(denseBackwardData(gpu, { ...sizes, dy, weight, x, dx: binding(args.dInput), inputActivation: fused.inputActivation }));
      return { forward, backward };
    },
  };
}
