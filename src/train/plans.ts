/**
 * A run's recorded steps: the training step and the evaluation steps of every batch size it meets, each
 * recorded once, and which kernels run each optimizer step. With a quick start (quick-start.ts) there
 * are two plans of every step: `quick` (rung 0, the same weights through a second model over the same
 * arenas) for optimizer steps 1 … quickSteps and the evaluations before step quickSteps + 1, and `fast`
 * (the target's kernels) after. Pipelines are made before the dispatches that need them are submitted,
 * all at once and in parallel; the fast plan's in the background once the first steps are on their way.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { CLASSES } from '../data/mnist.ts';
import { Sequential } from '../graph/sequential.ts';
import { binding } from '../graph/tensor.ts';
import type { DeviceData } from '../engine/device-data.ts';
import { softmaxCrossEntropy } from '../engine/loss.ts';
import { gatherModelBatch, trainStepDispatches, type TrainStepBuffers } from '../engine/train-step.ts';
import { buildLayers } from '../layers/build.ts';
import { optimizerSpec, type TrainConfig } from './config.ts';
import { quickStartApplies, switchStep } from './quick-start.ts';

export type PlanKind = 'quick' | 'fast';

/** Where an evaluation writes: its sample order and set, its totals, and the probabilities and confusion counts. */
export interface EvalTarget {
  set: DeviceData['train'];
  order: GPUBuffer;
  totals: GPUBuffer;
  probs: GPUBuffer;
  confusion: GPUBuffer;
}

export class StepPlans {
  /** The last optimizer step trained on the quick plan; 0 for none (no quick start, or nothing to wait for). */
  quickSteps = 0;
  /** Of the set-up: waiting for the pipelines of the run's first submit (ms). */
  compileMs = 0;
  /** When the fast plan's pipelines were all made, in ms since the run began; null until then, or when the run had no quick start. */
  fastReadyMs: number | null = null;
  /** The same weights on rung 0 of every op, or null where quick start does not apply. */
  private readonly quickModel: Sequential | null;
  private readonly plans = new Map<string, Dispatch[]>();
  private backgroundStarted = false;
  private firstCompiled = false;

  constructor(
    private readonly gpu: Gpu,
    private readonly data: DeviceData,
    private readonly config: TrainConfig,
    private readonly model: Sequential,
    private readonly buffers: TrainStepBuffers,
    purpose: 'train' | 'evaluate',
  ) {
    this.quickModel = purpose === 'train' && quickStartApplies(gpu.target)
      ? new Sequential(gpu.withTarget('plain'), config.inputShape, buildLayers(config.layers), config.batchSize, config.seed, { inputFormat: 'u8x4', arenasOf: model })
      : null;
  }

  /** Which plan trains optimizer step `t`, and evaluates after step `t − 1`. */
  kindAt(t: number): PlanKind {
    return this.quickModel !== null && t <= this.quickSteps ? 'quick' : 'fast';
  }

  /** Fixes the switch step from the full-size training plans (call once both are recorded). */
  planSwitch(): void {
    if (!this.quickModel) return;
    const B = this.config.batchSize;
    this.quickSteps = switchStep(this.train(B, 'fast'), this.train(B, 'quick'), this.gpu.facts.cores);
  }

  /** gather → forward → loss → backward → optimizer, for a batch of `rows`. Recorded once per size and kind. */
  train(rows: number, kind: PlanKind): Dispatch[] {
    return this.once(`train|${rows}|${kind}`, () => {
      const [gpu, model] = this.of(kind);
      return trainStepDispatches(gpu, { model, rows, set: this.data.train, pixels: this.data.pixels, buffers: this.buffers, optimizer: optimizerSpec(this.config) });
    });
  }

  /** gather → forward in eval mode → loss, correct count, probabilities and confusion, for a batch of `rows`. */
  evaluate(which: 'val' | 'test', rows: number, kind: PlanKind, into: EvalTarget): Dispatch[] {
    return this.once(`${which}|${rows}|${kind}`, () => {
      const [gpu, model] = this.of(kind);
      const { step, batchLabels } = this.buffers;
      return [
        gatherModelBatch(gpu, { model, set: into.set, order: into.order, batchLabels, rows, pixels: this.data.pixels, step }),
        ...model.plan(rows, 'eval', step).forward,
        softmaxCrossEntropy(gpu, { mode: 'eval', logits: binding(model.output), labels: batchLabels, totals: into.totals, probs: into.probs, confusion: into.confusion, step, rows, classes: CLASSES }),
      ];
    });
  }

  /** Whether a quick plan exists to record. */
  get hasQuick(): boolean {
    return this.quickModel !== null;
  }

  /** Every recorded dispatch. */
  *dispatches(kind?: PlanKind): Iterable<Dispatch> {
    for (const [key, dispatches] of this.plans) if (!kind || key.endsWith(`|${kind}`)) yield* dispatches;
  }

  /**
   * Makes the pipelines of `dispatches` before they are submitted: all at once, in parallel. The time
   * the run's first submit waits is its compile time (`compileMs`).
   */
  async compile(dispatches: Iterable<Dispatch>): Promise<void> {
    const started = performance.now();
    await this.gpu.compile(dispatches);
    if (!this.firstCompiled) this.compileMs += performance.now() - started;
  }

  /** The run's first submit is on its way: later waits for pipelines are not its compile time. */
  firstSubmitted(): void {
    this.firstCompiled = true;
  }

  /**
   * Once, when the run's first step is done: starts compiling the fast plan while the other quick steps train, the full-size training step first,
   * then the rest (evaluation, a smaller last batch). Nothing awaits this chain; a step that needs one of
   * its pipelines waits through `compile`, which joins the compile in flight. A failure is kept in
   * gpu.errors, and that `compile` rejects with it.
   */
  compileFastInBackground(startedAt: number): void {
    if (this.quickSteps === 0 || this.backgroundStarted) return;
    this.backgroundStarted = true;
    this.gpu
      .compile(this.train(this.config.batchSize, 'fast'))
      .then(() => {
        this.fastReadyMs = performance.now() - startedAt;
        return this.gpu.compile(this.dispatches('fast'));
      })
      .catch(() => undefined);
  }

  private of(kind: PlanKind): [Gpu, Sequential] {
    return kind === 'quick' && this.quickModel ? [this.gpu.withTarget('plain'), this.quickModel] : [this.gpu, this.model];
  }

  private once(key: string, record: () => Dispatch[]): Dispatch[] {
    let dispatches = this.plans.get(key);
    if (!dispatches) {
      dispatches = record();
      this.plans.set(key, dispatches);
    }
    return dispatches;
  }
}
