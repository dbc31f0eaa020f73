/**
 * Trains a model on MNIST: seeded split and shuffles, batches gathered on the GPU, whole epochs encoded
 * without waiting (step-program.ts), the epoch loop with StepLR and early stopping (loop.ts), then a full
 * evaluation on the 10,000 test images (result.ts). Resuming and checkpoints are checkpoint.ts's.
 */
import { check } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Mnist } from '../data/mnist.ts';
import { buildSplits, type Splits } from '../data/split.ts';
import type { Sequential } from '../graph/sequential.ts';
import type { DeviceData } from '../engine/device-data.ts';
import { buildLayers } from '../layers/build.ts';
import { yieldToEventLoop } from '../yield.ts';
import { applyCheckpoint, checkCheckpoint, checkResumeConfig, readCheckpoint, resumeRun } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { checkDispatches, checkRunFits } from './limits.ts';
import { failureReason, runEpochs, type RunOptions, type TrainHooks } from './loop.ts';
import { emptyReport, evaluateTestSet, evaluationResult, runResult, type EvaluationResult, type RunResult } from './result.ts';
import { Run } from './run.ts';
import { validateConfig } from './validate.ts';

/** What a finished (or interrupted) run leaves: the JSON result, and the trained model for predictions. */
export interface TrainOutcome {
  result: RunResult;
  model: Sequential;
  /** Softmax probabilities of the test set, test.count × 10 (empty if the run never got to test). */
  testProbs: Float32Array;
  /** Frees the model's and the run's GPU buffers (the uploaded dataset stays). */
  release(): void;
}

/**
 * Trains `config` on the uploaded data. A lost device, a non-finite loss or a stop request ends the run
 * early with `result.interrupted` set; only a refused config or checkpoint throws.
 */
export async function train(gpu: Gpu, data: DeviceData, mnist: Mnist, config: TrainConfig, hooks: TrainHooks = {}, options: RunOptions = {}): Promise<TrainOutcome> {
  const every = options.checkpointEvery ?? 0;
  check(Number.isInteger(every) && every >= 0, 'checkpoint every', every, 'a whole number of epochs ≥ 1 (0 = no checkpoints)');
  const resumeFile = options.resumeFile ?? 'resume checkpoint';
  const resumed = options.resume ? readCheckpoint(options.resume, resumeFile) : null;
  if (resumed) checkResumeConfig(resumed, config, resumeFile);
  const splits = planSplits(mnist.train.labels, config);
  const started = performance.now();
  const run = await createRun(gpu, data, config, splits);
  run.program.startedAt = started;
  try {
    if (resumed) resumeRun(run, resumed, resumeFile);
    const end = await runEpochs(run, hooks, options);
    const evaluated = !gpu.lostReason && run.loop.history.length > 0;
    let interrupted = end.interrupted;
    let test = emptyReport();
    let testProbs: Float32Array = new Float32Array(0);
    if (evaluated) {
      try {
        ({ test, testProbs } = await evaluateTestSet(run, mnist));
      } catch (error) {
        interrupted = await failureReason(gpu, error);
      }
    }
    const result = await runResult(run, mnist, { stoppedEarly: end.stoppedEarly, ...(interrupted ? { interrupted } : {}), test }, evaluated);
    return { result, model: run.model, testProbs, release: () => run.release() };
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
    checkCheckpoint(run.model, checkpoint, file);
    applyCheckpoint(run.model, checkpoint);
    const { test } = await evaluateTestSet(run, mnist);
    return evaluationResult(run, mnist, test);
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
  const run = new Run(gpu, data, config, splits, layers, purpose);
  try {
    await run.record(purpose);
    checkDispatches(gpu.limits.maxComputeWorkgroupsPerDimension, run.program.dispatches());
  } catch (error) {
    run.release();
    throw error;
  }
  return run;
}
