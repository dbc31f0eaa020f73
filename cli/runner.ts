/**
 * The browser half of the headless commands: loads MNIST and the GPU once per page, then trains
 * whatever config Node hands it, reporting progress through functions Node exposes on `window`.
 * Checkpoints cross the page boundary as base64 strings.
 */
import { Gpu } from '../src/gpu/gpu.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import { fetchFromServer, loadMnist, type Mnist } from '../src/data/mnist.ts';
import { uploadMnist, type DeviceData } from '../src/engine/device-data.ts';
import { evaluateCheckpoint, train } from '../src/train/trainer.ts';
import type { EvaluationResult } from '../src/train/result.ts';
import type { Progress } from '../src/train/step-program.ts';
import { saveCheckpoint } from '../src/train/checkpoint.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { EpochRecord, RunResult } from '../src/train/result.ts';
import { WgslNnError } from '../src/errors.ts';

/** What Node asks of a run besides its config. */
export interface RunnerOptions {
  /** base64 of a checkpoint to resume, and its file name for messages. */
  resume?: string;
  resumeFile?: string;
  /** Send a checkpoint to `wgslnnCheckpoint` every N epochs. */
  checkpointEvery?: number;
  /** Return the final model as base64 safetensors in `saved`. */
  save?: boolean;
  /** Test-only fault injection (see RunOptions.destroyDeviceAfterSteps). */
  destroyDeviceAfterSteps?: number;
  /** Test-only: after this many chunks of training steps (one step each with logEvery 1), the run waits forever, as on a GPU that never answers. */
  stallAfterChunks?: number;
  /** The kernels to run (`--kernels`); auto when absent. */
  kernels?: KernelChoice;
}

export type RunnerFailure = { error: string; kind: string };
export type RunnerResult = RunResult & { saved?: string; notSaved?: string };

declare global {
  interface Window {
    wgslnn: {
      train(config: TrainConfig, options?: RunnerOptions): Promise<RunnerResult | RunnerFailure>;
      evaluate(checkpoint: string, file: string, kernels?: KernelChoice): Promise<EvaluationResult | RunnerFailure>;
    };
    wgslnnProgress?(progress: Progress): void;
    wgslnnEpoch?(record: EpochRecord): void;
    wgslnnCheckpoint?(checkpoint: string, epoch: number): Promise<void>;
  }
}

let ready: Promise<{ gpu: Gpu; mnist: Mnist; data: DeviceData }> | null = null;

/**
 * The page's device, made with the first run's kernel choice, and MNIST on it. A later run that asks for
 * other kernels (none of the commands does) gets a view of the same device with its own target.
 */
async function setup(kernels: KernelChoice) {
  ready ??= (async () => {
    const gpu = await Gpu.create({ kernels });
    const mnist = await loadMnist(fetchFromServer('/mnist/'));
    return { gpu, mnist, data: uploadMnist(gpu, mnist) };
  })();
  const { gpu, mnist, data } = await ready;
  return { gpu: gpu.target.choice === kernels ? gpu : gpu.withTarget(kernels), mnist, data };
}

function failure(error: unknown): RunnerFailure {
  const e = error as Error;
  return { error: e.message, kind: error instanceof WgslNnError ? e.name : 'Error' };
}

window.wgslnn = {
  async train(config, options = {}) {
    try {
      const { gpu, mnist, data } = await setup(options.kernels ?? 'auto');
      let chunks = 0;
      const stall = options.stallAfterChunks;
      const outcome = await train(
        gpu, data, mnist, config,
        {
          onProgress: (p) => window.wgslnnProgress?.(p),
          onEpoch: (e) => window.wgslnnEpoch?.(e),
          onCheckpoint: (bytes, epoch) => window.wgslnnCheckpoint?.(toBase64(bytes), epoch),
          // Asked once before each chunk is submitted.
          ...(stall ? { shouldContinue: () => ++chunks <= stall || new Promise<boolean>(() => undefined) } : {}),
        },
        {
          checkpointEvery: options.checkpointEvery ?? 0,
          ...(options.resume ? { resume: fromBase64(options.resume), resumeFile: options.resumeFile ?? 'checkpoint' } : {}),
          ...(options.destroyDeviceAfterSteps ? { destroyDeviceAfterSteps: options.destroyDeviceAfterSteps } : {}),
        },
      );
      const result: RunnerResult = outcome.result;
      if (options.save) {
        if (result.epochs.length === 0 || gpu.lostReason) {
          result.notSaved = gpu.lostReason ? `the device was lost (${gpu.lostReason})` : 'no epoch finished with valid weights';
        } else {
          const trained = { epochs: result.epochs.length, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, testAccuracy: result.test.accuracy, ...(result.interrupted ? { interrupted: result.interrupted } : {}) };
          result.saved = toBase64(await saveCheckpoint(outcome.model, config, { trained: JSON.stringify(trained) }));
        }
      }
      outcome.release();
      return result;
    } catch (error) {
      return failure(error);
    }
  },

  async evaluate(checkpoint, file, kernels = 'auto') {
    try {
      const { gpu, mnist, data } = await setup(kernels);
      return await evaluateCheckpoint(gpu, data, mnist, fromBase64(checkpoint), file);
    } catch (error) {
      return failure(error);
    }
  },
};

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
