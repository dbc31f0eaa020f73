/**
 * A run's step program: the dispatches of each batch size the run meets, recorded once; the step table,
 * whose entries the encoder copies into the Step uniform before each step; and an epoch's submission in
 * chunks, paced so that the GPU stays busy while pause and stop still act within the epoch.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { writeAligned } from '../gpu/buffers.ts';
import { encode, type Dispatch } from '../gpu/kernel.ts';
import { CLASSES } from '../data/mnist.ts';
import { epochOrder, type Splits } from '../data/split.ts';
import type { Sequential } from '../graph/sequential.ts';
import { binding } from '../graph/tensor.ts';
import { yieldToEventLoop } from '../yield.ts';
import type { DeviceData } from '../engine/device-data.ts';
import { createTotals, readTotals, softmaxCrossEntropy, type Totals } from '../engine/loss.ts';
import { packSteps, stepSeed, STEP_BYTES, STEP_STRIDE, type StepParams } from '../engine/step.ts';
import { createTrainStepBuffers, gatherModelBatch, trainStepDispatches, type TrainStepBuffers } from '../engine/train-step.ts';
import { optimizerSpec, type TrainConfig } from './config.ts';
import type { Throughput } from './result.ts';

export interface Progress {
  epoch: number;
  epochs: number;
  /** Training steps of this epoch finished on the GPU, of `steps`. */
  step: number;
  steps: number;
  /** Training samples per second in this epoch, leaving out the run's first chunk (pipeline compilation); null until measurable. */
  samplesPerSecond: number | null;
  /** Running mean loss / accuracy of this epoch so far (only when `logEvery` > 0). */
  loss?: number;
  accuracy?: number;
}

/** What an epoch's submission tells its caller, and asks it between submissions. */
export interface EpochHooks {
  onProgress?(progress: Progress): void;
  /** Asked between submissions; resolve false to stop (the run keeps what it has). Pausing = not resolving yet. */
  shouldContinue?(): boolean | Promise<boolean>;
}

/** One encoded batch: which step-table entry to copy into the step uniform, and the dispatches. */
interface EncodedStep {
  table: number;
  dispatches: Dispatch[];
}

export class StepProgram {
  /** The training step's Step uniform, order, batch labels, totals, first bad step and moments; eval steps share the uniform and labels. */
  readonly buffers: TrainStepBuffers;
  /** Batches per epoch of each set. */
  readonly steps: { train: number; val: number; test: number };
  private readonly table: GPUBuffer;
  private readonly valOrder: GPUBuffer;
  private readonly totals: { train: GPUBuffer; val: GPUBuffer; test: GPUBuffer };
  private readonly probs: GPUBuffer;
  private readonly confusion: GPUBuffer;
  private readonly trainSteps = new Map<number, Dispatch[]>();
  private readonly evalSteps = new Map<string, Dispatch[]>();
  private submittedSteps = 0;
  /** When train() began building this run; set-up lasts until its first chunk of steps is done. */
  startedAt = 0;
  private setupMs: number | null = null;
  /** Training after the run's first chunk: wall-clock ms, samples and steps (not checkpointed: a resumed run compiles again). */
  private readonly steady = { ms: 0, samples: 0, steps: 0 };

  constructor(
    private readonly gpu: Gpu,
    private readonly data: DeviceData,
    private readonly config: TrainConfig,
    private readonly splits: Splits,
    private readonly model: Sequential,
  ) {
    const B = config.batchSize;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const make = (label: string, bytes: number, usage = storage) => gpu.buffers.create(label, bytes, usage);
    this.steps = {
      train: Math.ceil(splits.train.length / B),
      val: Math.ceil(splits.val.length / B),
      test: Math.ceil(data.test.count / B),
    };
    this.buffers = createTrainStepBuffers(gpu, { model, optimizer: optimizerSpec(config), order: make('train.order', splits.train.length * 4), label: 'train' });
    this.table = make('step.table', (this.steps.train + this.steps.val + this.steps.test) * STEP_STRIDE, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.valOrder = gpu.buffers.upload('val.order', splits.val.length > 0 ? splits.val : new Uint32Array(1));
    this.totals = { train: this.buffers.totals, val: createTotals(gpu, 'totals.val'), test: createTotals(gpu, 'totals.test') };
    this.probs = make('probs', Math.max(splits.val.length, data.test.count) * CLASSES * 4);
    this.confusion = make('confusion', CLASSES * CLASSES * 4);
  }

  /**
   * Records the steps of every batch size (a smaller last batch is a plan of its own), one per task:
   * creating all their pipelines and bind groups at once holds a page's main thread too long on
   * SwiftShader. Recording stops across the yields, so buffers made meanwhile (the demo's
   * predictions) are not this run's; the run's go into `owned`. Evaluating a checkpoint needs no training step.
   */
  async record(purpose: 'train' | 'evaluate', owned: GPUBuffer[]): Promise<void> {
    const B = this.config.batchSize;
    const steps = [
      ...(purpose === 'train' ? batchSizes(this.splits.train.length, B) : []).map((rows) => () => this.trainStep(rows)),
      ...batchSizes(this.splits.val.length, B).map((rows) => () => this.evalStep('val', rows)),
      ...batchSizes(this.data.test.count, B).map((rows) => () => this.evalStep('test', rows)),
    ];
    for (const record of steps) {
      await yieldToEventLoop();
      const stopRecording = this.gpu.buffers.record();
      try {
        record();
      } finally {
        owned.push(...stopRecording());
      }
    }
  }

  /** Every recorded dispatch, for the workgroup-limit check and the kernels a run reports. */
  *dispatches(): Iterable<Dispatch> {
    for (const steps of [this.trainSteps.values(), this.evalSteps.values()]) for (const dispatches of steps) yield* dispatches;
  }

  /**
   * Encodes and submits one epoch of training steps (optimizer steps `firstStep` on) in chunks; resolves
   * true if asked to stop. `destroyDeviceAfterSteps` is the device-loss tests' fault.
   */
  async trainEpoch(epoch: number, lr: number, firstStep: number, hooks: EpochHooks, destroyDeviceAfterSteps?: number): Promise<boolean> {
    const c = this.config;
    const B = c.batchSize;
    const n = this.splits.train.length;
    writeAligned(this.gpu.device, this.buffers.order, 0, epochOrder(this.splits.train, c.seed, epoch));
    const table: StepParams[] = [];
    for (let s = 0; s < this.steps.train; s++) table.push({ batchStart: s * B, t: firstStep + s, seed: stepSeed(c.seed, firstStep + s), lr });
    this.gpu.device.queue.writeBuffer(this.table, 0, packSteps(table));

    const chunk = c.logEvery > 0 ? c.logEvery : Math.max(1, Math.ceil(this.steps.train / 20));
    const inFlight: Promise<unknown>[] = [];
    // The steady clock of this epoch: from its start, or in the run's first epoch from the end of the first chunk.
    let steadyFrom: number | null = this.setupMs === null ? null : performance.now();
    let steadyStep = 0;
    let lastDone = steadyFrom;
    for (let first = 0; first < this.steps.train; first += chunk) {
      if (hooks.shouldContinue && !(await hooks.shouldContinue())) return true;
      this.gpu.assertAlive();
      const last = Math.min(first + chunk, this.steps.train);
      const encoder = this.gpu.device.createCommandEncoder({ label: `epoch ${epoch} steps ${first}–${last}` });
      if (first === 0) encoder.clearBuffer(this.totals.train);
      const steps: EncodedStep[] = [];
      for (let s = first; s < last; s++) steps.push({ table: s, dispatches: this.trainStep(Math.min(B, n - s * B)) });
      this.encodeSteps(encoder, steps);
      this.gpu.device.queue.submit([encoder.finish()]);
      this.submittedSteps += last - first;
      if (destroyDeviceAfterSteps !== undefined && this.submittedSteps >= destroyDeviceAfterSteps && !this.gpu.lostReason) this.gpu.device.destroy();
      const seen = Math.min(last * B, n);
      const done = c.logEvery > 0 ? this.trainTotals() : this.gpu.device.queue.onSubmittedWorkDone().then(() => null);
      inFlight.push(
        done.then((totals) => {
          const now = performance.now();
          if (steadyFrom === null) {
            this.setupMs = now - this.startedAt;
            steadyFrom = now;
            steadyStep = last;
          }
          lastDone = now;
          const steadySamples = seen - Math.min(steadyStep * B, n);
          hooks.onProgress?.({
            epoch, epochs: c.epochs, step: last, steps: this.steps.train,
            samplesPerSecond: steadySamples > 0 && now > steadyFrom ? steadySamples / ((now - steadyFrom) / 1000) : null,
            ...(totals ? { loss: totals.lossSum / seen, accuracy: totals.correct / seen } : {}),
          });
        }),
      );
      // Two chunks in flight keep the GPU busy while letting pause/stop act within an epoch.
      if (inFlight.length >= 2) await inFlight[inFlight.length - 2];
    }
    await Promise.all(inFlight);
    await this.gpu.device.queue.onSubmittedWorkDone();
    if (steadyFrom !== null && lastDone !== null && this.steps.train > steadyStep) {
      this.steady.ms += lastDone - steadyFrom;
      this.steady.samples += n - Math.min(steadyStep * B, n);
      this.steady.steps += this.steps.train - steadyStep;
    }
    return false;
  }

  /** The loss sum and correct count of the epoch's training steps so far. */
  trainTotals(): Promise<Totals> {
    return readTotals(this.gpu, this.totals.train);
  }

  /** The first optimizer step whose running loss was not finite (NO_BAD_STEP if none). */
  async firstBadStep(): Promise<number> {
    return new Uint32Array(await this.gpu.read(this.buffers.firstBad, 4))[0]!;
  }

  /** Forward over the validation or test set in eval mode; returns the loss sum and correct count. */
  async evaluate(which: 'val' | 'test'): Promise<Totals> {
    const B = this.config.batchSize;
    const count = which === 'val' ? this.splits.val.length : this.data.test.count;
    const tableBase = which === 'val' ? this.steps.train : this.steps.train + this.steps.val;
    const batches = which === 'val' ? this.steps.val : this.steps.test;
    const table: StepParams[] = Array.from({ length: batches }, (_, s) => ({ batchStart: s * B, t: 0, seed: 0, lr: 0 }));
    this.gpu.device.queue.writeBuffer(this.table, tableBase * STEP_STRIDE, packSteps(table));
    const encoder = this.gpu.device.createCommandEncoder({ label: `evaluate ${which}` });
    encoder.clearBuffer(this.totals[which]);
    encoder.clearBuffer(this.confusion);
    const steps: EncodedStep[] = [];
    for (let s = 0; s < batches; s++) steps.push({ table: tableBase + s, dispatches: this.evalStep(which, Math.min(B, count - s * B)) });
    this.encodeSteps(encoder, steps);
    this.gpu.device.queue.submit([encoder.finish()]);
    return readTotals(this.gpu, this.totals[which]);
  }

  /** The test set evaluated with the model's current weights: totals, softmax probabilities (count × 10) and confusion matrix. */
  async evaluateTest(): Promise<{ totals: Totals; probs: Float32Array; confusion: number[][] }> {
    const totals = await this.evaluate('test');
    const probs = new Float32Array(await this.gpu.read(this.probs, this.data.test.count * CLASSES * 4));
    const counts = new Uint32Array(await this.gpu.read(this.confusion));
    const confusion = Array.from({ length: CLASSES }, (_, r) => Array.from(counts.subarray(r * CLASSES, (r + 1) * CLASSES)));
    return { totals, probs, confusion };
  }

  /** Training speed after the run's first chunk of steps, and how long set-up took. */
  throughput(): Throughput {
    const { steady } = this;
    return {
      stepMs: steady.steps > 0 ? steady.ms / steady.steps : 0,
      samplesPerSecond: steady.ms > 0 ? steady.samples / (steady.ms / 1000) : 0,
      measuredSteps: steady.steps,
      setupMs: this.setupMs ?? 0,
    };
  }

  /** Per step: copy its parameters into the step uniform, then its dispatches in one compute pass. */
  private encodeSteps(encoder: GPUCommandEncoder, steps: EncodedStep[]): void {
    for (const step of steps) {
      encoder.copyBufferToBuffer(this.table, step.table * STEP_STRIDE, this.buffers.step, 0, STEP_BYTES);
      const pass = encoder.beginComputePass();
      encode(pass, step.dispatches);
      pass.end();
    }
  }

  /** gather → forward → loss → backward → optimizer, for a batch of `rows`. Recorded once per size. */
  private trainStep(rows: number): Dispatch[] {
    let dispatches = this.trainSteps.get(rows);
    if (!dispatches) {
      dispatches = trainStepDispatches(this.gpu, { model: this.model, rows, set: this.data.train, pixels: this.data.pixels, buffers: this.buffers, optimizer: optimizerSpec(this.config) });
      this.trainSteps.set(rows, dispatches);
    }
    return dispatches;
  }

  private evalStep(which: 'val' | 'test', rows: number): Dispatch[] {
    const key = `${which}|${rows}`;
    let dispatches = this.evalSteps.get(key);
    if (!dispatches) {
      const { gpu, model } = this;
      const { step, batchLabels } = this.buffers;
      const source = which === 'val' ? { set: this.data.train, order: this.valOrder } : { set: this.data.test, order: this.data.testOrder };
      dispatches = [
        gatherModelBatch(gpu, { model, set: source.set, order: source.order, batchLabels, rows, pixels: this.data.pixels, step }),
        ...model.plan(rows, 'eval', step).forward,
        softmaxCrossEntropy(gpu, { mode: 'eval', logits: binding(model.output), labels: batchLabels, totals: this.totals[which], probs: this.probs, confusion: this.confusion, step, rows, classes: CLASSES }),
      ];
      this.evalSteps.set(key, dispatches);
    }
    return dispatches;
  }
}

/** The distinct batch sizes of an epoch over `count` samples: full batches and a smaller last one. */
function batchSizes(count: number, batchSize: number): number[] {
  const sizes = count >= batchSize ? [batchSize] : [];
  if (count % batchSize > 0) sizes.push(count % batchSize);
  return sizes;
}
