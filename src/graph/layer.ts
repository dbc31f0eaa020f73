import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Target } from '../gpu/target.ts';
import type { Rng } from '../data/random.ts';
import type { Tensor, TensorFormat } from './tensor.ts';
import type { ActivationKind } from './spec.ts';

/** Shape of one sample: `[features]` for dense data, `[channels, height, width]` for images (NCHW). */
export type Shape = readonly number[];

/** A learnable tensor (or a running statistic) a layer asks the model to allocate. */
export interface ParamSpec {
  /** PyTorch-style suffix: `weight`, `bias`, `running_mean` … */
  readonly name: string;
  readonly shape: readonly number[];
  /** Initial values (PyTorch's defaults), drawn from the model's seeded RNG. */
  init(rng: Rng): Float32Array;
}

/** What an activation layer applies (alpha: leaky_relu's slope, ELU's α; unused by the others). */
export interface Activation {
  readonly kind: ActivationKind;
  readonly alpha: number;
}

/** Everything a layer needs to record its dispatches for one plan (a batch size and a mode). */
export interface BuildArgs {
  readonly gpu: Gpu;
  /** Samples in the batch this plan processes. */
  readonly rows: number;
  readonly mode: 'train' | 'eval';
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  /** [rows × inputShape] activations coming in, and the [rows × outputShape] activations going out. */
  /** Its format is f32 but for a first layer given the model's input batch in the format it declared (`inputFormat`). */
  readonly input: Tensor;
  readonly output: Tensor;
  /** Gradients w.r.t. output (given) and input (to write; null for the first layer, which needs none). */
  readonly dOutput: Tensor | null;
  readonly dInput: Tensor | null;
  /** Learnable parameters and their gradients, by ParamSpec name (views into the model's arenas). */
  readonly params: Readonly<Record<string, Tensor>>;
  readonly grads: Readonly<Record<string, Tensor>>;
  /** Non-learned state (batchnorm running statistics), by ParamSpec name. */
  readonly state: Readonly<Record<string, Tensor>>;
  /** Per-step uniform (see shaders/step.wgsl): batch offset, optimizer step, RNG seed, learning rate. */
  readonly step: GPUBuffer;
  /** Position of the layer in the model (0-based): salts per-layer random streams (dropout masks). */
  readonly index: number;
  /**
   * Fusion (see Sequential): for a layer with `fusesActivations`, the next layer's activation, which its
   * forward applies as it stores (`output` is then that activation's output), and the activation whose
   * output is its input, whose derivative its backward-data applies (`dInput` is then that activation's
   * input gradient). For an activation layer, which of its passes a neighbour does instead.
   */
  readonly fused: {
    readonly outputActivation: Activation | null;
    readonly inputActivation: Activation | null;
    readonly forwardDone: boolean;
    readonly backwardDone: boolean;
  };
}

/** BuildArgs.fused of a layer built on its own, or with nothing to fuse. */
export const NOTHING_FUSED: BuildArgs['fused'] = { outputActivation: null, inputActivation: null, forwardDone: false, backwardDone: false };

export interface LayerPlan {
  readonly forward: Dispatch[];
  readonly backward: Dispatch[];
}

export interface Layer {
  /** `dense`, `conv2d`, `relu` …: also the PyTorch-like name shown in summaries. */
  readonly kind: string;
  /** One line for summaries: `dense(128)`, `conv2d(16, k5, s2)`. */
  describe(): string;
  /** Output shape for an input shape; throws ShapeError naming the layer and the numbers when they do not fit. */
  outputShape(input: Shape, index: number): Shape;
  /** Learnable parameters, in PyTorch's order (weight then bias). */
  params(input: Shape): ParamSpec[];
  /** Non-learned state saved with the model (running statistics). */
  state?(input: Shape): ParamSpec[];
  /** True when the output is the input with another shape (flatten): no buffer, no dispatch. */
  readonly isView?: boolean;
  /** Set on activation layers: what they apply. */
  readonly activation?: Activation;
  /** Whether this layer's kernels under `target` can apply a neighbouring activation for this input shape (BuildArgs.fused). */
  fusesActivations?(input: Shape, target: Target): boolean;
  /** The format this layer, first in a model, reads its input batch in under `target` (f32 when absent). */
  inputFormat?(input: Shape, target: Target): TensorFormat;
  /** Records the forward and backward dispatches of this layer for one plan. */
  build(args: BuildArgs): LayerPlan;
}
