import type { BrowserSession } from './browser.ts';
import { ProgressPrinter } from './progress.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { RunResult } from '../src/train/result.ts';
import type { EvaluationResult } from '../src/train/trainer.ts';
import type { RunnerOptions, RunnerFailure } from './runner.ts';
import { UsageError } from './args.ts';

/** Pages whose progress callbacks are exposed (once per page: a reopened session needs its own). */
const bound = new WeakSet<object>();

/** What Node adds to a run: checkpoint bytes to keep, and the final model when asked for. */
export interface FileOptions {
  resume?: { bytes: Uint8Array; file: string };
  checkpointEvery?: number;
  /** Called with each checkpoint (awaited before training goes on). */
  onCheckpoint?(bytes: Uint8Array, epoch: number): void;
  save?: boolean;
  destroyDeviceAfterSteps?: number;
  /** The kernels the run asks for (`--kernels`); auto when absent. */
  kernels?: KernelChoice;
}

/** A run's result, with the final model's safetensors bytes when `save` was asked (or why not). */
export type ConfigRun = RunResult & { saved?: Uint8Array; notSaved?: string };

/** Trains `config` in the session's page, printing progress; rejects with the page's error message. */
export async function runConfig(session: BrowserSession, config: TrainConfig, printer = new ProgressPrinter(), files: FileOptions = {}): Promise<ConfigRun> {
  const { page } = session;
  if (!bound.has(page)) {
    bound.add(page);
    await page.exposeFunction('wgslnnProgress', (p: Parameters<ProgressPrinter['progress']>[0]) => current?.progress(p));
    await page.exposeFunction('wgslnnEpoch', (e: Parameters<ProgressPrinter['epoch']>[0]) => current?.epoch(e, currentEpochs));
    await page.exposeFunction('wgslnnCheckpoint', (checkpoint: string, epoch: number) => currentCheckpoint?.(Buffer.from(checkpoint, 'base64'), epoch));
  }
  current = printer;
  currentEpochs = config.epochs;
  currentCheckpoint = files.onCheckpoint ?? null;
  const options: RunnerOptions = {
    checkpointEvery: files.checkpointEvery ?? 0,
    save: files.save ?? false,
    ...(files.resume ? { resume: Buffer.from(files.resume.bytes).toString('base64'), resumeFile: files.resume.file } : {}),
    ...(files.destroyDeviceAfterSteps ? { destroyDeviceAfterSteps: files.destroyDeviceAfterSteps } : {}),
    ...(files.kernels ? { kernels: files.kernels } : {}),
  };
  const result = await page.evaluate(([c, o]) => window.wgslnn.train(c, o), [config, options] as const);
  current = null;
  currentCheckpoint = null;
  throwFailure(result);
  const { saved, ...rest } = result as Exclude<typeof result, RunnerFailure>;
  return { ...rest, ...(saved ? { saved: Buffer.from(saved, 'base64') } : {}) };
}

/** Evaluates a checkpoint's model on the test set in the session's page. */
export async function evaluateInPage(session: BrowserSession, bytes: Uint8Array, file: string, kernels: KernelChoice = 'auto'): Promise<EvaluationResult> {
  const result = await session.page.evaluate(([b, f, k]) => window.wgslnn.evaluate(b, f, k), [Buffer.from(bytes).toString('base64'), file, kernels] as const);
  throwFailure(result);
  return result as EvaluationResult;
}

/** Refusals of the input (config, shapes, files, what the adapter can hold) are the user's to fix: exit 2. Anything else is a failure of the run. */
function throwFailure(result: object): void {
  if (!('error' in result)) return;
  const failure = result as RunnerFailure;
  if (['ConfigError', 'ShapeError', 'CheckpointError', 'DeviceError'].includes(failure.kind)) throw new UsageError(failure.error);
  throw new Error(failure.error);
}

let current: ProgressPrinter | null = null;
let currentEpochs = 0;
let currentCheckpoint: ((bytes: Uint8Array, epoch: number) => void) | null = null;
