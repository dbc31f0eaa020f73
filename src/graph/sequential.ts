import { ShapeError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Target } from '../gpu/target.ts';
import { Rng } from '../data/random.ts';
import { NOTHING_FUSED, type BuildArgs, type Layer, type ParamSpec, type Shape } from './layer.ts';
import { formatShape, product, tensorBytes, type Tensor, type TensorFormat } from './tensor.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Where a named tensor lives inside an arena (offsets are 256-byte aligned for binding). */
interface ArenaEntry {
  /** PyTorch-style name: `<layer index>.<param>`, e.g. `0.weight`, `1.running_mean`. */
  name: string;
  layer: number;
  spec: ParamSpec;
  offset: number;
  size: number;
}

export interface LayerSummary {
  index: number;
  kind: string;
  describe: string;
  outputShape: number[];
  params: number;
}

export interface Plan {
  forward: Dispatch[];
  /** Layers in reverse order; empty in eval mode. */
  backward: Dispatch[];
}

/**
 * A stack of layers compiled for the GPU. Parameters live in one flat arena (gradients in a second of
 * the same layout) so the optimizer is one dispatch; running statistics in a third. Activations and
 * their gradients are allocated once for `capacity` rows; `plan(rows, mode)` records the dispatches
 * of a batch of `rows ≤ capacity` over those same buffers (a smaller last batch reuses them).
 */
export class Sequential {
  readonly shapes: Shape[];
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly state: GPUBuffer;
  readonly paramEntries: ArenaEntry[];
  readonly stateEntries: ArenaEntry[];
  /** Floats in the parameter arena (padding included), what the optimizer sweeps. */
  readonly paramFloats: number;
  readonly stateFloats: number;
  /**
   * Input batch [capacity × input], written by the gather kernel or the caller. Its format is f32 unless
   * `options.inputFormat` offers the one the first layer that computes declares it reads (dense: u8x4, 4
   * inputs a word) and no input gradient is wanted: bytes make the batch a quarter of the size.
   */
  readonly input: Tensor;
  /** Gradient w.r.t. the input batch, only when asked for (gradient checks); training never needs it. */
  readonly inputGrad: Tensor | null;
  private readonly activations: Tensor[];
  /** Gradient w.r.t. each layer's output; null for leading views (flatten) when no input gradient is wanted. */
  private readonly gradients: (Tensor | null)[];
  /** The first layer that computes something: the layers before it are views of the input. */
  private readonly firstCompute: number;
  /** What each layer fuses (see `fusion`). */
  private readonly fused: BuildArgs['fused'][];
  /** Recorded plans per Step uniform (they bind it), then per `rows|mode`. */
  private readonly plans = new WeakMap<GPUBuffer, Map<string, Plan>>();
  private readonly usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

  constructor(
    private readonly gpu: Gpu,
    readonly inputShape: Shape,
    readonly layers: readonly Layer[],
    readonly capacity: number,
    seed: number,
    options: { inputGradient?: boolean; fuseActivations?: boolean; inputFormat?: TensorFormat; arenasOf?: Sequential } = {},
  ) {
    this.shapes = inferShapes(inputShape, layers);
    const align = gpu.limits.minStorageBufferOffsetAlignment / 4;
    const paramSpecs = layers.flatMap((layer, i) => layer.params(this.inputOf(i)).map((spec) => ({ layer: i, spec })));
    const stateSpecs = layers.flatMap((layer, i) => (layer.state?.(this.inputOf(i)) ?? []).map((spec) => ({ layer: i, spec })));
    [this.paramEntries, this.paramFloats] = layout(paramSpecs, align);
    [this.stateEntries, this.stateFloats] = layout(stateSpecs, align);
    // `arenasOf`: a model of the same layers whose parameters, gradients and statistics this one trains in
    // place with other kernels (the trainer's quick start, src/train/quick-start.ts).
    const other = options.arenasOf;
    if (other && (other.paramFloats !== this.paramFloats || other.stateFloats !== this.stateFloats)) throw new ShapeError('arenasOf: a model of other layers');
    this.params = other?.params ?? gpu.buffers.create('params', this.paramFloats * 4, this.usage);
    this.grads = other?.grads ?? gpu.buffers.create('grads', this.paramFloats * 4, this.usage);
    this.state = other?.state ?? gpu.buffers.create('state', Math.max(1, this.stateFloats) * 4, this.usage);
    if (!other) this.initialise(new Rng(seed));

    this.firstCompute = Math.max(0, layers.findIndex((layer) => !layer.isView));
    const first = layers[this.firstCompute];
    const declared = first?.inputFormat?.(inputShape, gpu.target) ?? 'f32';
    const inputFormat = options.inputFormat === declared && !options.inputGradient ? declared : 'f32';
    this.input = this.batch(inputFormat === 'u8x4' ? 'input.bytes' : 'input', inputShape, inputFormat);
    this.inputGrad = options.inputGradient ? this.activation('input.grad', inputShape) : null;
    this.fused = fusion(layers, (i) => this.inputOf(i), gpu.target, options.fuseActivations ?? true);
    this.activations = [];
    this.gradients = [];
    layers.forEach((layer, i) => {
      const shape = this.shapes[i]!;
      const viewOf = (t: Tensor | null): Tensor | null => t && { ...t, shape };
      const input = i === 0 ? this.input : this.activations[i - 1]!;
      const dInput = i === 0 ? this.inputGrad : this.gradients[i - 1]!;
      // A fused activation works in place: the layer before it stores f(z) where z would have gone, and the
      // layer after it stores the gradient w.r.t. z where the gradient w.r.t. f(z) would have gone.
      const inPlace = { forward: this.fused[i]!.forwardDone, backward: this.fused[i]!.backwardDone && dInput !== null };
      this.activations.push(layer.isView || inPlace.forward ? viewOf(input)! : this.activation(`${i}.${layer.kind}.out`, shape));
      this.gradients.push(layer.isView || inPlace.backward ? viewOf(dInput) : this.activation(`${i}.${layer.kind}.grad`, shape));
    });
  }

  /** The logits tensor (output of the last layer) and the gradient w.r.t. it. */
  get output(): Tensor {
    return this.activations[this.activations.length - 1]!;
  }

  get dOutput(): Tensor {
    const last = this.gradients[this.gradients.length - 1];
    if (!last) throw new ShapeError('a model of views only has no gradient to train');
    return last;
  }

  /** Learnable parameter count (no padding). */
  get parameterCount(): number {
    return this.paramEntries.reduce((n, e) => n + e.size, 0);
  }

  summary(): LayerSummary[] {
    return this.layers.map((layer, i) => ({
      index: i,
      kind: layer.kind,
      describe: layer.describe(),
      outputShape: [...this.shapes[i]!],
      params: this.paramEntries.filter((e) => e.layer === i).reduce((n, e) => n + e.size, 0),
    }));
  }

  /** Forward (and in train mode backward) dispatches for a batch of `rows`; recorded once per (rows, mode). */
  plan(rows: number, mode: 'train' | 'eval', step: GPUBuffer): Plan {
    if (rows < 1 || rows > this.capacity) throw new ShapeError(`batch of ${rows} rows does not fit the model's capacity of ${this.capacity}`);
    const key = `${rows}|${mode}`;
    let plansForStep = this.plans.get(step);
    if (!plansForStep) this.plans.set(step, (plansForStep = new Map()));
    let plan = plansForStep.get(key);
    if (!plan) {
      plan = { forward: [], backward: [] };
      const backwards: Dispatch[][] = [];
      this.layers.forEach((layer, i) => {
        if (layer.isView) return;
        const built = layer.build({
          gpu: this.gpu,
          index: i,
          rows,
          mode,
          inputShape: this.inputOf(i),
          outputShape: this.shapes[i]!,
          input: i === 0 ? this.input : this.activations[i - 1]!,
          output: this.activations[i]!,
          dOutput: mode === 'train' ? this.gradients[i]! : null,
          // Layers before the first computing one are views of the input: no gradient flows there unless asked.
          dInput: mode === 'train' ? (i > this.firstCompute ? this.gradients[i - 1]! : this.inputGrad) : null,
          params: this.views(this.params, this.paramEntries, i),
          grads: this.views(this.grads, this.paramEntries, i),
          state: this.views(this.state, this.stateEntries, i),
          step,
          fused: this.fused[i]!,
        });
        plan!.forward.push(...built.forward);
        backwards.push(built.backward);
      });
      plan.backward = backwards.reverse().flat();
      plansForStep.set(key, plan);
    }
    return plan;
  }

  /** Every parameter and running statistic by PyTorch-style name (one readback of each arena). */
  async exportTensors(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    const read = async (buffer: GPUBuffer, entries: ArenaEntry[], floats: number) => {
      if (entries.length === 0) return;
      const all = new Float32Array(await this.gpu.read(buffer, floats * 4));
      for (const e of entries) tensors.set(e.name, { shape: [...e.spec.shape], data: all.slice(e.offset, e.offset + e.size) });
    };
    await read(this.params, this.paramEntries, this.paramFloats);
    await read(this.state, this.stateEntries, this.stateFloats);
    return tensors;
  }

  /** Writes named tensors into the arenas; shapes must already have been checked by the caller. */
  importTensors(tensors: Map<string, Float32Array>): void {
    const write = (buffer: GPUBuffer, entries: ArenaEntry[]) => {
      for (const e of entries) {
        const data = tensors.get(e.name);
        if (data) this.gpu.device.queue.writeBuffer(buffer, e.offset * 4, data as Float32Array<ArrayBuffer>);
      }
    };
    write(this.params, this.paramEntries);
    write(this.state, this.stateEntries);
  }

  private initialise(rng: Rng): void {
    const fill = (buffer: GPUBuffer, entries: ArenaEntry[], floats: number) => {
      const values = new Float32Array(Math.max(1, floats));
      for (const e of entries) values.set(e.spec.init(rng), e.offset);
      this.gpu.device.queue.writeBuffer(buffer, 0, values);
    };
    fill(this.params, this.paramEntries, this.paramFloats);
    fill(this.state, this.stateEntries, this.stateFloats);
  }

  private inputOf(i: number): Shape {
    return i === 0 ? this.inputShape : this.shapes[i - 1]!;
  }

  private activation(label: string, shape: Shape): Tensor {
    return this.batch(label, shape, 'f32');
  }

  /** A buffer of `capacity` rows of `shape` in `format`. */
  private batch(label: string, shape: Shape, format: TensorFormat): Tensor {
    const size = this.capacity * product(shape);
    return { buffer: this.gpu.buffers.create(label, tensorBytes(format, size), this.usage), offset: 0, size, shape, format };
  }

  private views(buffer: GPUBuffer, entries: ArenaEntry[], layer: number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const e of entries) if (e.layer === layer) out[e.spec.name] = { buffer, offset: e.offset * 4, size: e.size, shape: e.spec.shape, format: 'f32' };
    return out;
  }
}

/**
 * Fusion: a layer whose kernels can (`fusesActivations`: dense, conv2d) applies the activation that follows
 * it as it stores its output, and the derivative of the activation that produced its input (through views
 * such as flatten) as it stores its input gradient. Each saves an elementwise pass over a batch of
 * activations, a dispatch that reads and writes them all: 4 of the MLP step's 19 dispatches. The
 * activation layer then records no dispatch for that pass. `enabled` false keeps every activation's own
 * kernels (tests compare the two).
 */
function fusion(layers: readonly Layer[], inputOf: (i: number) => Shape, target: Target, enabled: boolean): BuildArgs['fused'][] {
  const fused: Mutable<BuildArgs['fused']>[] = layers.map(() => ({ ...NOTHING_FUSED }));
  if (!enabled) return fused;
  layers.forEach((layer, i) => {
    if (!layer.fusesActivations?.(inputOf(i), target)) return;
    const next = layers[i + 1]?.activation;
    if (next) {
      fused[i]!.outputActivation = next;
      fused[i + 1]!.forwardDone = true;
    }
    let producer = i - 1;
    while (producer >= 0 && layers[producer]!.isView) producer--;
    const previous = layers[producer]?.activation;
    if (previous) {
      fused[i]!.inputActivation = previous;
      fused[producer]!.backwardDone = true;
    }
  });
  return fused;
}

/** Output shape of every layer; the first one that does not fit throws a ShapeError naming it. */
export function inferShapes(inputShape: Shape, layers: readonly Layer[]): Shape[] {
  const shapes: Shape[] = [];
  let shape = inputShape;
  layers.forEach((layer, i) => {
    shape = layer.outputShape(shape, i);
    if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`layer ${i} (${layer.describe()}) gives output shape ${formatShape(shape)}: every size must be ≥ 1`);
    }
    shapes.push(shape);
  });
  return shapes;
}

function layout(specs: { layer: number; spec: ParamSpec }[], align: number): [ArenaEntry[], number] {
  let offset = 0;
  const entries = specs.map(({ layer, spec }) => {
    const size = product(spec.shape);
    const entry = { name: `${layer}.${spec.name}`, layer, spec, offset, size };
    offset += Math.ceil(size / align) * align;
    return entry;
  });
  return [entries, offset];
}
