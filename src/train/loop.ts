/**
 * The epoch loop: StepLR's learning rate per epoch, one epoch of training steps, validation, early
 * stopping on the monitored score with the best epoch's weights kept on the GPU, and checkpoints. A
 * lost device, a non-finite loss or a stop request ends it early, with the reason worded for a person.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { NO_BAD_STEP } from '../engine/train-step.ts';
import type { EpochRecord } from './result.ts';
import { exportRun } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import type { Run } from './run.ts';
import type { EpochHooks } from './step-program.ts';

export interface TrainHooks extends EpochHooks {
  onEpoch?(record: EpochRecord): void;
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

/** How the loop ended: why early, if it was cut short, and whether early stopping ended it. */
export interface LoopEnd {
  interrupted?: string;
  stoppedEarly: boolean;
}

/** StepLR: the learning rate of `epoch` (1-based), multiplied by gamma every stepSize epochs. */
function learningRate(c: TrainConfig, epoch: number): number {
  return c.stepSize > 0 ? c.lr * Math.pow(c.gamma, Math.floor((epoch - 1) / c.stepSize)) : c.lr;
}

/**
 * Trains the epochs the run has left. Afterwards the model holds the best epoch's weights where early
 * stopping promises them or the run was cut short (a NaN must not overwrite them).
 */
export async function runEpochs(run: Run, hooks: TrainHooks, options: RunOptions): Promise<LoopEnd> {
  const { config: c, program, loop, splits, gpu } = run;
  let interrupted: string | undefined;
  let stoppedEarly = c.patience > 0 && loop.sinceBest >= c.patience;

  for (let epoch = loop.epoch + 1; epoch <= c.epochs && !interrupted && !stoppedEarly; epoch++) {
    const lr = learningRate(c, epoch);
    const started = performance.now();
    const firstStep = loop.optimizerStep + 1;
    try {
      loop.optimizerStep += program.steps.train;
      if (await program.trainEpoch(epoch, lr, firstStep, hooks, options.destroyDeviceAfterSteps)) {
        interrupted = 'stopped by the user';
        break;
      }
      const trainMs = performance.now() - started;
      const trainTotals = await program.trainTotals();
      if (!Number.isFinite(trainTotals.lossSum)) {
        interrupted = await nonFiniteLoss(run, trainTotals.lossSum, epoch, firstStep, lr);
        break;
      }
      const val = splits.val.length > 0 ? await program.evaluate('val') : null;
      const record: EpochRecord = {
        epoch,
        lr,
        trainLoss: trainTotals.lossSum / splits.train.length,
        trainAcc: trainTotals.correct / splits.train.length,
        valLoss: val ? val.lossSum / splits.val.length : null,
        valAcc: val ? val.correct / splits.val.length : null,
        ms: performance.now() - started,
      };
      if (record.valLoss !== null && !Number.isFinite(record.valLoss)) {
        interrupted = `validation loss became ${record.valLoss} after epoch ${epoch} (lr ${lr}) although every training batch's loss was finite: the last steps' updates overflowed the weights, the learning rate is probably too high; ${keptMessage(run, epoch)}`;
        break;
      }
      loop.trainMs += trainMs;
      loop.trainSamples += splits.train.length;
      loop.epoch = epoch;
      loop.history.push(record);
      hooks.onEpoch?.(record);
      const score = c.monitor === 'val_acc' ? -(record.valAcc ?? record.trainAcc) : (record.valLoss ?? record.trainLoss);
      if (loop.bestScore === null || score < loop.bestScore) {
        loop.bestScore = score;
        loop.bestEpoch = epoch;
        loop.sinceBest = 0;
        copyWeights(run, 'save');
      } else if (c.patience > 0 && ++loop.sinceBest >= c.patience) {
        stoppedEarly = true;
      }
      const every = options.checkpointEvery ?? 0;
      if (every > 0 && hooks.onCheckpoint && epoch % every === 0) await hooks.onCheckpoint(await exportRun(run), epoch);
    } catch (error) {
      interrupted = await failureReason(gpu, error);
    }
  }
  if (gpu.lostReason) interrupted = gpu.lostReason;
  if (!gpu.lostReason && loop.history.length > 0 && (c.patience > 0 || interrupted)) copyWeights(run, 'restore');
  return { ...(interrupted ? { interrupted } : {}), stoppedEarly };
}

/** A lost device rejects pending work before `lost` resolves: give it a moment to say why. */
export async function failureReason(gpu: Gpu, error: unknown): Promise<string> {
  if (!gpu.lostReason) await Promise.race([gpu.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
  return gpu.lostReason ?? (error as Error).message;
}

/** Why a run stopped on a non-finite training loss, naming the first bad step the GPU recorded. */
async function nonFiniteLoss(run: Run, lossSum: number, epoch: number, firstStep: number, lr: number): Promise<string> {
  const t = await run.program.firstBadStep();
  const where = t === NO_BAD_STEP ? `in epoch ${epoch}` : `at step ${t - firstStep + 1} of ${run.program.steps.train} in epoch ${epoch} (optimizer step ${t})`;
  return `loss became ${lossSum} ${where} with lr ${lr}: the learning rate is probably too high (the weights overflowed float32); ${keptMessage(run, epoch)}`;
}

function keptMessage(run: Run, epoch: number): string {
  return run.loop.bestEpoch > 0
    ? `epoch ${epoch} and later are not reported, and the weights of epoch ${run.loop.bestEpoch} (the best before it) are kept`
    : 'no epoch finished with a finite loss, so there are no valid weights or test results';
}

/** Keeps (or brings back) the best epoch's parameters and running statistics, GPU to GPU. */
function copyWeights(run: Run, direction: 'save' | 'restore'): void {
  const { model, best } = run;
  const encoder = run.gpu.device.createCommandEncoder({ label: `${direction} best weights` });
  const [params, state] = direction === 'save' ? [[model.params, best.params], [model.state, best.state]] : [[best.params, model.params], [best.state, model.state]];
  encoder.copyBufferToBuffer(params[0]!, 0, params[1]!, 0, model.params.size);
  encoder.copyBufferToBuffer(state[0]!, 0, state[1]!, 0, model.state.size);
  run.gpu.device.queue.submit([encoder.finish()]);
}
