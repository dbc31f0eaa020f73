import type { ValidationPass } from './mnist.ts';
import type { BenchResult, EpochTime, MeasureOptions } from './workloads.ts';

/** One peer's training setup for one workload and batch size, built by its page and stepped by `measure`. */
export interface StepTrainer {
  /** Training steps in one epoch (full batches of the shuffled training split). */
  stepsPerEpoch: number;
  /** Batches of a whole validation pass at the training batch size (the last holds the remainder). */
  validationBatchCount: number;
  /** Images in the validation split. */
  validationImages: number;
  /** Starts a fresh epoch: a new shuffle, from its first batch. */
  startEpoch(): void;
  /**
   * Issues one training step (input gathered by the engine's own path, forward, backward, Adam) on the
   * epoch's next batch, without reading anything back.
   */
  step(): void | Promise<void>;
  /** Issues k steps as one call, where the peer's API trains on several batches at once (tfjs `model.fit`). */
  steps?(k: number): Promise<void>;
  /** Resolves once every issued step has finished on the device (a readback or queue fence). */
  sync(): Promise<void>;
  /** The loss the last step computed (a readback; never inside a timed group). */
  loss(): Promise<number>;
  /** Forward over the validation batches of `pass` at the training batch size; mean loss and accuracy over its images, read back once. */
  validate(pass: ValidationPass): Promise<ValidationScore>;
  dispose(): void;
}

/** What `measure` needs of the options: the epoch budget is `measureEpoch`'s alone. */
export type StepOptions = Pick<MeasureOptions, 'warmup' | 'steps' | 'budgetS'>;

export type Measurement = Pick<
  BenchResult,
  'msPerStep' | 'meanMsPerStep' | 'samplesPerSec' | 'steps' | 'stepsPerGroup' | 'capped' | 'warmupMs' | 'lossFirst' | 'lossLast'
>;

/** Issues k steps: as one call where the engine trains on several batches at once, else one by one. */
function issuer(trainer: StepTrainer): (k: number) => Promise<void> {
  return async (k) => {
    if (trainer.steps) return trainer.steps(k);
    for (let j = 0; j < k; j++) await trainer.step();
  };
}

/** What one validation batch left on the device, read back only after every batch was issued. */
export interface ValidationOutput {
  labels: Uint8Array;
  lossSum(): Promise<number>;
  predicted(): Promise<ArrayLike<number>>;
}

/** What a validation pass read back: mean loss and accuracy over the `images` it ran. */
export interface ValidationScore {
  loss: number;
  accuracy: number;
  images: number;
}

/** Mean loss and accuracy over the batches of a validation pass. */
export async function validationScore(outputs: ValidationOutput[]): Promise<ValidationScore> {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (const o of outputs) {
    lossSum += await o.lossSum();
    const predicted = await o.predicted();
    o.labels.forEach((label, i) => (correct += Number(predicted[i] === label)));
    count += o.labels.length;
  }
  return { loss: lossSum / count, accuracy: correct / count, images: count };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Times training the way it runs for real: steps are issued back to back and the device is synced
 * only at the end of each group of k steps, so the GPU work is inside the wall time but no
 * per-step readback is. ms/step is the median over groups of (group time / k).
 */
export async function measure(trainer: StepTrainer, batch: number, options: StepOptions): Promise<Measurement> {
  const issue = issuer(trainer);
  const warmupMs: number[] = [];
  let lossFirst = NaN;
  for (let i = 0; i < Math.max(1, options.warmup); i++) {
    const start = performance.now();
    await issue(1);
    await trainer.sync();
    warmupMs.push(performance.now() - start);
    if (i === 0) lossFirst = await trainer.loss();
  }

  // The last warm-up step estimates the cost; a slow peer gets fewer timed steps (at least 3).
  const estimate = warmupMs[warmupMs.length - 1]!;
  const affordable = Math.max(3, Math.floor((options.budgetS * 1000) / Math.max(estimate, 1e-3)));
  const wanted = Math.min(options.steps, affordable);
  const perGroup = Math.max(1, Math.floor(wanted / 5));
  const groups = Math.max(1, Math.floor(wanted / perGroup));

  const groupMs: number[] = [];
  for (let g = 0; g < groups; g++) {
    const start = performance.now();
    await issue(perGroup);
    await trainer.sync();
    groupMs.push((performance.now() - start) / perGroup);
  }
  const msPerStep = median(groupMs);
  const steps = groups * perGroup;
  return {
    msPerStep,
    meanMsPerStep: groupMs.reduce((a, b) => a + b, 0) / groups,
    samplesPerSec: (batch * 1000) / msPerStep,
    steps,
    stepsPerGroup: perGroup,
    capped: steps < options.steps,
    warmupMs,
    lossFirst,
    lossLast: await trainer.loss(),
  };
}

/** Groups a whole epoch is issued in, each ending in a device sync (our trainer splits an epoch into 20 chunks too). */
const EPOCH_GROUPS = 20;

/**
 * The validation pass to time, given one batch's time `batchMs`: the whole pass where it fits
 * `budgetS`, else as many of its first batches as do (at least one), to be scaled up by images.
 */
export function validationPassFor(batchMs: number, budgetS: number, batches: number): ValidationPass {
  const affordable = Math.floor((budgetS * 1000) / Math.max(batchMs, 1e-3));
  return affordable >= batches ? 'all' : { first: Math.max(1, affordable) };
}

/**
 * Seconds per epoch from `msPerStep` (measure's figure). A validation pass is warmed up (its first and
 * last batch, so every shape is compiled) and its first batch timed; then the whole pass is timed, or
 * where that would exceed `options.validationBudgetS`, its first batches, scaled to the whole split by
 * images. The projection is stepsPerEpoch × msPerStep + that pass. When the projection is within
 * `options.epochBudgetS`, a whole fresh epoch and its whole validation pass run as well, timed end to end.
 */
export async function measureEpoch(trainer: StepTrainer, msPerStep: number, options: MeasureOptions): Promise<EpochTime> {
  await trainer.validate('warm-up');
  let start = performance.now();
  await trainer.validate({ first: 1 });
  const pass = validationPassFor(performance.now() - start, options.validationBudgetS, trainer.validationBatchCount);
  start = performance.now();
  const validation = await trainer.validate(pass);
  const validationMs = ((performance.now() - start) * trainer.validationImages) / validation.images;
  const stepsPerEpoch = trainer.stepsPerEpoch;
  const projectedS = (stepsPerEpoch * msPerStep + validationMs) / 1000;
  const epoch: EpochTime = {
    stepsPerEpoch,
    validationMs,
    validationTimedImages: validation.images,
    validationImages: trainer.validationImages,
    validationLoss: validation.loss,
    validationAccuracy: validation.accuracy,
    projectedS,
  };
  if (projectedS > options.epochBudgetS) return { ...epoch, notRun: `projected ${projectedS.toFixed(0)} s > --epoch-budget ${options.epochBudgetS} s` };

  const issue = issuer(trainer);
  const perGroup = Math.ceil(stepsPerEpoch / EPOCH_GROUPS);
  start = performance.now();
  trainer.startEpoch();
  for (let done = 0; done < stepsPerEpoch; done += perGroup) {
    await issue(Math.min(perGroup, stepsPerEpoch - done));
    await trainer.sync();
  }
  await trainer.validate('all');
  return { ...epoch, measuredS: (performance.now() - start) / 1000 };
}
