/**
 * A run's step program: its recorded steps (plans.ts: every batch size, and the quick start's rung-0
 * plan until its switch step); the step table, whose entries the encoder copies into the Step uniform
 * before each step; and an epoch's submission in chunks, paced so that the GPU stays busy while pause
 * and stop still act within the epoch.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { writeAligned } from '../gpu/buffers.ts';
import { encode, type Dispatch } from '../gpu/kernel.ts';
import { CLASSES } from '../data/mnist.ts';
import { epochOrder, type Splits } from '../data/split.ts';
import type { Sequential } from '../graph/sequential.ts';
import { yieldToEventLoop } from '../yield.ts';
import type { DeviceData } from '../engine/device-data.ts';
import { createTotals, readTotals, type Totals } from '../engine/loss.ts';
import { packSteps, stepSeed, STEP_BYTES, STEP_STRIDE, type StepParams } from '../engine/step.ts';
import { createTrainStepBuffers, type TrainStepBuffers } from '../engine/train-step.ts';
import { optimizerSpec, type TrainConfig } from './config.ts';
import { StepPlans, type EvalTarget, type PlanKind } from './plans.ts';
import type { Throughput } from './result.ts';

export interface Progress {
  epoch: number;
  epochs: number;
  /** Training steps of this epoch finished on the GPU, of `steps`. */
  step: number;
  steps: number;
  /** Training samples per second in this epoch, leaving out the run's first chunk (pipeline compilation) and quick-start steps; null until measurable. */
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
  private readonly plans: StepPlans;
  private submittedSteps = 0;
  /** The optimizer step after the last epoch submitted: which plan validates it. */
  private nextStep = 1;
  /** When train() began building this run; set-up lasts until its first chunk of steps is done. */
  startedAt = 0;
  private setupMs: number | null = null;
  /** Training after the run's first chunk and its quick steps: wall-clock ms, samples and steps (not checkpointed: a resumed run compiles again). */
  private readonly steady = { ms: 0, samples: 0, steps: 0 };

  constructor(
    private readonly gpu: Gpu,
    private readonly data: DeviceData,
    private readonly config: TrainConfig,
    private readonly splits: Splits,
    model: Sequential,
    purpose: 'train' | 'evaluate',
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
    this.plans = new StepPlans(gpu, data, config, model, this.buffers, purpose);
  }

  /**
   * Records the steps of every batch size (a smaller last batch is a plan of its own), of each kind that
   * runs, one per task: recording a plan makes its bind groups and uniforms. Recording stops across the
   * yields, so buffers made meanwhile (the demo's predictions) are not this run's; the run's go into
   * `owned`. Evaluating a checkpoint needs no training step. Pipelines are made later, as steps are due.
   */
  async record(purpose: 'train' | 'evaluate', owned: GPUBuffer[]): Promise<void> {
    const B = this.config.batchSize;
    const trainSizes = purpose === 'train' ? batchSizes(this.splits.train.length, B) : [];
    const inTask = async (record: () => void) => {
      await yieldToEventLoop();
      const stopRecording = this.gpu.buffers.record();
      try {
        record();
      } finally {
        owned.push(...stopRecording());
      }
    };
    const kinds: PlanKind[] = this.plans.hasQuick && trainSizes.length > 0 ? ['fast', 'quick'] : ['fast'];
    for (const kind of kinds) for (const rows of trainSizes) await inTask(() => this.plans.train(rows, kind));
    if (trainSizes.length > 0) this.plans.planSwitch();
    // Validation runs the quick plan before the switch; the test report is always the target's kernels'.
    for (const kind of this.plans.quickSteps > 0 ? kinds : ['fast' as const]) {
      for (const rows of batchSizes(this.splits.val.length, B)) await inTask(() => this.evalStep('val', rows, kind));
    }
    for (const rows of batchSizes(this.data.test.count, B)) await inTask(() => this.evalStep('test', rows, 'fast'));
  }

  /** Every recorded dispatch, for the workgroup-limit check and the kernels a run reports. */
  dispatches(): Iterable<Dispatch> {
    return this.plans.dispatches();
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
    this.nextStep = firstStep + this.steps.train;
    const table: StepParams[] = [];
    for (let s = 0; s < this.steps.train; s++) table.push({ batchStart: s * B, t: firstStep + s, seed: stepSeed(c.seed, firstStep + s), lr });
    this.gpu.device.queue.writeBuffer(this.table, 0, packSteps(table));

    const chunk = c.logEvery > 0 ? c.logEvery : Math.max(1, Math.ceil(this.steps.train / 20));
    const { plans } = this;
    const inFlight: Promise<unknown>[] = [];
    // The steady clock of this epoch: from its start, or from the end of the run's first chunk and of its quick steps.
    let steadyFrom: number | null = this.setupMs === null || plans.kindAt(firstStep) === 'quick' ? null : performance.now();
    let steadyStep = 0;
    let lastDone = steadyFrom;
    for (let first = 0, last = 0; first < this.steps.train; first = last) {
      last = Math.min(first + chunk, this.steps.train);
      const kind = plans.kindAt(firstStep + first);
      // A chunk is all quick steps or none: a quick one ends at the switch.
      if (kind === 'quick') last = Math.min(last, plans.quickSteps - firstStep + 1);
      const steps: EncodedStep[] = [];
      for (let s = first; s < last; s++) steps.push({ table: s, dispatches: plans.train(Math.min(B, n - s * B), kind) });
      // Before asking to continue: a pause or stop during a long compile then acts as soon as it ends.
      await plans.compile(steps.flatMap((step) => step.dispatches));
      if (hooks.shouldContinue && !(await hooks.shouldContinue())) return true;
      this.gpu.assertAlive();
      const encoder = this.gpu.device.createCommandEncoder({ label: `epoch ${epoch} steps ${first}–${last}` });
      if (first === 0) encoder.clearBuffer(this.totals.train);
      this.encodeSteps(encoder, steps);
      this.gpu.device.queue.submit([encoder.finish()]);
      this.submittedSteps += last - first;
      plans.firstSubmitted();
      if (destroyDeviceAfterSteps !== undefined && this.submittedSteps >= destroyDeviceAfterSteps && !this.gpu.lostReason) this.gpu.device.destroy();
      const seen = Math.min(last * B, n);
      const done = c.logEvery > 0 ? this.trainTotals() : this.gpu.device.queue.onSubmittedWorkDone().then(() => null);
      inFlight.push(
        done.then((totals) => {
          // Once the first step is done, not when it is submitted: on a CPU adapter compiling takes the cores that step runs on.
          plans.compileFastInBackground(this.startedAt);
          const now = performance.now();
          this.setupMs ??= now - this.startedAt;
          if (steadyFrom === null && kind === 'fast') {
            steadyFrom = now;
            steadyStep = last;
          }
          lastDone = now;
          const steadySamples = seen - Math.min(steadyStep * B, n);
          hooks.onProgress?.({
            epoch, epochs: c.epochs, step: last, steps: this.steps.train,
            samplesPerSecond: steadyFrom !== null && steadySamples > 0 && now > steadyFrom ? steadySamples / ((now - steadyFrom) / 1000) : null,
            ...(totals ? { loss: totals.lossSum / seen, accuracy: totals.correct / seen } : {}),
          });
        }),
      );
      // Two chunks in flight keep the GPU busy while letting pause/stop act within an epoch; one, where a
      // chunk is a quick start's slow rung-0 step, so that a pause holds the run within a step.
      const ahead = kind === 'quick' ? 1 : 2;
      if (inFlight.length >= ahead) await inFlight[inFlight.length - ahead];
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
    // Validation before the switch runs the quick plan (its pipelines are made); the test report is the target's kernels', as a checkpoint's evaluation gives it.
    const kind = which === 'test' ? 'fast' : this.plans.kindAt(this.nextStep);
    for (let s = 0; s < batches; s++) steps.push({ table: tableBase + s, dispatches: this.evalStep(which, Math.min(B, count - s * B), kind) });
    await this.plans.compile(steps.flatMap((step) => step.dispatches));
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

  /** Training speed after the run's first chunk and its quick steps, and how long set-up and compiling took. */
  throughput(): Throughput {
    const { steady, plans } = this;
    return {
      stepMs: steady.steps > 0 ? steady.ms / steady.steps : 0,
      samplesPerSecond: steady.ms > 0 ? steady.samples / (steady.ms / 1000) : 0,
      measuredSteps: steady.steps,
      setupMs: this.setupMs ?? 0,
      compileMs: plans.compileMs,
      quickSteps: plans.quickSteps,
      fastReadyMs: plans.fastReadyMs,
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

  /** The eval step of `which` for a batch of `rows` on the `kind` plan, recorded once. */
  private evalStep(which: 'val' | 'test', rows: number, kind: PlanKind): Dispatch[] {
    const source = which === 'val' ? { set: this.data.train, order: this.valOrder } : { set: this.data.test, order: this.data.testOrder };
    const into: EvalTarget = { ...source, totals: this.totals[which], probs: this.probs, confusion: this.confusion };
    return this.plans.evaluate(which, rows, kind, into);
  }
}

/** The distinct batch sizes of an epoch over `count` samples: full batches and a smaller last one. */
function batchSizes(count: number, batchSize: number): number[] {
  const sizes = count >= batchSize ? [batchSize] : [];
  if (count % batchSize > 0) sizes.push(count % batchSize);
  return sizes;
}
