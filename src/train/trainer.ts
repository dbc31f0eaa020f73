import { check, CheckpointError, ConfigError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { writeAligned } from '../gpu/buffers.ts';
import { encode, type Dispatch } from '../gpu/kernel.ts';
import { buildSplits, epochOrder, classCounts, type Splits } from '../data/split.ts';
import type { Mnist } from '../data/mnist.ts';
import { buildLayers } from '../graph/build.ts';
import { Sequential } from '../graph/sequential.ts';
import { binding } from '../graph/tensor.ts';
import { testReport } from '../metrics/report.ts';
import { yieldToEventLoop } from '../yield.ts';
import { CLASSES, type TrainConfig } from './config.ts';
import { arenaTensors, checkCheckpoint, applyCheckpoint, checkTensors, encodeCheckpoint, readCheckpoint, tensorsArena, type Checkpoint, type NamedTensor, type TrainingState } from './checkpoint.ts';
import type { DeviceData } from './device-data.ts';
import { checkDispatches, checkRunFits } from './limits.ts';
import { createTotals, softmaxCrossEntropy, TOTALS_BYTES, type Totals } from './loss.ts';
import { kernelsRan, type EpochRecord, type KernelsRan, type RunResult, type TestReport } from './result.ts';
import { packSteps, stepSeed, STEP_BYTES, STEP_STRIDE, type StepParams } from './step.ts';
import { createTrainStepBuffers, gatherModelBatch, NO_BAD_STEP, optimizerSpec, trainStepDispatches, type TrainStepBuffers } from './train-step.ts';
import { validateConfig } from './validate.ts';

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

export interface TrainHooks {
  onEpoch?(record: EpochRecord): void;
  onProgress?(progress: Progress): void;
  /** Asked between submissions; resolve false to stop (the run keeps what it has). Pausing = not resolving yet. */
  shouldContinue?(): boolean | Promise<boolean>;
  /** A resumable checkpoint (safetensors bytes) after every `checkpointEvery` epochs (see RunOptions). */
  onCheckpoint?(bytes: Uint8Array, epoch: number): void | Promise<void>;
}

/** How a run is driven, beyond its config: checkpoints, resuming, and a test-only fault. */
export interface RunOptions {
  /** Hand a checkpoint to hooks.onCheckpoint every N finished epochs (0 = never). */
  checkpointEvery?: number;
  /** Bytes of a checkpoint from onCheckpoint: continue that run. The config must be the checkpoint's, epochs and logEvery aside. */
  resume?: Uint8Array;
  /** The resume file's name, for error messages. */
  resumeFile?: string;
  /** Test-only: destroys the device once this many training steps have been submitted (device-loss tests). */
  destroyDeviceAfterSteps?: number;
}

/** What a finished (or interrupted) run leaves: the JSON result, and the trained model for predictions. */
export interface TrainOutcome {
  result: RunResult;
  model: Sequential;
  /** Softmax probabilities of the test set, test.count × 10 (empty if the run never got to test). */
  testProbs: Float32Array;
  /** Frees the model's and the run's GPU buffers (the uploaded dataset stays). */
  release(): void;
}

/** What `npm run evaluate` writes: a checkpoint's test report, in the same shape as a run's `test`. */
export interface EvaluationResult {
  preset: string;
  config: TrainConfig;
  adapter: RunResult['adapter'];
  kernels: KernelsRan;
  data: { test: number; classCounts: { test: number[] } };
  test: TestReport;
}

/** One encoded batch: which step-table entry to copy into the step uniform, and the dispatches. */
interface EncodedStep {
  table: number;
  dispatches: Dispatch[];
}

/** PyTorch's names for the optimizer state in each moment arena. */
const MOMENT_NAMES = { adam: ['exp_avg', 'exp_avg_sq'], sgd: ['momentum_buffer'] } as const;

/**
 * Trains a model on MNIST: seeded split and shuffles, batches gathered on the GPU, whole epochs encoded
 * without waiting, loss/accuracy read back once per epoch (or every `logEvery` steps), StepLR,
 * early stopping with best-weights restore, then a full evaluation on the 10,000 test images.
 * A lost device, a non-finite loss or a stop request ends the run early with `result.interrupted` set.
 */
export async function train(gpu: Gpu, data: DeviceData, mnist: Mnist, config: TrainConfig, hooks: TrainHooks = {}, options: RunOptions = {}): Promise<TrainOutcome> {
  const every = options.checkpointEvery ?? 0;
  check(Number.isInteger(every) && every >= 0, 'checkpoint every', every, 'a whole number of epochs ≥ 1 (0 = no checkpoints)');
  const resumed = options.resume ? readCheckpoint(options.resume, options.resumeFile ?? 'resume checkpoint') : null;
  if (resumed) checkResumeConfig(resumed, config, options.resumeFile ?? 'resume checkpoint');
  const splits = planSplits(mnist.train.labels, config);
  const started = performance.now();
  const run = await createRun(gpu, data, config, splits);
  run.startedAt = started;
  try {
    if (resumed) run.resume(resumed, options.resumeFile ?? 'resume checkpoint');
    return await run.execute(mnist, hooks, options);
  } catch (error) {
    run.release();
    throw error;
  }
}

/** Evaluates a checkpoint (from saveCheckpoint or a training checkpoint) on the test set; frees everything after. */
export async function evaluateCheckpoint(gpu: Gpu, data: DeviceData, mnist: Mnist, bytes: Uint8Array, file = 'checkpoint'): Promise<EvaluationResult> {
  const checkpoint = readCheckpoint(bytes, file);
  const config = checkpoint.config;
  const run = await createRun(gpu, data, config, planSplits(mnist.train.labels, config), 'evaluate');
  try {
    run.load(checkpoint, file);
    const { test } = await run.testReport(mnist);
    return { preset: config.preset, config, adapter: gpu.adapter, kernels: kernelsRan(gpu.target, run.dispatches()), data: { test: data.test.count, classCounts: { test: testClassCounts(mnist) } }, test };
  } finally {
    run.release();
  }
}

/** Validates the config and builds its seeded train/val split; a batch larger than the training set is refused. */
export function planSplits(trainLabels: Uint8Array, config: TrainConfig): Splits {
  validateConfig(config);
  const splits = buildSplits(trainLabels, config);
  check(config.batchSize <= splits.train.length, 'batch size', config.batchSize, `at most the ${splits.train.length} training images of this split`);
  return splits;
}

/**
 * Refuses what the adapter cannot hold before allocating anything, then builds the run (over several
 * tasks, so a page that trains stays responsive) and checks its dispatches.
 */
async function createRun(gpu: Gpu, data: DeviceData, config: TrainConfig, splits: Splits, purpose: 'train' | 'evaluate' = 'train'): Promise<Run> {
  const layers = buildLayers(config.layers);
  checkRunFits(gpu.limits, {
    inputShape: config.inputShape, layers, batchSize: config.batchSize,
    trainCount: splits.train.length, valCount: splits.val.length, testCount: data.test.count,
  });
  await yieldToEventLoop();
  const run = new Run(gpu, data, config, splits, layers);
  try {
    await run.recordSteps(purpose);
    checkDispatches(gpu.limits.maxComputeWorkgroupsPerDimension, run.dispatches());
  } catch (error) {
    run.release();
    throw error;
  }
  return run;
}

/** A resumed run is the same run: every config field but epochs (to extend it) and logEvery must match. */
function checkResumeConfig(checkpoint: Checkpoint, config: TrainConfig, file: string): void {
  if (!checkpoint.training) {
    throw new CheckpointError(`${file}: has no training state (it holds a finished model, as --save writes): only a checkpoint written during training (--checkpoint-every) can be resumed; evaluate this one instead`);
  }
  const saved = checkpoint.config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (key === 'epochs' || key === 'logEvery') continue;
    if (JSON.stringify(value) !== JSON.stringify(saved[key])) {
      throw new ConfigError(`${key} ${JSON.stringify(value)} is not allowed when resuming ${file}: a resumed run keeps the checkpoint's ${JSON.stringify(saved[key])} (only epochs may change)`);
    }
  }
  check(config.epochs >= checkpoint.training.epoch, 'epochs', config.epochs, `at least the ${checkpoint.training.epoch} epochs ${file} has already trained`);
}

class Run {
  readonly model: Sequential;
  /** The training step's Step uniform, order, batch labels, totals, first bad step and moments; eval steps share the uniform and labels. */
  private readonly stepBuffers: TrainStepBuffers;
  private readonly stepTable: GPUBuffer;
  private readonly valOrder: GPUBuffer;
  private readonly totals: { train: GPUBuffer; val: GPUBuffer; test: GPUBuffer };
  private readonly probs: GPUBuffer;
  private readonly confusion: GPUBuffer;
  private readonly best: { params: GPUBuffer; state: GPUBuffer };
  /** Every buffer this run created (model, plans' uniforms, scratch), freed by release(). */
  private readonly owned: GPUBuffer[];
  private readonly steps: { train: number; val: number; test: number };
  /**
   * Where the loop stands: all a checkpoint needs besides the tensors. Shuffles and dropout seeds are
   * functions of (seed, epoch) and (seed, t), so the epoch counter and t are the RNG's position.
   */
  private readonly loop: TrainingState = { epoch: 0, optimizerStep: 0, history: [], bestEpoch: 0, bestScore: null, sinceBest: 0, trainMs: 0, trainSamples: 0 };
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
    layers: ReturnType<typeof buildLayers>,
  ) {
    const B = config.batchSize;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const make = (label: string, bytes: number, usage = storage) => gpu.buffers.create(label, bytes, usage);
    // Everything is allocated before training (plans by recordSteps), so the buffer count stays flat while training.
    const stopRecording = gpu.buffers.record();
    // The data set is bytes (images / 255): a first layer that can reads the batch as bytes (Sequential.inputBytes).
    this.model = new Sequential(gpu, config.inputShape, layers, B, config.seed, { inputBytes: true });
    this.steps = {
      train: Math.ceil(splits.train.length / B),
      val: Math.ceil(splits.val.length / B),
      test: Math.ceil(data.test.count / B),
    };
    this.stepBuffers = createTrainStepBuffers(gpu, { model: this.model, optimizer: optimizerSpec(config), order: make('train.order', splits.train.length * 4), label: 'train' });
    this.stepTable = make('step.table', (this.steps.train + this.steps.val + this.steps.test) * STEP_STRIDE, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.valOrder = (gpu.buffers.upload('val.order', splits.val.length > 0 ? splits.val : new Uint32Array(1)));
    this.totals = { train: this.stepBuffers.totals, val: createTotals(gpu, 'totals.val'), test: createTotals(gpu, 'totals.test') };
    this.probs = make('probs', Math.max(splits.val.length, data.test.count) * CLASSES * 4);
    this.confusion = make('confusion', CLASSES * CLASSES * 4);
    this.best = { params: make('best.params', this.model.paramFloats * 4), state: make('best.state', this.model.state.size) };
    this.owned = stopRecording();
  }

  /**
   * Records the steps of every batch size (a smaller last batch is a plan of its own), one per task:
   * creating all their pipelines and bind groups at once held a page's main thread for ~180 ms on
   * SwiftShader. Recording stops across the yields, so buffers made meanwhile (the demo's
   * predictions) are not this run's. Evaluating a checkpoint needs no training step.
   */
  async recordSteps(purpose: 'train' | 'evaluate'): Promise<void> {
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
        this.owned.push(...stopRecording());
      }
    }
  }

  /** Every recorded dispatch, for the workgroup-limit check. */
  *dispatches(): Iterable<Dispatch> {
    for (const steps of [this.trainSteps.values(), this.evalSteps.values()]) for (const dispatches of steps) yield* dispatches;
  }

  async execute(mnist: Mnist, hooks: TrainHooks, options: RunOptions): Promise<TrainOutcome> {
    const c = this.config;
    const loop = this.loop;
    let interrupted: string | undefined;
    let stoppedEarly = c.patience > 0 && loop.sinceBest >= c.patience;

    for (let epoch = loop.epoch + 1; epoch <= c.epochs && !interrupted && !stoppedEarly; epoch++) {
      const lr = c.stepSize > 0 ? c.lr * Math.pow(c.gamma, Math.floor((epoch - 1) / c.stepSize)) : c.lr;
      const started = performance.now();
      const firstStep = loop.optimizerStep + 1;
      try {
        if (await this.trainEpoch(epoch, lr, hooks, options)) {
          interrupted = 'stopped by the user';
          break;
        }
        const trainMs = performance.now() - started;
        const trainTotals = await this.readTotals(this.totals.train);
        if (!Number.isFinite(trainTotals.lossSum)) {
          interrupted = await this.nonFiniteLoss(trainTotals.lossSum, epoch, firstStep, lr);
          break;
        }
        const val = this.splits.val.length > 0 ? await this.evaluateSet('val') : null;
        const record: EpochRecord = {
          epoch,
          lr,
          trainLoss: trainTotals.lossSum / this.splits.train.length,
          trainAcc: trainTotals.correct / this.splits.train.length,
          valLoss: val ? val.lossSum / this.splits.val.length : null,
          valAcc: val ? val.correct / this.splits.val.length : null,
          ms: performance.now() - started,
        };
        if (record.valLoss !== null && !Number.isFinite(record.valLoss)) {
          interrupted = `validation loss became ${record.valLoss} after epoch ${epoch} (lr ${lr}) although every training batch's loss was finite: the last steps' updates overflowed the weights, the learning rate is probably too high; ${this.keptMessage(epoch)}`;
          break;
        }
        loop.trainMs += trainMs;
        loop.trainSamples += this.splits.train.length;
        loop.epoch = epoch;
        loop.history.push(record);
        hooks.onEpoch?.(record);
        const score = c.monitor === 'val_acc' ? -(record.valAcc ?? record.trainAcc) : (record.valLoss ?? record.trainLoss);
        if (loop.bestScore === null || score < loop.bestScore) {
          loop.bestScore = score;
          loop.bestEpoch = epoch;
          loop.sinceBest = 0;
          this.copyWeights('save');
        } else if (c.patience > 0 && ++loop.sinceBest >= c.patience) {
          stoppedEarly = true;
        }
        const every = options.checkpointEvery ?? 0;
        if (every > 0 && hooks.onCheckpoint && epoch % every === 0) await hooks.onCheckpoint(await this.checkpoint(), epoch);
      } catch (error) {
        interrupted = await this.failureReason(error);
      }
    }
    if (this.gpu.lostReason) interrupted = this.gpu.lostReason;
    const epochs = loop.history;
    const canEvaluate = !this.gpu.lostReason && epochs.length > 0;
    // The best epoch's weights are what early stopping promises, and what a NaN must not overwrite.
    if (canEvaluate && (c.patience > 0 || interrupted)) this.copyWeights('restore');

    let test: TestReport = emptyReport();
    let testProbs: Float32Array = new Float32Array(0);
    if (canEvaluate) {
      try {
        ({ test, testProbs } = await this.testReport(mnist));
      } catch (error) {
        interrupted = await this.failureReason(error);
      }
    }

    const result: RunResult = {
      preset: c.preset,
      config: c,
      adapter: this.gpu.adapter,
      kernels: kernelsRan(this.gpu.target, this.dispatches()),
      data: {
        train: this.splits.train.length,
        val: this.splits.val.length,
        test: this.data.test.count,
        classCounts: { train: this.splits.classCounts.train, val: this.splits.classCounts.val, test: testClassCounts(mnist) },
      },
      epochs,
      stoppedEarly,
      bestEpoch: loop.bestEpoch,
      test,
      model: this.model.summary(),
      filters: canEvaluate ? await firstConvFilters(this.model) : null,
      throughput: {
        stepMs: this.steady.steps > 0 ? this.steady.ms / this.steady.steps : 0,
        samplesPerSecond: this.steady.ms > 0 ? this.steady.samples / (this.steady.ms / 1000) : 0,
        measuredSteps: this.steady.steps,
        setupMs: this.setupMs ?? 0,
      },
      ...(interrupted ? { interrupted } : {}),
    };
    return { result, model: this.model, testProbs, release: () => this.release() };
  }

  /** Full test-set evaluation with the model's current weights: the report and the softmax probabilities. */
  async testReport(mnist: Mnist): Promise<{ test: TestReport; testProbs: Float32Array }> {
    const totals = await this.evaluateSet('test');
    const testProbs = new Float32Array(await this.gpu.read(this.probs, this.data.test.count * CLASSES * 4));
    const confusion = new Uint32Array(await this.gpu.read(this.confusion));
    const matrix = Array.from({ length: CLASSES }, (_, r) => Array.from(confusion.subarray(r * CLASSES, (r + 1) * CLASSES)));
    return { test: await testReport(matrix, totals.lossSum, testProbs, mnist.test.labels), testProbs };
  }

  /** Loads a checkpoint's model tensors (checked first, so a refused file changes nothing). */
  load(checkpoint: Checkpoint, file: string): void {
    checkCheckpoint(this.model, checkpoint, file);
    applyCheckpoint(this.model, checkpoint);
  }

  /** Continues a checkpointed run: weights, optimizer moments, best weights and the loop's counters; all checked before any write. */
  resume(checkpoint: Checkpoint, file: string): void {
    const model = this.model;
    checkCheckpoint(model, checkpoint, file);
    const moments = this.stepBuffers.moments;
    const names = MOMENT_NAMES[this.config.optimizer].slice(0, moments.length);
    const expected = new Map<string, number[]>();
    for (const name of names) for (const e of model.paramEntries) expected.set(`optimizer.${name}.${e.name}`, [...e.spec.shape]);
    for (const e of [...model.paramEntries, ...model.stateEntries]) expected.set(`best.${e.name}`, [...e.spec.shape]);
    checkTensors(expected, checkpoint.trainingTensors, file, 'resumed run');

    applyCheckpoint(model, checkpoint);
    const queue = this.gpu.device.queue;
    names.forEach((name, i) => queue.writeBuffer(moments[i]!, 0, tensorsArena(checkpoint.trainingTensors, model.paramEntries, `optimizer.${name}.`, model.paramFloats)));
    queue.writeBuffer(this.best.params, 0, tensorsArena(checkpoint.trainingTensors, model.paramEntries, 'best.', model.paramFloats));
    if (model.stateFloats > 0) queue.writeBuffer(this.best.state, 0, tensorsArena(checkpoint.trainingTensors, model.stateEntries, 'best.', model.stateFloats));
    Object.assign(this.loop, structuredClone(checkpoint.training!));
  }

  /** The model, the optimizer's moments, the best weights and the loop's counters, as safetensors bytes. */
  private async checkpoint(): Promise<Uint8Array> {
    const model = this.model;
    const tensors = new Map<string, NamedTensor>();
    const add = (more: Map<string, NamedTensor>) => more.forEach((t, name) => tensors.set(name, t));
    const read = async (buffer: GPUBuffer, floats: number) => new Float32Array(await this.gpu.read(buffer, floats * 4));
    const names = MOMENT_NAMES[this.config.optimizer];
    const moments = this.stepBuffers.moments;
    for (let i = 0; i < moments.length; i++) add(arenaTensors(await read(moments[i]!, model.paramFloats), model.paramEntries, `optimizer.${names[i]}.`));
    add(arenaTensors(await read(this.best.params, model.paramFloats), model.paramEntries, 'best.'));
    if (model.stateFloats > 0) add(arenaTensors(await read(this.best.state, model.stateFloats), model.stateEntries, 'best.'));
    return encodeCheckpoint(await model.exportTensors(), this.config, { state: structuredClone(this.loop), tensors });
  }

  /** Why a run stopped on a non-finite training loss, naming the first bad step the GPU recorded. */
  private async nonFiniteLoss(lossSum: number, epoch: number, firstStep: number, lr: number): Promise<string> {
    const t = new Uint32Array(await this.gpu.read(this.stepBuffers.firstBad, 4))[0]!;
    const where = t === NO_BAD_STEP ? `in epoch ${epoch}` : `at step ${t - firstStep + 1} of ${this.steps.train} in epoch ${epoch} (optimizer step ${t})`;
    return `loss became ${lossSum} ${where} with lr ${lr}: the learning rate is probably too high (the weights overflowed float32); ${this.keptMessage(epoch)}`;
  }

  private keptMessage(epoch: number): string {
    return this.loop.bestEpoch > 0
      ? `epoch ${epoch} and later are not reported, and the weights of epoch ${this.loop.bestEpoch} (the best before it) are kept`
      : 'no epoch finished with a finite loss, so there are no valid weights or test results';
  }

  /** A lost device rejects pending work before `lost` resolves: give it a moment to say why. */
  private async failureReason(error: unknown): Promise<string> {
    if (!this.gpu.lostReason) await Promise.race([this.gpu.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
    return this.gpu.lostReason ?? (error as Error).message;
  }

/** Encodes and submits one epoch of training steps in chunks; resolves true if asked to stop. */
  private async trainEpoch(epoch: number, lr: number, hooks: TrainHooks, options: RunOptions): Promise<boolean> {
    const c = this.config;
    const B = c.batchSize;
    const n = this.splits.train.length;
    writeAligned(this.gpu.device, this.stepBuffers.order, 0, epochOrder(this.splits.train, c.seed, epoch));
    const table: StepParams[] = [];
    for (let s = 0; s < this.steps.train; s++) {
      const t = ++this.loop.optimizerStep;
      table.push({ batchStart: s * B, t, seed: stepSeed(c.seed, t), lr });
    }
    this.gpu.device.queue.writeBuffer(this.stepTable, 0, packSteps(table));

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
      const destroyAfter = options.destroyDeviceAfterSteps;
      if (destroyAfter !== undefined && this.submittedSteps >= destroyAfter && !this.gpu.lostReason) this.gpu.device.destroy();
      const seen = Math.min(last * B, n);
      const done = c.logEvery > 0 ? this.readTotals(this.totals.train) : this.gpu.device.queue.onSubmittedWorkDone().then(() => null);
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

  /** Forward over the validation or test set in eval mode; returns the loss sum and correct count. */
  private async evaluateSet(which: 'val' | 'test'): Promise<Totals> {
    const B = this.config.batchSize;
    const count = which === 'val' ? this.splits.val.length : this.data.test.count;
    const tableBase = which === 'val' ? this.steps.train : this.steps.train + this.steps.val;
    const batches = which === 'val' ? this.steps.val : this.steps.test;
    const table: StepParams[] = Array.from({ length: batches }, (_, s) => ({ batchStart: s * B, t: 0, seed: 0, lr: 0 }));
    this.gpu.device.queue.writeBuffer(this.stepTable, tableBase * STEP_STRIDE, packSteps(table));
    const encoder = this.gpu.device.createCommandEncoder({ label: `evaluate ${which}` });
    encoder.clearBuffer(this.totals[which]);
    encoder.clearBuffer(this.confusion);
    const steps: EncodedStep[] = [];
    for (let s = 0; s < batches; s++) steps.push({ table: tableBase + s, dispatches: this.evalStep(which, Math.min(B, count - s * B)) });
    this.encodeSteps(encoder, steps);
    this.gpu.device.queue.submit([encoder.finish()]);
    return this.readTotals(this.totals[which]);
  }

  /** Per step: copy its parameters into the step uniform, then its dispatches in one compute pass. */
  private encodeSteps(encoder: GPUCommandEncoder, steps: EncodedStep[]): void {
    for (const step of steps) {
      encoder.copyBufferToBuffer(this.stepTable, step.table * STEP_STRIDE, this.stepBuffers.step, 0, STEP_BYTES);
      const pass = encoder.beginComputePass();
      encode(pass, step.dispatches);
      pass.end();
    }
  }

  private readonly trainSteps = new Map<number, Dispatch[]>();

  /** gather → forward → loss → backward → optimizer, for a batch of `rows`. Recorded once per size. */
  private trainStep(rows: number): Dispatch[] {
    let dispatches = this.trainSteps.get(rows);
    if (!dispatches) {
      dispatches = trainStepDispatches(this.gpu, { model: this.model, rows, set: this.data.train, pixels: this.data.pixels, buffers: this.stepBuffers, optimizer: optimizerSpec(this.config) });
      this.trainSteps.set(rows, dispatches);
    }
    return dispatches;
  }

  private readonly evalSteps = new Map<string, Dispatch[]>();

  private evalStep(which: 'val' | 'test', rows: number): Dispatch[] {
    const key = `${which}|${rows}`;
    let dispatches = this.evalSteps.get(key);
    if (!dispatches) {
      const { gpu, model } = this;
      const { step, batchLabels } = this.stepBuffers;
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

  private async readTotals(buffer: GPUBuffer): Promise<Totals> {
    const view = new DataView(await this.gpu.read(buffer, TOTALS_BYTES));
    return { lossSum: view.getFloat32(0, true), correct: view.getUint32(4, true) };
  }

  /** Keeps (or brings back) the best epoch's parameters and running statistics, GPU to GPU. */
  private copyWeights(direction: 'save' | 'restore'): void {
    const { model, best } = this;
    const encoder = this.gpu.device.createCommandEncoder({ label: `${direction} best weights` });
    const [params, state] = direction === 'save' ? [[model.params, best.params], [model.state, best.state]] : [[best.params, model.params], [best.state, model.state]];
    encoder.copyBufferToBuffer(params[0]!, 0, params[1]!, 0, model.params.size);
    encoder.copyBufferToBuffer(state[0]!, 0, state[1]!, 0, model.state.size);
    this.gpu.device.queue.submit([encoder.finish()]);
  }

  release(): void {
    for (const buffer of this.owned) this.gpu.buffers.release(buffer);
  }
}

/** The distinct batch sizes of an epoch over `count` samples: full batches and a smaller last one. */
function batchSizes(count: number, batchSize: number): number[] {
  const sizes = count >= batchSize ? [batchSize] : [];
  if (count % batchSize > 0) sizes.push(count % batchSize);
  return sizes;
}

function testClassCounts(mnist: Mnist): number[] {
  return classCounts(mnist.test.labels, Uint32Array.from({ length: mnist.test.count }, (_, i) => i));
}

/** The first conv layer's weight [out, in, k, k] as nested arrays (one readback of the parameter arena). */
async function firstConvFilters(model: Sequential): Promise<number[][][][] | null> {
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

function emptyReport(): TestReport {
  const zero = { precision: 0, recall: 0, f1: 0 };
  return { loss: NaN, accuracy: 0, confusion: [], perClass: [], macro: zero, weighted: zero, rocAuc: [], roc: [] };
}

